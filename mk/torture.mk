# The differential torture test (tests/torture/): the driver, which runs
# tests/progs/tortured without and with the library. make check runs a
# fixed list of seeds through tests/t_torture; check-torture runs random
# seeds for TORTURE_SECONDS (part of check-full).

TORTURE = $(B)/tests/torture/torture
TORTURE_SRC = $(wildcard tests/torture/*.c)
TORTURE_SECONDS = 180
CHECK_EXTRA += $(TORTURE)

TORTURE_OBJ = $(TORTURE_SRC:tests/torture/%.c=$(B)/tests/torture/%.o)

$(B)/tests/torture/%.o: tests/torture/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(TORTURE): $(TORTURE_OBJ)
	$(CC) $(PROG_CFLAGS) $(PROG_LDFLAGS) -o $@ $(TORTURE_OBJ)

.PHONY: check-torture
check-torture: all $(TORTURE) $(B)/tests/progs/tortured
	@ns="unshare -rn"; unshare -rn true 2>/dev/null || ns="unshare -n"; \
	cd $(B) && $$ns sh -c 'ip link set lo up && exec ./tests/torture/torture -t $(TORTURE_SECONDS)'
