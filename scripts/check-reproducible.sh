#!/usr/bin/env bash
# Proves that ./build.sh is reproducible: builds every function a second time, from nothing and
# somewhere else, and compares the SHA-256 of every artifact with those in dist/.
#
#   ./build.sh && scripts/check-reproducible.sh
#
# The second build runs in a copy of the work tree at another path (tracked and untracked files
# that git does not ignore, plus Package.resolved so the same dependency versions are used), with
# a new scratch path: every module is compiled again, every product linked again, every bootstrap
# stripped, normalised and zipped again. Only the static libcurl is shared (it is keyed by its
# inputs; see scripts/static-curl.sh). Equal hashes mean two checkouts of one commit give
# byte-identical zips.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -f dist/SHA256SUMS ]] || { echo "check-reproducible: no dist/SHA256SUMS; run ./build.sh first" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sortie-repro-XXXXXX")
trap 'rm -rf "$work"' EXIT
copy="$work/sortie"
mkdir -p "$copy"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' path; do
    [[ -e "$path" ]] && printf '%s\0' "$path"
done | tar --null -T - -cf - | tar -xf - -C "$copy"
[[ -f Package.resolved ]] && cp Package.resolved "$copy/"

echo "== second build in $copy" >&2
started=$(date +%s)
(cd "$copy" && ./build.sh --scratch-path .build-static --dist "$work/dist") >"$work/build.log" 2>&1 || {
    tail -n 40 "$work/build.log" >&2
    echo "check-reproducible: the second build failed (log above)" >&2
    exit 1
}
echo "   took $(($(date +%s) - started)) s" >&2

status=0
while read -r sum name; do
    first=$(awk -v n="$name" '$2 == n { print $1 }' dist/SHA256SUMS)
    if [[ -z "$first" ]]; then
        echo "MISSING  $name: built now, but not in dist/ (run ./build.sh for every function first)"
        status=1
    elif [[ "$first" != "$sum" ]]; then
        echo "DIFFERS  $name: dist/ has $first, the second build $sum"
        status=1
    else
        echo "same     $name  $sum"
    fi
done <"$work/dist/SHA256SUMS"
[[ -s "$work/dist/SHA256SUMS" ]] || { echo "check-reproducible: the second build produced nothing" >&2; status=1; }

if ((status)); then
    echo "check-reproducible: FAILED: the builds differ" >&2
    for zip in "$work"/dist/*.zip; do
        name=$(basename "$zip")
        [[ -f "dist/$name" ]] && ! cmp -s "$zip" "dist/$name" && cmp -l "$zip" "dist/$name" | head -n 5 >&2
    done
    exit 1
fi
echo "check-reproducible: OK: $(wc -l <"$work/dist/SHA256SUMS") artifact(s) byte-identical across two builds"
