#!/usr/bin/env bash
# The README's first command: set up a fresh machine, package every function, start `sortie dev`
# on loopback with the packaged bootstraps and the packaged runner, and run the scripted story.
# Exits 0 only if every expectation of the story held.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./build.sh
swift build --product sortie
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# `sortie dev` runs <products>/<product>: each one is the bootstrap from its zip (or the bare runner).
mkdir -p "$work/products"
for definition in functions/*.json; do
    read -r name kind product < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["name"], d["kind"], d["product"])' "$definition")
    if [ "$kind" = lambda ]; then
        mkdir -p "$work/$name" && unzip -q -o "dist/$name.zip" -d "$work/$name"
        ln -s "$work/$name/bootstrap" "$work/products/$product"
    else
        ln -s "$PWD/dist/$name" "$work/products/$product"
    fi
done
"$(swift build --show-bin-path)/sortie" demo --products "$work/products"
