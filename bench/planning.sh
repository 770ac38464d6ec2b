#!/usr/bin/env bash
# Planning a simulated object of SIZE (20G, 1T, …) as s3-submitter does, through continuations
# of --timeout seconds each, against the S3 stand-in (generated, never stored) and moto's table;
# prints each continuation's checkpoint, throughput, memory and the projection onto real S3, and
# ends with `planned: R records, C chunks, K continuations, exact` (or what differed).
#
#   bench/planning.sh --size SIZE [--format csv|csv.gz|csv.gz1|jsonl] [--timeout SECONDS] [--read-ahead N]
#   (csv.gz: a gzip member per MiB; csv.gz1: one member for the whole file)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product planning-bench >&2
exec "$(swift build -c release --show-bin-path)/planning-bench" "$@"
