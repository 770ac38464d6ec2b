#!/usr/bin/env bash
# Fuzzing: every decoder fed by the outside world (bench/FuzzTargets: the functions' events and
# payloads, the feeds document, CSV/TSV/JSON Lines scanning and the record loop, gzip and its
# access points, YAML specs, AWS XML/JSON bodies, DynamoDB items, IMDS credentials) under
# libFuzzer (`-sanitize=fuzzer`, its own scratch path), each for a fixed number of executions
# from its seeds. A crash, a failed invariant, a hang (over --timeout seconds for one input) or
# memory over --rss-mb is a finding: its input is kept under .build/bench/fuzz/<target>/ and the
# script exits 1. Prints executions, executions per second, coverage and findings per target.
#
#   bench/fuzz.sh [--runs N] [--targets a,b] [--timeout S] [--rss-mb M] [--max-len BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=100000
targets=""
timeout=10
rss=2048
max_len=65536
while (($#)); do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --targets) targets=${2//,/ }; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --rss-mb) rss=$2; shift 2 ;;
        --max-len) max_len=$2; shift 2 ;;
        *) echo "usage: bench/fuzz.sh [--runs N] [--targets a,b] [--timeout S] [--rss-mb M] [--max-len BYTES]" >&2; exit 2 ;;
    esac
done
# lld: gold cannot link the instrumented objects' debug info.
flags=(-c release --scratch-path .build-fuzz --product sortie-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xswiftc -use-ld=lld)
swift build "${flags[@]}" >&2
fuzz="$(swift build "${flags[@]}" --show-bin-path)/sortie-fuzz"
[ -n "$targets" ] || targets=$("$fuzz" list | cut -f1)
out=.build/bench/fuzz
findings=0
printf '%-18s %12s %10s %8s %8s %s\n' target executions exec/s cov corpus findings
for target in $targets; do
    dir="$out/$target"
    rm -rf "$dir"; mkdir -p "$dir/corpus" "$dir/seeds" "$dir/findings"
    "$fuzz" seeds "$target" "$dir/seeds"
    status=0
    started=$(date +%s%N)
    # Swift's own backtracer would take the crash from libFuzzer, which then keeps no input.
    SWIFT_BACKTRACE=enable=no SORTIE_FUZZ_TARGET=$target "$fuzz" -runs="$runs" -seed=1 -timeout="$timeout" \
        -rss_limit_mb="$rss" -malloc_limit_mb="$rss" -max_len="$max_len" -artifact_prefix="$dir/findings/" \
        -print_final_stats=1 "$dir/corpus" "$dir/seeds" >"$dir/log" 2>&1 || status=$?
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
    # libFuzzer's own rate is per whole second (0 for a run under one): timed here instead.
    elapsed_ns=$(($(date +%s%N) - started))
    seconds=$(( ${executions:-0} * 1000000000 / (elapsed_ns > 0 ? elapsed_ns : 1) ))
    coverage=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
    corpus=$(find "$dir/corpus" -type f | wc -l)
    found=$(find "$dir/findings" -type f | wc -l)
    if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
        findings=$((findings + 1))
        summary="$(grep -m1 -E 'ERROR: libFuzzer|Fatal error|Precondition failed|SUMMARY' "$dir/log" || echo "exit $status") (see $dir/log, input in $dir/findings/)"
    else
        summary=none
    fi
    printf '%-18s %12s %10s %8s %8s %s\n' "$target" "${executions:-?}" "${seconds:-?}" "${coverage:-?}" "$corpus" "$summary"
done
echo "fuzzed: $(wc -w <<<"$targets") targets, $runs executions each, $findings with findings"
[ "$findings" -eq 0 ]
