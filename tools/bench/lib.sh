# shellcheck shell=sh disable=SC2154
# The shell pieces of the benchmark scripts (run.sh, servers.sh), sourced
# from the top of the source tree. The caller sets results (the markdown
# file say appends to); this sets ns (how to get a private network
# namespace), tmp (a directory removed at exit) and machine (one line on
# the machine), and defines the helpers below. (SC2154: results is the
# caller's.)

if unshare -rn true 2>/dev/null; then
    ns="unshare -rn"
elif unshare -n true 2>/dev/null; then
    ns="unshare -n"
else
    echo "bench: needs a network namespace (unshare -rn, or unshare -n as root)" >&2
    exit 2
fi
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# Output goes to the terminal and to results.md.
say() { printf '%s\n' "$*" | tee -a "$results"; }
# A network run: COMMAND... in a fresh namespace with lo up. The command
# is logged as it would be typed inside such a namespace (the temporary
# directory shown as TMP).
in_ns() {
    printf '    %s\n' "$*" >>"$tmp/commands"
    # shellcheck disable=SC2086 # ns is a command and its option
    timeout 300 $ns sh -c 'ip link set lo up && exec "$@"' sh "$@"
}
commands() {
    say ""
    say "Commands (each run as \`$ns sh -c 'ip link set lo up && exec \"\$@\"' sh COMMAND\`):"
    say ""
    awk '!seen[$0]++' "$tmp/commands" | sed "s|$tmp|TMP|g" | tee -a "$results"
    : >"$tmp/commands"
}
# val KEY LINE: the value of KEY=... in a line of results
val() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
# Arithmetic and formatting on decimals.
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
# met|not met for a condition on decimals
verdict() { awk "BEGIN { print (($1) ? \"met\" : \"not met\") }"; }

# repeat N FUNCTION: rounds of runs, the modes alternating within each
repeat() {
    r=0
    while [ "$r" -lt "$1" ]; do
        r=$((r + 1))
        "$2"
    done
}

machine="Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1),"
machine="$machine Linux $(uname -r), $(getconf GNU_LIBC_VERSION 2>/dev/null || echo 'glibc ?')."
: >"$tmp/commands"
