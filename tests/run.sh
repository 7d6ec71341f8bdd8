#!/bin/sh
# Runs every test program, each in a network namespace of its own, so the
# kernel's TCP counters it reads are its own. Prints the cases and ends with
# "N passed, N failed"; exits non-zero if anything failed.
build=${1:-build}
cd "$build" || exit 2

if unshare -rn true 2>/dev/null; then
    ns="unshare -rn"
elif unshare -n true 2>/dev/null; then
    ns="unshare -n"
else
    echo "tests need network namespaces (unshare -rn or, as root, unshare -n)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

# eBPF needs root in the initial user namespace: t_trace runs with
# "unshare -n" when this runs as root (and skips, saying why, otherwise).
root_ns="$ns"
[ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null && root_ns="unshare -n"

# Pages of live counters (NORST_STATUS_DIR) in a directory of this run's
# own: servers the tests kill leave theirs behind, as SIGKILL does.
status_dir=$(mktemp -d /tmp/norst-status-run-XXXXXX) || exit 2
trap 'rm -rf "$status_dir"' EXIT
export NORST_STATUS_DIR="$status_dir"

passed=0
failed=0
skipped=0
for test in tests/t_*; do
    [ -x "$test" ] || continue
    name=${test#tests/}
    test_ns=$ns
    [ "$name" = t_trace ] && test_ns=$root_ns
    out=$(timeout 300 $test_ns sh -c 'ip link set lo up && exec "$0"' "./$test" 2>&1)
    status=$?
    printf '%s\n' "$out" | sed "s|^|$name: |"
    p=$(printf '%s\n' "$out" | grep -c '^PASS ')
    f=$(printf '%s\n' "$out" | grep -c '^FAIL ')
    s=$(printf '%s\n' "$out" | grep -c '^SKIP ')
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$name: FAIL (exit status $status)"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
