#!/usr/bin/env bash
# Runs test suites on the packaged bootstraps instead of the debug builds: each dist/<fn>.zip is
# unzipped and the suites' functions are started from there (SORTIE_PRODUCTS_DIR). What ships
# differs from `swift build`'s products in ways tests should see: fully static, release, and
# linked against zlib-ng's zlib-compat build instead of Debian's zlib.
#
#   scripts/test-packaged.sh [swift test options, e.g. --filter ChunkProcessingTests]
set -euo pipefail
cd "$(dirname "$0")/.."
products=.build/packaged-products
rm -rf "$products"
mkdir -p "$products"
shopt -s nullglob
zips=(dist/*.zip)
((${#zips[@]})) || { echo "test-packaged: no dist/*.zip: run ./build.sh first" >&2; exit 1; }
for zip in "${zips[@]}"; do
    name=$(basename "$zip" .zip)
    unzip -q "$zip" bootstrap -d "$products/.$name"
    ln -s ".$name/bootstrap" "$products/$name"
done
# Bare binaries (the on-instance runner) ship as they are; copied, as the runner looks for
# `sortie` beside its own path.
for binary in dist/*; do
    [[ -f "$binary" && -x "$binary" && "$binary" != *.zip ]] && cp "$binary" "$products/"
done
# The CLI and test helpers are not packaged: the debug builds stand in for them.
for tool in .build/debug/*; do
    name=$(basename "$tool")
    [[ -f "$tool" && -x "$tool" && ! -e "$products/$name" ]] && ln -s "$(pwd)/$tool" "$products/$name"
done
swift build --build-tests
SORTIE_PRODUCTS_DIR="$(pwd)/$products" swift test --skip-build "$@"
