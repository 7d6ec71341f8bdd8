# Sourced by the shell-written checks (tests/package/check.sh,
# tests/musl/check.sh): PASS/FAIL/SKIP lines as the C tests print them, and
# the closing count. The caller sets $name and $tmp (a scratch directory).
passed=0 failed=0

# check DESCRIPTION COMMAND...: PASS if COMMAND succeeds, else FAIL and the
# last lines of its output.
check() {
    what=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then
        echo "PASS $what"
        passed=$((passed + 1))
    else
        echo "FAIL $what"
        sed 's/^/    /' "$tmp/out" | tail -20
        failed=$((failed + 1))
    fi
}

# skip REASON: the whole check skips.
skip() {
    echo "SKIP $name: $1"
    echo "$name: 0 passed, 0 failed, 1 skipped"
    exit 0
}

# done_checks: the count; the exit status says whether any failed.
done_checks() {
    echo "$name: $passed passed, $failed failed, 0 skipped"
    [ "$failed" -eq 0 ]
}
