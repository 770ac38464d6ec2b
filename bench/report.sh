#!/usr/bin/env bash
# The report page's figures: the size of `sortie report`'s page for 1,000 and 10,000 sample jobs,
# and how long headless Chromium (Debian's chromium, scripts/setup.sh) takes to draw each: from
# navigation start to the page's own end-of-drawing mark, and its longest task (what would freeze
# the page), the median of --repeat runs. Every chromium run is killed (SIGKILL) at its timeout.
#
#   bench/report.sh [--jobs 1000,10000] [--repeat 3]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product report-bench >&2
"$(swift build -c release --show-bin-path)/report-bench" .build/bench/report "$@"
