#!/usr/bin/env bash
# Runtime benchmark, side by side in one run: Sortie's echo (the packaged static bootstrap when
# dist/echo.zip exists, and the release build) beside a peer runtime's echo doing the same work,
# and the init of every packaged real function; then the echoes' init once more, timed by a
# blocking C listener rather than the SwiftNIO Runtime API (bench/baseline/init_timer.c).
#
#   bench/runtime.sh                                         the peer is the C runtime on libcurl (bench/baseline)
#   bench/runtime.sh --peer ../shared/peers/aws-lambda-cpp-echo   another runtime's echo as the peer
#   CONCURRENCY=1 bench/runtime.sh --invocations 20000      options after --peer go to runtime-bench
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/bench
mkdir -p "$out"
peer=
if [[ "${1:-}" == --peer ]]; then
    peer=$(realpath "$2")
    shift 2
fi
swift build -c release --product echo
swift build -c release --product runtime-bench
functions=()
if [ -f dist/echo.zip ]; then
    rm -rf "$out/echo-zip" && mkdir -p "$out/echo-zip" && unzip -q dist/echo.zip -d "$out/echo-zip"
    functions+=(--function "echo-static=$out/echo-zip/bootstrap")
fi
if [[ -n "$peer" ]]; then
    functions+=(--function "peer=$peer")
else
    cc -O2 -o "$out/c-runtime" bench/baseline/c_runtime.c -lcurl
    functions+=(--function "c-libcurl=$out/c-runtime")
fi
functions+=(--function "sortie-echo=$(swift build -c release --show-bin-path)/echo")
# The real functions' init (packaged bootstraps), each with its definition's environment.
for name in launcher retry-reactor s3-submitter chunk-processor; do
    [ -f "dist/$name.zip" ] || continue
    rm -rf "$out/$name-zip" && mkdir -p "$out/$name-zip" && unzip -q "dist/$name.zip" -d "$out/$name-zip"
    functions+=(--init-only "$name=$out/$name-zip/bootstrap@functions/$name.json")
done
"$(swift build -c release --show-bin-path)/runtime-bench" "${functions[@]}" \
    --concurrency "${CONCURRENCY:-1,2,4}" --invocations 20000 "$@"
# Init again without an event loop in the measure: a blocking listener in C (bench/baseline/init_timer.c).
cc -O2 -o "$out/init-timer" bench/baseline/init_timer.c
starts=()
[ -f "$out/echo-zip/bootstrap" ] && starts+=("echo-static=$out/echo-zip/bootstrap")
if [[ -n "$peer" ]]; then starts+=("peer=$peer"); else starts+=("c-libcurl=$out/c-runtime"); fi
"$out/init-timer" 41 "${starts[@]}"
