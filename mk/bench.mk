# make bench: the benchmark suite (tools/bench/, results and the commands
# that produced them in docs/PERFORMANCE.md). Benchmarks are not tests: they
# are built and run only here, never by "make" or "make check".

BENCH_PROGS = $(B)/bench/close-cost $(B)/bench/server $(B)/bench/client

.PHONY: bench
bench: $(B)/libnorst.so $(BENCH_PROGS)
	sh tools/bench/run.sh $(B)

$(BENCH_PROGS): $(B)/bench/%: tools/bench/%.c tools/bench/bench.c tools/bench/bench.h | $(B)/bench
	$(CC) $(PROG_CFLAGS) $(PROG_LDFLAGS) -o $@ $< tools/bench/bench.c -pthread

$(B)/bench:
	mkdir -p $@
