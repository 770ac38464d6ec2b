#!/usr/bin/env bash
# Chunk benchmark: the chunk processor's parse + validate + serialise loop (release build, one
# core) on a 290,000-record CSV of about 60 MB made with a fixed seed, plain and gzip, beside
# pandas doing the same work on the same files. Prints both and the ratio; then the cost and the
# effect of gzip access points when planning a four-chunk one-member gzip file.
#
# gzip is measured twice: with Debian's zlib (what `swift build` links) and with zlib-ng's
# zlib-compat build, which is what the packaged bootstraps link (build.sh, scripts/static-zlib.sh).
#
#   bench/chunks.sh [--records N] [--repeat N]
set -euo pipefail
cd "$(dirname "$0")/.."
records=290000
repeat=5
while (($#)); do
    case "$1" in
        --records) records=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        *) echo "usage: bench/chunks.sh [--records N] [--repeat N]" >&2; exit 2 ;;
    esac
done
out=.build/bench/chunks
mkdir -p "$out"
swift build -c release --product chunk-bench >&2
bench="$(swift build -c release --show-bin-path)/chunk-bench"
"$bench" generate --records "$records" --seed 7 --out "$out/orders.csv"
"$bench" measure "$out/orders.csv" "$out/orders.csv.gz" --repeat "$repeat" --json "$out/sortie.json"

# The same benchmark linked against the bootstraps' zlib (its own scratch path: other C flags).
zlib_prefix=$(scripts/static-zlib.sh)
shipped=(-c release --scratch-path .build-bench-zlib-ng)
PKG_CONFIG_PATH="$zlib_prefix/lib/pkgconfig" swift build "${shipped[@]}" --product chunk-bench >&2
"$(PKG_CONFIG_PATH="$zlib_prefix/lib/pkgconfig" swift build "${shipped[@]}" --show-bin-path)/chunk-bench" \
    measure "$out/orders.csv.gz" --repeat "$repeat" --json "$out/sortie-shipped.json"

# Planning a one-member gzip file of 1,160,000 records (four chunks of 290,000), as the submitter
# does: with access points each chunk is fetched and inflated from just before it.
"$bench" generate --records 1160000 --seed 7 --out "$out/big.csv" >/dev/null
"$bench" plan "$out/big.csv.gz" --chunk-records 290000

if ! python3 -c 'import pandas' 2>/dev/null; then
    echo "== installing pandas for the baseline" >&2
    python3 -m pip install --quiet --disable-pip-version-check pandas >&2 ||
        { echo "pandas could not be installed: no baseline figures" >&2; exit 1; }
fi
python3 bench/chunks_pandas.py --repeat 3 --json "$out/pandas.json" "$out/orders.csv" "$out/orders.csv.gz"

python3 - "$out/sortie.json" "$out/sortie-shipped.json" "$out/pandas.json" <<'PY'
import json, sys
sortie, shipped, pandas = (json.load(open(path)) for path in sys.argv[1:4])
baseline = {theirs["compressed"]: theirs for theirs in pandas}
print(f"{'input':26} {'sortie s CPU':>12} {'records/s':>11} {'MB/s':>7} {'pandas s CPU':>13} {'records/s':>10} {'speed-up':>9}")
for mine in sortie + shipped:
    theirs = baseline[mine["compressed"]]
    label = f"gzip, zlib {mine['zlib']}" if mine["compressed"] else "plain"
    megabytes = mine["decompressedBytes"] / 1e6
    print(f"{label:26} {mine['cpuSeconds']:12.3f} {mine['records'] / mine['cpuSeconds']:11.0f} "
          f"{megabytes / mine['cpuSeconds']:7.1f} {theirs['cpuSeconds']:13.3f} {theirs['records'] / theirs['cpuSeconds']:10.0f} "
          f"{theirs['cpuSeconds'] / mine['cpuSeconds']:8.1f}x")
PY
