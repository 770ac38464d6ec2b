#!/usr/bin/env bash
# Builds a minimal static OpenSSL 3 (libssl.a, libcrypto.a: TLS 1.2/1.3 client, the algorithms
# AWS endpoints and SigV4 use), once, and prints the install prefix on stdout (its last line).
#
# Why: Debian's libcrypto.a carries every algorithm, engine and protocol OpenSSL has. Its default
# provider registers them all, so a static link keeps all of them: 3.1 MB of each bootstrap's
# 13 MB of code, pages the kernel maps in at start, and engine and error-string set-up on every
# cold start. Nothing in a bootstrap needs DES, Camellia, SM2, DSA, CMS, OCSP, DTLS, SRP, the
# engines or the legacy provider; TLS to AWS uses ECDHE with AES-GCM or ChaCha20-Poly1305 and
# RSA or ECDSA certificates, and SigV4 uses SHA-256 and HMAC.
#
# The source is upstream OpenSSL, the same release as Debian's libssl-dev here, pinned by
# SHA-256 (the digest apt's signed Sources index gives for Debian's orig tarball, which is the
# upstream tarball). The result is cached in ${SORTIE_CACHE_DIR:-~/.cache/sortie}/static-openssl/<key>/,
# where <key> hashes every input (source digest, configure options, compiler, recipe).
#
#   scripts/static-openssl.sh            build if needed, print the prefix
#   scripts/static-openssl.sh --key      print the cache key only
set -euo pipefail

# log, die, CACHE_ROOT, cache_enter and cache_commit.
source "$(dirname "$0")/build-cache.sh"
# Bump when the recipe below changes in a way the key would not see.
RECIPE=1
VERSION=3.0.22
TARBALL=openssl-$VERSION.tar.gz
TARBALL_SHA256=67ebca7e50d17383028045486653492195b83db95f8558709701bb47b5c1ef81
SOURCES=(
    "http://deb.debian.org/debian-security/pool/updates/main/o/openssl/openssl_$VERSION.orig.tar.gz"
    "https://github.com/openssl/openssl/releases/download/openssl-$VERSION/$TARBALL"
)
# No shared objects, modules, engines or config loading (the process never reads an openssl.cnf
# of the machine it runs on); no protocol or algorithm a client of AWS does not use.
CONFIGURE_OPTIONS=(
    no-shared no-module no-dso no-engine no-afalgeng no-padlockeng no-capieng no-devcryptoeng
    no-autoload-config no-comp no-legacy no-tests no-ui-console no-ssl-trace
    no-ssl3 no-dtls no-srp no-nextprotoneg no-sctp no-srtp no-ct no-ocsp no-cms no-ts no-cmp
    no-aria no-bf no-blake2 no-camellia no-cast no-des no-dsa no-ec2m no-gost no-idea no-md4 no-mdc2
    no-ocb no-rc2 no-rc4 no-rc5 no-rmd160 no-scrypt no-seed no-siphash no-siv no-sm2 no-sm3 no-sm4
    no-whirlpool
)

case "${1:-}" in
    --key | "") ;;
    *) die "usage: $0 [--key]" ;;
esac
command -v cc >/dev/null && command -v make >/dev/null && command -v curl >/dev/null || die "needs a C compiler, make and curl"
# OpenSSL's Configure needs perl's core modules (IPC::Cmd among them), not just perl-base.
if ! perl -MIPC::Cmd -MFile::Spec -e 1 2>/dev/null; then
    [[ $(id -u) == 0 ]] || die "OpenSSL's Configure needs perl with its core modules; install them with apt-get install perl"
    log "installing perl (OpenSSL's Configure needs its core modules)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq perl >&2
fi
case "$(uname -m)" in
    x86_64) TARGET=linux-x86_64 ;;
    aarch64) TARGET=linux-aarch64 ;;
    *) die "no OpenSSL target for $(uname -m)" ;;
esac
KEY="openssl-$VERSION-$({
    echo "recipe $RECIPE"
    echo "source $TARBALL $TARBALL_SHA256"
    echo "configure $TARGET ${CONFIGURE_OPTIONS[*]}"
    echo "cc $(cc --version | head -n 1)"
} | sha256sum | cut -c1-16)"
if [[ "${1:-}" == --key ]]; then echo "$KEY"; exit 0; fi
cache_enter "$KEY"
started=$(date +%s)
log "building OpenSSL $VERSION (key $KEY) in $WORK"

cd "$WORK"
for url in "${SOURCES[@]}"; do
    curl -fsSL --retry 2 -o "$TARBALL" "$url" && break
    log "could not fetch $url"
done
[[ -f "$TARBALL" ]] || die "could not fetch $TARBALL from any of: ${SOURCES[*]}"
echo "$TARBALL_SHA256  $TARBALL" | sha256sum -c --quiet - || die "$TARBALL does not have the pinned SHA-256"
tar -xzf "$TARBALL"
cd "openssl-$VERSION"

dest="$WORK/dest"
stage="$dest$PREFIX"
./Configure "$TARGET" --prefix="$PREFIX" --libdir=lib --openssldir=/etc/pki/tls "${CONFIGURE_OPTIONS[@]}" -O2 -g0 \
    >"$WORK/configure.log" 2>&1 || { tail -n 40 "$WORK/configure.log" >&2; die "Configure failed (log above)"; }
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs" build_libs >"$WORK/make.log" 2>&1 || { tail -n 40 "$WORK/make.log" >&2; die "make failed (log above)"; }
make install_dev DESTDIR="$dest" >"$WORK/install.log" 2>&1 || { tail -n 20 "$WORK/install.log" >&2; die "make install_dev failed"; }
rm -f "$stage"/lib/*.so*

# Guard the promises: static archives only, and none of what was left out.
[[ -f "$stage/lib/libssl.a" && -f "$stage/lib/libcrypto.a" ]] || die "libssl.a or libcrypto.a was not installed"
for unwanted in ENGINE DES DSA CAMELLIA OCSP CMS DTLS1; do
    grep -q "define OPENSSL_NO_$unwanted\b" "$stage/include/openssl/configuration.h" ||
        die "OPENSSL_NO_$unwanted is not defined: Configure ignored an option"
done
{
    echo "OpenSSL $VERSION ($TARBALL, sha256 $TARBALL_SHA256)"
    echo "configure $TARGET ${CONFIGURE_OPTIONS[*]}"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - started )) s"
} >"$stage/BUILD-INFO"
cache_commit "$stage"
log "built in $(( $(date +%s) - started )) s: $PREFIX"
echo "$PREFIX"
