#!/usr/bin/env bash
# Runtime benchmark: Sortie's echo (release build, and the packaged static bootstrap when
# dist/echo.zip exists) beside a C runtime on libcurl doing the same work.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/bench
mkdir -p "$out"
swift build -c release --product echo
swift build -c release --product runtime-bench
cc -O2 -o "$out/c-runtime" bench/baseline/c_runtime.c -lcurl
functions=(--function "sortie-echo=$(swift build -c release --show-bin-path)/echo" --function "c-libcurl=$out/c-runtime")
if [ -f dist/echo.zip ]; then
  rm -rf "$out/echo-zip" && mkdir -p "$out/echo-zip" && unzip -q dist/echo.zip -d "$out/echo-zip"
  functions+=(--function "echo-static=$out/echo-zip/bootstrap")
fi
"$(swift build -c release --show-bin-path)/runtime-bench" "${functions[@]}" --concurrency "${CONCURRENCY:-1,2,4}" "$@"
