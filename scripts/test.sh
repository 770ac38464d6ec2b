#!/usr/bin/env bash
# The README's test command: builds the debug products the tests drive, then runs every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build "$@"
