#!/bin/sh
# The module graph of shim/: module A depends on module B when A's object
# refers to a symbol B's object defines (nm: undefined against defined
# globals, so the graph is exact for calls and shared data; what a header
# holds inline or as a macro belongs to no object and is not counted).
#
# Prints each module's dependencies, the cycles (strongly connected
# components of more than one module, with the references that close them)
# and the layers: a module depends only on modules of lower layers, or of
# its own cycle. With ALLOWED, a file of the cycles that may still exist
# (one per line, its modules sorted and separated by spaces; "#" starts a
# comment), it also checks: any other cycle fails, and so does a listed
# cycle that no longer exists (the list only shrinks).
#
# usage: modgraph.sh OBJECT_DIR [ALLOWED]
objdir=${1:?usage: modgraph.sh OBJECT_DIR [ALLOWED]}
allowed=${2:-}
set -- "$objdir"/*.o
[ -e "$1" ] || { echo "modgraph: no objects in $objdir" >&2; exit 2; }

nm -A -g "$@" | awk -v allowed="$allowed" '
function module(path) {
    sub(/:.*/, "", path)
    sub(/.*\//, "", path)
    sub(/\.o$/, "", path)
    return path
}
# Tarjan: index[], low[], on[] and the stack give each module its
# component, comp[m] (numbered in the order components complete).
function visit(v,    w, i) {
    idx[v] = low[v] = ++counter
    stack[++sp] = v
    on[v] = 1
    for (i = 1; i <= nout[v]; i++) {
        w = out[v, i]
        if (!(w in idx)) {
            visit(w)
            if (low[w] < low[v]) low[v] = low[w]
        } else if (on[w] && idx[w] < low[v]) {
            low[v] = idx[w]
        }
    }
    if (low[v] == idx[v]) {
        ncomp++
        do {
            w = stack[sp--]
            on[w] = 0
            comp[w] = ncomp
            size[ncomp]++
        } while (w != v)
    }
}
# A component s layer: 0 with no dependency outside itself, else one more
# than its highest dependency.
function layer_of(c,    m, i, l, best) {
    if (c in layer) return layer[c]
    best = 0
    for (m in comp) {
        if (comp[m] != c) continue
        for (i = 1; i <= nout[m]; i++)
            if (comp[out[m, i]] != c) {
                l = layer_of(comp[out[m, i]]) + 1
                if (l > best) best = l
            }
    }
    return layer[c] = best
}
function sorted_words(s,    n, a, i, j, t, r) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    r = ""
    for (i = 1; i <= n; i++) r = r (i > 1 ? " " : "") a[i]
    return r
}
{
    m = module($1)
    mods[m] = 1
    if ($2 == "U") refs[m, $3] = 1
    else if (NF >= 3) def[$NF] = m
}
END {
    # Edges, each with the symbols that make it.
    for (key in refs) {
        split(key, k, SUBSEP)
        if (!(k[2] in def) || def[k[2]] == k[1]) continue
        e = k[1] SUBSEP def[k[2]]
        if (!(e in why)) { out[k[1], ++nout[k[1]]] = def[k[2]]; why[e] = k[2] }
        else why[e] = why[e] " " k[2]
    }
    # Each list in name order, so that the output is the same on every awk.
    for (m in nout)
        for (i = 2; i <= nout[m]; i++)
            for (j = i; j > 1 && out[m, j - 1] > out[m, j]; j--) {
                t = out[m, j]; out[m, j] = out[m, j - 1]; out[m, j - 1] = t
            }
    names = ""
    for (m in mods) names = names " " m
    names = sorted_words(names)
    nmods = split(names, order, " ")

    print "Modules of shim/ and what each depends on:"
    for (i = 1; i <= nmods; i++) {
        m = order[i]
        deps = ""
        for (j = 1; j <= nout[m]; j++) deps = deps " " out[m, j]
        printf "  %-16s -> %s\n", m, deps == "" ? "(nothing)" : substr(deps, 2)
    }

    for (i = 1; i <= nmods; i++) if (!(order[i] in idx)) visit(order[i])

    print ""
    print "Cycles (modules that depend on each other, and the references inside):"
    ncycles = 0
    for (c = 1; c <= ncomp; c++) {
        if (size[c] < 2) continue
        members = ""
        for (i = 1; i <= nmods; i++) if (comp[order[i]] == c) members = members " " order[i]
        members = sorted_words(members)
        cycle[++ncycles] = members
        print "  " members
        for (i = 1; i <= nmods; i++) {
            m = order[i]
            if (comp[m] != c) continue
            for (j = 1; j <= nout[m]; j++)
                if (comp[out[m, j]] == c)
                    printf "    %s -> %s: %s\n", m, out[m, j], sorted_words(why[m SUBSEP out[m, j]])
        }
    }
    if (!ncycles) print "  none"

    print ""
    print "Layers, top down (a module depends only on lower layers or its own cycle):"
    top = 0
    for (i = 1; i <= nmods; i++) {
        l = layer_of(comp[order[i]])
        at[l] = at[l] " " (size[comp[order[i]]] > 1 ? "[" order[i] "]" : order[i])
        if (l > top) top = l
    }
    for (l = top; l >= 0; l--) printf "  %2d: %s\n", l, substr(at[l], 2)
    if (ncycles) print "  ([name]: part of a cycle)"

    if (allowed == "") exit 0
    status = 0
    while ((getline line < allowed) > 0) {
        if (line ~ /^#/ || line ~ /^[ \t]*$/) continue
        ok[sorted_words(line)] = 1
    }
    print ""
    for (i = 1; i <= ncycles; i++) {
        if (cycle[i] in ok) { delete ok[cycle[i]]; continue }
        print "NEW CYCLE (not in " allowed "): " cycle[i]
        status = 1
    }
    for (line in ok) {
        print "GONE (remove it from " allowed "): " line
        status = 1
    }
    if (!status) print "Cycles as listed in " allowed ": " ncycles
    exit status
}'
