#!/usr/bin/env bash
# The report page's figures: the size of `sortie report`'s page for 1,000 and 10,000 sample jobs,
# and how long headless Chromium (Debian's chromium, scripts/setup.sh) takes to draw each: from its
# script's start to its last drawing task's end, and its longest task (what would freeze the page),
# by the wall-clock stamps of the page's console marks; the median of --repeat runs. Every chromium
# run is killed (SIGKILL) at its timeout.
#
#   bench/report.sh [--jobs 1000,10000] [--repeat 3]
set -euo pipefail
cd "$(dirname "$0")/.."
# A debug build: what is measured is the page's size and Chromium's drawing, not Swift's speed.
swift build --product report-bench >&2
"$(swift build --show-bin-path)/report-bench" .build/bench/report "$@"
