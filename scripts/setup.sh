#!/usr/bin/env bash
# Installs what Sortie needs on a fresh Debian 12 machine with the Swift toolchain: the C
# libraries the package links, what the static libcurl build needs, and moto (the local AWS).
# Safe to run again; the README's commands and CI both start with it.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq libcurl4-openssl-dev zlib1g-dev libssl-dev dpkg-dev zip unzip file make patch binutils >/dev/null
# The static libcurl for the packaged bootstraps is built from Debian's curl source package,
# which apt finds only with a deb-src entry.
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src ' /etc/apt/sources.list; then
    $SUDO tee /etc/apt/sources.list.d/sortie-deb-src.sources >/dev/null <<'EOF'
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
    $SUDO apt-get update -qq
fi

python3 -m pip install --quiet --disable-pip-version-check 'moto[server]==5.2.1'
