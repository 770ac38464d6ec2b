"""confluent-kafka (librdkafka) sending FILE's JSON Lines to TOPIC as kafka-bench sends them:
idempotent, acks=all, batches of up to 1 MiB, key the record's user_id, the same three headers.
Prints one JSON object: records acknowledged, bytes, wall seconds, CPU seconds (every thread).

    python3 bench/kafka_peer.py BOOTSTRAP TOPIC FILE
"""
import json, re, resource, sys, time
from confluent_kafka import Producer

bootstrap, topic, path = sys.argv[1:4]
data = open(path, "rb").read()
lines = [line for line in data.split(b"\n") if line]
keys = [(m.group(1) if (m := re.search(rb'"user_id":(\d+)', line)) else None) for line in lines]
acknowledged, failed = [0], []


def delivered(error, message):
    if error is None:
        acknowledged[0] += 1
    elif len(failed) < 5:
        failed.append(str(error))


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 5,
                     "batch.size": 1048576, "queue.buffering.max.messages": 2000000, "compression.type": "none"})
start_wall, start_cpu = time.perf_counter(), cpu()
for number, (line, key) in enumerate(zip(lines, keys), 1):
    headers = [("sortie-file-id", b"bench"), ("sortie-chunk", b"0"), ("sortie-record", str(number).encode())]
    while True:
        try:
            producer.produce(topic, value=line, key=key, headers=headers, on_delivery=delivered)
            break
        except BufferError:
            producer.poll(0.01)
    if number % 10000 == 0:
        producer.poll(0)
left = producer.flush(300)
if left or failed:
    raise SystemExit(f"kafka_peer: {left} not delivered; errors: {failed}")
print(json.dumps({"records": acknowledged[0], "bytes": len(data), "wallSeconds": time.perf_counter() - start_wall,
                  "cpuSeconds": cpu() - start_cpu}))
