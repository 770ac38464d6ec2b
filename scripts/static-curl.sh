#!/usr/bin/env bash
# Builds a minimal static libcurl (HTTP and HTTPS only, OpenSSL, zlib) from Debian's own curl
# source package, once, and prints the install prefix on stdout (its last line). Its OpenSSL is
# scripts/static-openssl.sh's minimal one, which the bootstraps link.
#
# Why: Debian's libcurl.a drags in Kerberos, LDAP, libssh2, nghttp2, libidn2, libpsl, brotli
# and zstd, several of which ship no static archive, so a fully static bootstrap cannot use it.
#
# The result is cached in ${SORTIE_CACHE_DIR:-~/.cache/sortie}/static-curl/<key>/, where <key>
# hashes every input: the curl source version, the patches applied, the configure flags, the
# compiler, the OpenSSL build (its cache key) and the zlib headers it was compiled against. A changed input is a new key
# (and a new build); an unchanged one is reused without touching the network.
#
#   scripts/static-curl.sh            build if needed, print the prefix
#   scripts/static-curl.sh --key      print the cache key only
#
# Needs (installed here when run as root and missing): a deb-src entry for bookworm, dpkg-dev,
# zlib1g-dev, make, perl and a C compiler. No autotools: the packaged configure is used.
set -euo pipefail

# log, die, CACHE_ROOT, cache_enter and cache_commit.
source "$(dirname "$0")/build-cache.sh"
# Bump when the recipe below changes in a way the key would not see.
RECIPE=3

# Everything a bootstrap does not need is off. Paths are fixed so that nothing from the build
# machine leaks in: the CA bundle default is Amazon Linux's (the runtime sets CURLOPT_CAINFO
# anyway, see Sources/CurlHTTP/CertificateBundle.swift), no CA directory, no fallback to
# OpenSSL's compiled-in /usr/lib/ssl, and no loading of the build machine's openssl.cnf.
CONFIGURE_FLAGS=(
    --disable-shared --enable-static --with-pic
    --disable-dependency-tracking --disable-silent-rules
    --enable-optimize --disable-debug --disable-curldebug --enable-symbol-hiding
    --with-zlib
    --with-ca-bundle=/etc/pki/tls/certs/ca-bundle.crt --without-ca-path --without-ca-fallback
    --disable-openssl-auto-load-config
    --enable-http --enable-proxy --enable-ipv6 --enable-threaded-resolver
    --disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp --disable-dict
    --disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp
    --disable-gopher --disable-mqtt --disable-websockets
    --disable-manual --disable-libcurl-option --disable-ntlm --disable-ntlm-wb --disable-tls-srp
    --without-brotli --without-zstd --without-libidn2 --without-libpsl --without-libgsasl
    --without-nghttp2 --without-nghttp3 --without-ngtcp2 --without-quiche --without-msh3
    --without-libssh --without-libssh2 --without-wolfssh --without-librtmp --without-hyper
    --without-gssapi --without-zsh-functions-dir --without-fish-functions-dir
)

# Debian's series ends with patches that only make sense for its own packaging: the GnuTLS and
# NSS flavours rename the library, and three change configure.ac or Makefile.am for features we
# disable (zsh completion, GSSAPI, LDAP). Applying them would force an autotools run. Every other
# patch (the security fixes) is applied; a new patch that touches the build system stops us.
SKIPPED_PATCHES=(
    08_enable-zsh.patch
    build-Divide-mit-krb5-gssapi-link-flags-between-LDFLAGS-a.patch
    Use-OpenLDAP-specific-functionality.patch
    90_gnutls.patch
    99_nss.patch
)

is_skipped() {
    local p
    for p in "${SKIPPED_PATCHES[@]}"; do [[ "$p" == "$1" ]] && return 0; done
    return 1
}

pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo missing; }

ensure_tools() {
    local missing=()
    command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
    command -v make >/dev/null || missing+=(make)
    command -v cc >/dev/null || missing+=(gcc)
    command -v patch >/dev/null || missing+=(patch)
    [[ -f /usr/include/zlib.h ]] || missing+=(zlib1g-dev)
    ((${#missing[@]} == 0)) && return 0
    [[ $(id -u) == 0 ]] || die "missing ${missing[*]}; install them with apt-get"
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# The newest curl source version apt knows about (what `apt-get source curl` fetches).
source_version() {
    apt-cache showsrc --only-source curl 2>/dev/null | awk '/^Version:/ {print $2}' | sort -V | tail -n 1
}

ensure_deb_src() {
    [[ -n "$(source_version)" ]] && return 0
    [[ $(id -u) == 0 ]] || die "apt has no deb-src entry for curl; add one for bookworm (see .ci/run) and run apt-get update"
    local file=/etc/apt/sources.list.d/sortie-deb-src.sources
    log "adding $file and running apt-get update"
    cat >"$file" <<'EOF'
# Added by Sortie's scripts/static-curl.sh: source packages, for `apt-get source curl`.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt-get update -qq >&2
    [[ -n "$(source_version)" ]] || die "apt still knows no curl source package after adding $file"
}

cache_key() {
    local version=$1
    {
        echo "recipe $RECIPE"
        echo "curl-source $version"
        echo "skipped ${SKIPPED_PATCHES[*]}"
        echo "configure ${CONFIGURE_FLAGS[*]}"
        echo "cc $(cc --version | head -n 1)"
        echo "openssl $OPENSSL_KEY"
        echo "zlib1g-dev $(pkg_version zlib1g-dev)"
        echo "arch $(uname -m)"
    } | sha256sum | cut -c1-16
}

want_key_only=0
case "${1:-}" in
    --key) want_key_only=1 ;;
    "") ;;
    *) die "usage: $0 [--key]" ;;
esac

ensure_tools
ensure_deb_src
OPENSSL_KEY=$("$(dirname "$0")/static-openssl.sh" --key) || die "scripts/static-openssl.sh --key failed"
VERSION=$(source_version)
KEY="curl-${VERSION}-$(cache_key "$VERSION")"
if ((want_key_only)); then echo "$KEY"; exit 0; fi
# Built (or found) before taking this cache's lock; its prefix goes into configure.
OPENSSL_PREFIX=$("$(dirname "$0")/static-openssl.sh" | tail -n 1) || die "could not build the static OpenSSL (see above)"
cache_enter "$KEY"
started=$(date +%s)
log "building curl $VERSION (key $KEY) in $WORK"

cd "$WORK"
apt-get source --download-only -qq "curl=$VERSION" 2>&1 | grep -v 'Download is performed unsandboxed' >&2 || true
dsc=$(ls curl_*.dsc 2>/dev/null | head -n 1)
[[ -n "$dsc" ]] || die "apt-get source --download-only curl=$VERSION fetched nothing"
# apt checked the files against the signed Sources index; dpkg-source only lacks the keyring.
dpkg-source --skip-patches -x "$dsc" src >"$WORK/dpkg-source.log" 2>&1 || { cat "$WORK/dpkg-source.log" >&2; die "dpkg-source -x failed"; }
cd src
applied=0
while read -r name _; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    if is_skipped "$name"; then
        log "  skip  $name (packaging only)"
        continue
    fi
    if grep -Eq '^\+\+\+ [^ ]*/(configure\.ac|.*Makefile\.am|acinclude\.m4|m4/[^ ]*)([[:space:]]|$)' "debian/patches/$name"; then
        die "Debian patch $name changes the build system (configure.ac, Makefile.am or m4); review it and add it to SKIPPED_PATCHES or teach this script to run autoreconf"
    fi
    patch -p1 -s --no-backup-if-mismatch <"debian/patches/$name" || die "patch $name did not apply"
    applied=$((applied + 1))
done <debian/patches/series
log "applied $applied Debian patches, skipped ${#SKIPPED_PATCHES[@]}"

# The packaged configure and Makefile.in are current for the unpatched build files; make sure
# make never decides to rerun autotools because patching changed a timestamp.
find . -name Makefile.in -exec touch {} +
touch aclocal.m4 configure

# Install prefixes are recorded in libcurl.pc and curl-config: configure for the final path,
# install into a staging root, and move it into place only once it is complete.
dest="$WORK/dest"
stage="$dest$PREFIX"
CFLAGS="-O2 -g0 -fPIC" ./configure --prefix="$PREFIX" "${CONFIGURE_FLAGS[@]}" --with-openssl="$OPENSSL_PREFIX" >"$WORK/configure.log" 2>&1 \
    || { tail -n 40 "$WORK/configure.log" >&2; die "configure failed (log above)"; }
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs" -C lib >"$WORK/make.log" 2>&1 || { tail -n 40 "$WORK/make.log" >&2; die "make failed (log above)"; }
make -C lib install DESTDIR="$dest" >/dev/null
make -C include install DESTDIR="$dest" >/dev/null
make install-pkgconfigDATA DESTDIR="$dest" >/dev/null
install -D -m 0755 curl-config "$stage/bin/curl-config"
rm -f "$stage"/lib/*.la
# CURL_STATICLIB only matters on Windows, and SwiftPM warns about every -D it reads from pkg-config.
sed -i 's/ *-DCURL_STATICLIB//' "$stage/lib/pkgconfig/libcurl.pc"

# Guard the promises: a static archive, no shared library, none of the features we turned off.
[[ -f "$stage/lib/libcurl.a" ]] || die "no libcurl.a was installed"
! ls "$stage"/lib/libcurl.so* >/dev/null 2>&1 || die "a shared libcurl was installed"
features=" $(sh "$stage/bin/curl-config" --features | tr '\n' ' ')"
protocols=$(sh "$stage/bin/curl-config" --protocols | tr '\n' ' ')
[[ "$protocols" == "HTTP HTTPS " ]] || die "unexpected protocols: $protocols"
for unwanted in GSS-API Kerberos SPNEGO IDN PSL HTTP2 brotli zstd; do
    [[ "$features" != *" $unwanted "* ]] || die "unwanted feature $unwanted is enabled"
done
for wanted in SSL libz IPv6 AsynchDNS; do
    [[ "$features" == *" $wanted "* ]] || die "feature $wanted is missing"
done
{
    echo "curl source package $VERSION ($applied Debian patches applied; skipped: ${SKIPPED_PATCHES[*]})"
    echo "configure ${CONFIGURE_FLAGS[*]}"
    echo "protocols: $protocols"
    echo "features:$features"
    echo "libs.private: $(sh "$stage/bin/curl-config" --static-libs)"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - started )) s"
} >"$stage/BUILD-INFO"
cache_commit "$stage"
log "built in $(( $(date +%s) - started )) s: $PREFIX"
log "$(grep -E '^(protocols|features)' "$PREFIX/BUILD-INFO" | tr '\n' ';')"
echo "$PREFIX"
