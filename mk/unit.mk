# Unit tests of the library's pure modules: the test links the module
# itself, no preloading (the decision of every close: shim/decide.c).
$(B)/tests/t_decide: tests/t_decide.c shim/decide.c $(wildcard shim/*.h) $(TESTLIB) tests/harness.h | $(B)/tests
	$(CC) $(PROG_CFLAGS) $(PROG_LDFLAGS) -Ishim -o $@ tests/t_decide.c shim/decide.c $(TESTLIB)

# The "unit" field's parse of /proc/self/cgroup (shim/cgroup_unit.c).
$(B)/tests/t_cgroup_unit: tests/t_cgroup_unit.c shim/cgroup_unit.c shim/cgroup_unit.h $(TESTLIB) tests/harness.h | $(B)/tests
	$(CC) $(PROG_CFLAGS) $(PROG_LDFLAGS) -Ishim -o $@ tests/t_cgroup_unit.c shim/cgroup_unit.c $(TESTLIB)
