# make graph: which module of shim/ depends on which (from the objects'
# symbols), the cycles among them and the layers, checked against
# tests/arch/allowed-cycles (tests/t_modules makes the same check in make
# check).

.PHONY: graph
graph: $(SHIM_OBJ)
	@sh tests/arch/modgraph.sh $(B)/shim tests/arch/allowed-cycles
