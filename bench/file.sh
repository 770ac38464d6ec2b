#!/usr/bin/env bash
# `sortie file` on a file of many chunks (default 10,000) against `sortie dev`: starts sortie dev,
# seeds the file through FileStore, times `sortie file ID` and `--json`, counts their DynamoDB
# requests; stops sortie dev.
#
#   bench/file.sh [--chunks 10000] [--done 20] [--runs 5]     (CONFIGURATION=debug to use the debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
configuration="${CONFIGURATION:-release}"
swift build -c "$configuration" >&2   # sortie dev runs every function's product, from beside sortie
bin="$(swift build -c "$configuration" --show-bin-path)"
log="$(mktemp)"
"$bin/sortie" dev --quiet >"$log" 2>"$log.err" &
dev=$!
trap 'kill -INT "$dev" 2>/dev/null; wait "$dev" 2>/dev/null || true; rm -f "$log" "$log.err"' EXIT
for _ in $(seq 1 240); do
    grep -q "export SORTIE_TABLE=" "$log" && break
    kill -0 "$dev" 2>/dev/null || { cat "$log.err" >&2; exit 1; }
    sleep 0.5
done
eval "$(grep -E "^ +export " "$log")"
"$bin/file-bench" --sortie "$bin/sortie" "$@"
