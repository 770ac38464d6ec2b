#!/usr/bin/env bash
# The chunk worker's container image, without Docker: an OCI image layout in
# dist/chunk-worker-image/ (or $1) holding the static chunk-processor from dist/chunk-processor.zip
# (./build.sh chunk-processor), Debian's CA certificates and the user nobody, tagged with the
# worker's version. Byte-reproducible: the same inputs give the same manifest digest
# (scripts/worker-image.py says how). Push it with skopeo (README, Deploy):
#
#   skopeo copy oci:dist/chunk-worker-image:0.1.0 docker://<account>.dkr.ecr.<region>.amazonaws.com/<repository>:0.1.0
set -euo pipefail
cd "$(dirname "$0")/.."
zip=${SORTIE_DIST:-dist}/chunk-processor.zip
output=${1:-dist/chunk-worker-image}
certificates=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$zip" ] || { echo "worker-image.sh: no $zip: run ./build.sh chunk-processor first" >&2; exit 1; }
[ -f "$certificates" ] || { echo "worker-image.sh: no CA bundle at $certificates (apt-get install ca-certificates)" >&2; exit 1; }
# The tag is the worker's own version line, "chunk-processor <version>".
probe=$(mktemp)
trap 'rm -f "$probe"' EXIT
unzip -p "$zip" bootstrap > "$probe"
chmod +x "$probe"
version=$(env -i "$probe" --version)
version=${version#chunk-processor }
python3 scripts/worker-image.py "$zip" "$certificates" "$output" "$version"
