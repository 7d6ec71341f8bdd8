# make bench: the benchmark suite (tools/bench/, results and the commands
# that produced them in docs/PERFORMANCE.md). Benchmarks are not tests: they
# are built and run only here, never by "make" or "make check".

BENCH_PROGS = $(B)/bench/close-cost $(B)/bench/event-cost $(B)/bench/server $(B)/bench/client \
              $(B)/bench/pingload $(B)/bench/httpload

.PHONY: bench bench-servers bench-report bench-trace
bench: $(B)/libnorst.so $(BENCH_PROGS)
	sh tools/bench/run.sh $(B)

# norst report on a generated 1 GB JSON log (SIZE_MB=...): MB/s and memory.
bench-report: $(B)/norst
	sh tools/bench/report.sh $(B)

# What norst trace costs the connection-per-request runs (root, bpftrace).
bench-trace: $(B)/norst $(B)/bench/server $(B)/bench/client
	sh tools/bench/trace.sh $(B)

# Only the real servers' sections (redis-server, nginx), about 2.5 minutes.
bench-servers: $(B)/libnorst.so $(BENCH_PROGS)
	sh tools/bench/servers.sh $(B)

$(BENCH_PROGS): $(B)/bench/%: tools/bench/%.c $(B)/bench/bench.o | $(B)/bench
	$(CC) $(PROG_CFLAGS) $(DEPFLAGS_PROG) $(PROG_LDFLAGS) -o $@ $< $(B)/bench/bench.o -pthread

$(B)/bench/bench.o: tools/bench/bench.c | $(B)/bench
	$(CC) $(PROG_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/bench:
	mkdir -p $@
