#!/usr/bin/env bash
# Packages Sortie's functions for Lambda's provided.al2023: one fully static, stripped `bootstrap`
# per function, in a reproducible dist/<function>.zip.
#
#   ./build.sh                    every definition in functions/
#   ./build.sh echo [...]         only these
#   ./build.sh --scratch-path DIR --dist DIR [...]
#                                 build somewhere else (scripts/check-reproducible.sh does)
#
# Why static: a binary linked here against glibc 2.36 can fail on Amazon Linux 2023 (glibc 2.34)
# on a missing symbol version or a missing .so. This script is the one place where products are
# linked statically; `swift build` and `swift test` keep the system's dynamic libcurl.
#
# Each bootstrap must pass, before it is zipped: static (`file`, `ldd`, no PT_INTERP), runs
# (`bootstrap --version` prints "<product> <version>" and exits 0 with no Runtime API), and its zip
# fits the budget (maxZipBytes in the definition, 8 MB by default). The first failure stops the
# build and says which function and why.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")" && pwd)
cd "$ROOT"

SCRATCH=.build-static
DIST=dist
NAMES=()
while (($#)); do
    case "$1" in
        --scratch-path) SCRATCH=$2; shift 2 ;;
        --dist) DIST=$2; shift 2 ;;
        -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "build.sh: unknown option $1" >&2; exit 2 ;;
        *) NAMES+=("$1"); shift ;;
    esac
done

fail() { echo "build.sh: FAILED: $*" >&2; exit 1; }
step() { echo "== $*" >&2; }
started=$(date +%s)

# ---- what to build --------------------------------------------------------------------------
definitions=$(python3 scripts/functions.py list ${NAMES[@]+"${NAMES[@]}"}) || fail "functions/ definitions (see above)"
host_arch=$(uname -m)
case "$host_arch" in aarch64) host_arch=arm64 ;; esac
while IFS=$'\t' read -r name kind product arch budget; do
    [[ "$arch" == "$host_arch" ]] ||
        fail "$name: architecture $arch, but this machine builds $host_arch only (no cross-compiling SDK here)"
done <<<"$definitions"

# ---- the static link: the one switch --------------------------------------------------------
step "static OpenSSL (minimal), static libcurl, static zlib-ng (zlib API)"
OPENSSL_PREFIX=$(scripts/static-openssl.sh | tail -n 1) || fail "could not build the static OpenSSL (see above)"
CURL_PREFIX=$(scripts/static-curl.sh) || fail "could not build the static libcurl (see above)"
ZLIB_PREFIX=$(scripts/static-zlib.sh) || fail "could not build the static zlib-ng (see above)"
# SwiftPM reads .pc files itself and keeps the -L/usr/lib/<triple> of libcrypto.pc and zlib.pc,
# which would put Debian's libcurl.a (not linkable statically: Kerberos) ahead of ours. So every
# C library a bootstrap links gets a .pc here whose -L names one folder of static archives only.
case "$SCRATCH" in /*) STATIC_LIBS="$SCRATCH/static-libs" ;; *) STATIC_LIBS="$ROOT/$SCRATCH/static-libs" ;; esac
mkdir -p "$STATIC_LIBS/pkgconfig"
ln -sfn "$CURL_PREFIX/lib/libcurl.a" "$STATIC_LIBS/libcurl.a"
# zlib's API from zlib-ng (scripts/static-zlib.sh says why); libcurl's content decoding uses it too.
ln -sfn "$ZLIB_PREFIX/lib/libz.a" "$STATIC_LIBS/libz.a"
# scripts/static-openssl.sh says why not Debian's libssl.a and libcrypto.a.
for archive in libssl.a libcrypto.a; do
    ln -sfn "$OPENSSL_PREFIX/lib/$archive" "$STATIC_LIBS/$archive"
done
curl_cflags=$(PKG_CONFIG_PATH= pkg-config --cflags libcurl) || fail "pkg-config finds no libcurl headers (libcurl4-openssl-dev)"
write_pc() {  # name, libs, cflags
    printf 'Name: %s\nDescription: static, for Sortie bootstraps\nVersion: 0\nLibs: -L%s %s\nCflags: %s\n' \
        "$1" "$STATIC_LIBS" "$2" "$3" >"$STATIC_LIBS/pkgconfig/$1.pc"
}
write_pc libcurl "-lcurl -lssl -lcrypto -lz" "-I$OPENSSL_PREFIX/include $curl_cflags"
write_pc libssl "-lssl -lcrypto" "-I$OPENSSL_PREFIX/include"
write_pc libcrypto "-lcrypto" "-I$OPENSSL_PREFIX/include"
write_pc zlib "-lz" "-I$ZLIB_PREFIX/include"
export PKG_CONFIG_PATH="$STATIC_LIBS/pkgconfig"
# Static archives resolve left to right: libcurl needs libssl, which needs libcrypto, which needs
# libz; they go last, after every object and autolinked -lcurl. glibc 2.34+ has libdl and
# libpthread inside libc.a.
STATIC_FLAGS=(
    -c release --scratch-path "$SCRATCH"
    --static-swift-stdlib -Xswiftc -static-executable
    -Xlinker -L"$STATIC_LIBS"
    -Xlinker -lcurl -Xlinker -lssl -Xlinker -lcrypto -Xlinker -lz
    # Concrete generic metadata (`[String: String]`, `Result<AWSClient, AWSError>`) through direct
    # accessors that pass their witness tables, not mangled names the runtime resolves by searching
    # every conformance record in the binary, once per protocol: a third of a function's init
    # (callgrind: the s3-submitter's 1.92 M instructions before its first next, 1.37 M with it).
    -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors
)

products=$(cut -f3 <<<"$definitions" | sort -u)
BIN_DIR=$(swift build "${STATIC_FLAGS[@]}" --show-bin-path)
# SwiftPM does not see the archives behind -l: when one of them is new, link every product anew.
libraries=$(cat "$STATIC_LIBS"/*.a | sha256sum | cut -c1-16)
if [[ "$(cat "$BIN_DIR/.static-libraries" 2>/dev/null)" != "$libraries" ]]; then
    for product in $products; do rm -f "$BIN_DIR/$product"; done
fi
for product in $products; do
    step "swift build --product $product (static, release)"
    # glibc warns that getaddrinfo, getpwuid_r and dlopen in a static binary need the same glibc's
    # NSS modules at run time; the libc.a-internal "files" and "dns" are what Lambda uses.
    swift build "${STATIC_FLAGS[@]}" --product "$product" 2>&1 |
        sed -e '/in statically linked applications requires at runtime/d' -e "/use of \`mktemp' is dangerous/d" >&2 ||
        fail "$product: swift build failed (see above)"
done
echo "$libraries" >"$BIN_DIR/.static-libraries"

# ---- check, strip, zip ----------------------------------------------------------------------
mkdir -p "$DIST"
DIST_PATH=$(cd "$DIST" && pwd)
STAGING=$(mktemp -d "$DIST_PATH/.staging-XXXXXX")
trap 'rm -rf "$STAGING"' EXIT
rows=()

check_static() {  # name, binary
    local description ldd_output
    description=$(file -b "$2")
    [[ "$description" == *"statically linked"* ]] || fail "$1: not static: file says: $description"
    ldd_output=$(ldd "$2" 2>&1 || true)
    [[ "$ldd_output" == *"not a dynamic executable"* ]] || fail "$1: not static: ldd says: $ldd_output"
    ! readelf -lW "$2" | grep -q 'INTERP' || fail "$1: not static: it names a program interpreter"
}

check_runs() {  # name, binary, product
    local output status=0 first
    # No AWS_LAMBDA_RUNTIME_API: a bootstrap that ignored --version would fail to start here.
    output=$(cd / && env -i PATH=/usr/bin:/bin timeout 10 "$2" --version 2>&1) || status=$?
    ((status == 0)) || fail "$1: \`$(basename "$2") --version\` exited $status: ${output:0:400}"
    first=${output%%$'\n'*}
    [[ "$first" == "$3 "* ]] ||
        fail "$1: \`$(basename "$2") --version\` printed '${first:0:200}', want '$3 <version>'"
    echo "   $1: $first" >&2
}

while IFS=$'\t' read -r name kind product arch budget; do
    step "$name ($kind, product $product)"
    built="$BIN_DIR/$product"
    [[ -x "$built" ]] || fail "$name: $built was not built"
    work="$STAGING/$name"
    mkdir -p "$work"
    binary="$work/bootstrap"
    [[ "$kind" == lambda ]] || binary="$work/$product"
    strip --strip-all -o "$binary" "$built"
    python3 scripts/normalize-elf.py "$binary"
    chmod 0755 "$binary"
    check_static "$name" "$binary"
    check_runs "$name" "$binary" "$product"
    binary_size=$(stat -c %s "$binary")
    if [[ "$kind" == lambda ]]; then
        python3 scripts/deterministic-zip.py "$work.zip" "bootstrap=$binary"
        python3 scripts/deterministic-zip.py --check "$work.zip" bootstrap:755
        zip_size=$(stat -c %s "$work.zip")
        ((zip_size <= budget)) ||
            fail "$name: zip is $zip_size bytes, over its budget of $budget (look for Foundation or ICU in \`nm\`)"
        artifact="$name.zip"
        mv -f "$work.zip" "$DIST_PATH/$artifact"
    else
        # Not a Lambda function (e.g. a program for EC2): ship the checked binary itself.
        zip_size=-
        artifact=$name
        mv -f "$binary" "$DIST_PATH/$artifact"
    fi
    rows+=("$name"$'\t'"$binary_size"$'\t'"$zip_size"$'\t'"$(sha256sum "$DIST_PATH/$artifact" | cut -d' ' -f1)")
done <<<"$definitions"

# A full build drops artifacts of functions that no longer have a definition.
if ((${#NAMES[@]} == 0)); then
    for old in "$DIST_PATH"/*; do
        [[ -f "$old" && "$old" != "$DIST_PATH/SHA256SUMS" ]] || continue
        base=$(basename "$old" .zip)
        [[ -f "${SORTIE_FUNCTIONS_DIR:-functions}/$base.json" ]] || { echo "   removing stale $old" >&2; rm -f "$old"; }
    done
fi
(cd "$DIST_PATH" && find . -maxdepth 1 -type f ! -name SHA256SUMS ! -name '.*' -printf '%f\n' | LC_ALL=C sort |
    xargs -r sha256sum >SHA256SUMS)

# ---- the table ------------------------------------------------------------------------------
mb() { [[ "$1" == - ]] && echo - || awk -v b="$1" 'BEGIN { printf "%.2f MB", b / 1000000 }'; }
echo
printf '%-20s %12s %12s  %s\n' function binary zip "sha256 of the zip (or binary)"
for row in "${rows[@]}"; do
    IFS=$'\t' read -r name binary_size zip_size sha <<<"$row"
    printf '%-20s %12s %12s  %s\n' "$name" "$(mb "$binary_size")" "$(mb "$zip_size")" "$sha"
done
echo
echo "built ${#rows[@]} in $(($(date +%s) - started)) s into $DIST/ (static libcurl: $CURL_PREFIX)"
