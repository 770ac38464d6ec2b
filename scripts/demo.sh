#!/usr/bin/env bash
# The README's first command: set up a fresh machine, package every function, and run each
# packaged bootstrap on loopback under the local Runtime API with its sample event.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./build.sh
swift build --product sortie-local
local_tool=$(swift build --show-bin-path)/sortie-local
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for definition in functions/*.json; do
    read -r name kind event < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["name"], d["kind"], d.get("sampleEvent") or "-")' "$definition")
    [ "$kind" = lambda ] || continue
    mkdir -p "$work/$name" && unzip -q -o "dist/$name.zip" -d "$work/$name"
    echo "== $name (dist/$name.zip) with ${event}"
    if [ "$event" = - ]; then event=/dev/null; fi
    if "$local_tool" invoke "$work/$name/bootstrap" --event "$event"; then echo; else status=1; fi
done
exit $status
