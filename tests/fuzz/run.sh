#!/bin/sh
# make check-fuzz: runs a libFuzzer target for SECONDS from the seed corpus
# (never written to: new inputs go to WORK/corpus, started empty each time),
# with the dictionary. Fails on any crash, sanitizer report or failed check
# of the target (the input is then in WORK/crash-*, and rerunning the target
# on that file reproduces it). Ends with a summary line of the figures.
#
# usage: run.sh FUZZER SECONDS SEED_CORPUS DICT WORK
fuzzer=${1:?usage: run.sh FUZZER SECONDS SEED_CORPUS DICT WORK}
seconds=${2:?} seeds=${3:?} dict=${4:?} work=${5:?}

rm -rf "$work/corpus" "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
mkdir -p "$work/corpus" || exit 2
log=$work/fuzz.log
"$fuzzer" -max_total_time="$seconds" -dict="$dict" -artifact_prefix="$work/" \
    -print_final_stats=1 "$work/corpus" "$seeds" >"$log" 2>&1
status=$?
name=$(basename "$fuzzer")
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
added=$(sed -n 's/^stat::new_units_added: *//p' "$log")
final=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*')
if [ $status -ne 0 ] || ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* >/dev/null 2>&1; then
    tail -n 80 "$log"
    echo "$name: FAILED (exit status $status) after ${runs:-?} executions; input saved in $work/"
    exit 1
fi
echo "$name: ${runs} executions in ${seconds} s (${rate}/s), $(ls "$seeds" | wc -l) seed inputs, ${added} new, ${final}, no crash"
