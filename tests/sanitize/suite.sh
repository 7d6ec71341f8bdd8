#!/bin/sh
# make check-asan / check-tsan: runs tests/run.sh against a sanitized build
# and fails on any sanitizer report or any failed test case.
#
# The make targets point each runtime's log_path into REPORT_DIR, so every
# report of every process of the suite (drivers, programs under test, their
# children, interpreters the shim is preloaded into) lands there as a file,
# whether or not the test that started the process noticed it. KNOWN_FAILURES lists, one
# per line ("#" starts a comment), test cases that cannot pass under this
# sanitizer however correct the library is, with the reason; any other
# failed case fails the run.
#
# usage: suite.sh NAME BUILD_DIR REPORT_DIR [KNOWN_FAILURES]
# Ends with "NAME: N passed, N failed (N known), N sanitizer reports".
name=${1:?usage: suite.sh NAME BUILD_DIR REPORT_DIR [KNOWN_FAILURES]}
build=${2:?} reports=${3:?} known=${4:-/dev/null}
tests=$(cd "$(dirname "$0")/.." && pwd)

rm -rf "$reports" && mkdir -p "$reports" || exit 2
log=$reports.log
# The runner's own closing line is shown prefixed: the line that counts is
# this script's last one, where the known failures are taken out.
sh "$tests/run.sh" "$build" >"$log" 2>&1
sed '$s/^/tests\/run.sh said: /' "$log"

# run.sh ends with "N passed, N failed, N skipped"; the failed ones that
# are in the known list do not count.
summary=$(tail -n 1 "$log")
case $summary in
*" passed, "*" failed, "*" skipped") ;;
*) echo "$name: tests/run.sh did not finish"; exit 1 ;;
esac
passed=${summary%% passed,*}
failed=${summary##*passed, }
failed=${failed%% failed,*}
skipped=${summary##*failed, }
skipped=${skipped%% skipped}
expected=$(awk -v known="$known" '
    BEGIN { while ((getline line < known) > 0) if (line !~ /^#/ && line != "") k[line] = 1 }
    /^t_[a-z0-9_]+: FAIL/ && ($0 in k) { n++ }
    END { print n + 0 }' "$log")
failures=$((failed - expected))

count=0
for f in "$reports"/*; do
    [ -s "$f" ] || continue
    count=$((count + 1))
    echo "---- sanitizer report $f"
    cat "$f"
done
echo "$name: $passed passed, $failures failed ($expected known), $skipped skipped, $count sanitizer reports"
[ "$failures" -eq 0 ] && [ "$count" -eq 0 ]
