#!/usr/bin/env bash
# Builds zlib-ng in zlib-compat mode as a static libz.a, once, and prints the install prefix on
# stdout (its last line).
#
# Why: the chunk processor's gzip input goes through zlib's API (Sources/CZlib). zlib-ng built
# with --zlib-compat is that same API and format, with an inflate about 2.5x faster than Debian's
# zlib 1.2.13 on this machine (bench/chunks.sh prints both). It picks SSE2 … AVX-512 code at run
# time from CPUID, so one binary runs on every x86_64 Lambda host. The bootstraps link it
# (build.sh); `swift build` and `swift test` keep the system's zlib — the code is the same.
#
# The source is zlib-ng as vendored in the `zlib-ng` Python package's sdist on PyPI, pinned by
# version and SHA-256. The result is cached in ${SORTIE_CACHE_DIR:-~/.cache/sortie}/static-zlib/<key>/,
# where <key> hashes every input (source digest, configure flags, compiler, recipe).
#
#   scripts/static-zlib.sh            build if needed, print the prefix
#   scripts/static-zlib.sh --key      print the cache key only
set -euo pipefail

# log, die, CACHE_ROOT, cache_enter and cache_commit.
source "$(dirname "$0")/build-cache.sh"
# Bump when the recipe below changes in a way the key would not see.
RECIPE=2
PACKAGE_VERSION=1.1.0
SDIST=zlib_ng-$PACKAGE_VERSION.tar.gz
SDIST_SHA256=08a3a8468d4f130e3dc80d28ec42fcc7a878a57dfed616233e791066327d78a3
CONFIGURE_FLAGS=(--zlib-compat --static --without-gzfileops)

case "${1:-}" in
    --key | "") ;;
    *) die "usage: $0 [--key]" ;;
esac
command -v cc >/dev/null && command -v make >/dev/null || die "needs a C compiler and make"
KEY="zlib-ng-$({
    echo "recipe $RECIPE"
    echo "sdist $SDIST $SDIST_SHA256"
    echo "configure ${CONFIGURE_FLAGS[*]}"
    echo "cc $(cc --version | head -n 1)"
    echo "arch $(uname -m)"
} | sha256sum | cut -c1-16)"
if [[ "${1:-}" == --key ]]; then echo "$KEY"; exit 0; fi
cache_enter "$KEY"
started=$(date +%s)
log "building $SDIST's zlib-ng (key $KEY) in $WORK"
python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: --dest "$WORK" \
    "zlib-ng==$PACKAGE_VERSION" >&2 || true
[[ -f "$WORK/$SDIST" ]] || die "pip download of the zlib-ng $PACKAGE_VERSION sdist fetched nothing"
echo "$SDIST_SHA256  $WORK/$SDIST" | sha256sum --check --status || die "$SDIST does not have the pinned SHA-256"
tar -xzf "$WORK/$SDIST" -C "$WORK"
cd "$WORK/${SDIST%.tar.gz}/src/zlib_ng/zlib-ng"

dest="$WORK/dest"
CFLAGS="-O2 -g0" ./configure --prefix="$PREFIX" "${CONFIGURE_FLAGS[@]}" >"$WORK/configure.log" 2>&1 \
    || { tail -n 40 "$WORK/configure.log" >&2; die "configure failed (log above)"; }
make -j"$(nproc 2>/dev/null || echo 2)" libz.a >"$WORK/make.log" 2>&1 || { tail -n 40 "$WORK/make.log" >&2; die "make failed (log above)"; }
install -D -m 0644 libz.a "$dest/lib/libz.a"
install -D -m 0644 zlib.h "$dest/include/zlib.h"
install -D -m 0644 zconf.h "$dest/include/zconf.h"
install -D -m 0644 zlib_name_mangling.h "$dest/include/zlib_name_mangling.h"
version=$(sed -n 's/^#define ZLIBNG_VERSION "\(.*\)"/\1/p' zlib.h)
[[ -n "$version" ]] || die "no ZLIBNG_VERSION in the built zlib.h"
# For a dynamic `swift build` that should link it anyway (bench/chunks.sh): one folder, .a only.
mkdir -p "$dest/lib/pkgconfig"
printf 'Name: zlib\nDescription: zlib-ng %s, zlib-compat, static\nVersion: %s\nLibs: -L%s/lib -lz\nCflags: -I%s/include\n' \
    "$version" "$version" "$PREFIX" "$PREFIX" >"$dest/lib/pkgconfig/zlib.pc"
{
    echo "zlib-ng $version (from PyPI $SDIST, sha256 $SDIST_SHA256)"
    echo "configure ${CONFIGURE_FLAGS[*]}"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - started )) s"
} >"$dest/BUILD-INFO"
cache_commit "$dest"
log "built zlib-ng $version in $(( $(date +%s) - started )) s: $PREFIX"
echo "$PREFIX"
