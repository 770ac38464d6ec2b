#!/usr/bin/env bash
# The README's test command: builds the debug products the tests drive, then runs every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Every import declared, every arrow pointing down, the README's module graph current.
python3 scripts/module-graph.py --check
swift build --build-tests
swift test --skip-build "$@"
