"""Reads a topic back with confluent-kafka (librdkafka) and checks it against the source file.

verify BOOTSTRAP TOPIC FILE KEYFIELD|- FILEID: every partition is read from the start to its
high watermark (assigned partitions, no consumer group); each message must carry the headers
sortie-file-id (FILEID), sortie-chunk and sortie-record (the line's number in FILE), its value
must be that line, its key the line's KEYFIELD as text. Keys' partitions are checked against
librdkafka's own murmur2 partitioner by producing a sample of the keys to a scratch topic.
Prints one JSON object of findings.

KAFKA_CHECK_CONFIG, when set, is a JSON object of librdkafka settings every client here adds
(e.g. {"security.protocol": "ssl", "ssl.ca.location": "ca.pem"} for a broker behind TLS).
"""
import json, os, sys, uuid
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


EXTRA = json.loads(os.environ.get("KAFKA_CHECK_CONFIG") or "{}")


def read_all(bootstrap, topic, settle=True):
    consumer = Consumer({**EXTRA, "bootstrap.servers": bootstrap, "group.id": "sortie-check-" + uuid.uuid4().hex,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "fetch.max.bytes": 52428800, "max.partition.fetch.bytes": 10485760})
    metadata = consumer.list_topics(topic, timeout=10).topics[topic]
    partitions = sorted(metadata.partitions)
    ends = {}
    for p in partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        ends[p] = high
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions if ends[p] > 0])
    messages = []
    # The watermarks are where reading may stop, not where it must: tansu 0.6 reports a
    # partition's high watermark as its last batch's first offset + 1. So every partition is read
    # to its watermark, then (`settle`) on until nothing more comes for 2 s.
    left = {p for p in partitions if ends[p] > 0}
    idle = 0
    while idle < (100 if left else 10 if settle else 0):
        batch = consumer.consume(num_messages=10000, timeout=0.2)
        if not batch:
            idle += 1
            continue
        idle = 0
        for m in batch:
            if m.error():
                raise SystemExit(f"consume error: {m.error()}")
            messages.append((m.partition(), m.key(), m.value(), m.headers() or []))
            if m.offset() + 1 >= ends[m.partition()]:
                left.discard(m.partition())
    consumer.close()
    return len(partitions), messages


def librdkafka_partitions(bootstrap, partitions, keys):
    scratch = "sortie-check-" + uuid.uuid4().hex[:12]
    admin = AdminClient({**EXTRA, "bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(scratch, partitions, 1)]).values():
        f.result()
    producer = Producer({**EXTRA, "bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "linger.ms": 5})
    placed = {}
    def done(err, msg):
        if err is None:
            placed[msg.key()] = msg.partition()
    for key in keys:
        producer.produce(scratch, key=key, value=b"", on_delivery=done)
        producer.poll(0)
    producer.flush(30)
    return placed


def verify(bootstrap, topic, path, key_field, file_id):
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    partitions, messages = read_all(bootstrap, topic)
    seen = {}
    problems = []
    key_partition = {}
    per_partition = {}
    for partition, key, value, headers in messages:
        per_partition[partition] = per_partition.get(partition, 0) + 1
        h = {k: v for k, v in headers}
        if h.get("sortie-file-id") != file_id.encode() or "sortie-chunk" not in h or "sortie-record" not in h:
            problems.append(f"headers {headers!r}")
            continue
        number = int(h["sortie-record"])
        seen[number] = seen.get(number, 0) + 1
        if not 1 <= number <= len(lines) or lines[number - 1] != value:
            problems.append(f"record {number}: value {value[:80]!r}")
            continue
        if key_field != "-":
            expected = json.loads(lines[number - 1])[key_field]
            expected = None if expected is None else (expected if isinstance(expected, str) else json.dumps(expected)).encode()
            if key != expected:
                problems.append(f"record {number}: key {key!r}, expected {expected!r}")
            if key is not None:
                if key_partition.setdefault(key, partition) != partition:
                    problems.append(f"key {key!r} in partitions {key_partition[key]} and {partition}")
    sample = list(key_partition)[:3000]
    placed = librdkafka_partitions(bootstrap, partitions, sample) if sample else {}
    partition_mismatches = [k.decode() for k in sample if placed.get(k) != key_partition[k]]
    print(json.dumps({
        "messages": len(messages), "distinct": len(seen), "lines": len(lines),
        "duplicates": sum(c - 1 for c in seen.values()), "missing": len(lines) - len(seen),
        "problems": problems[:5], "problemCount": len(problems), "partitions": {str(k): v for k, v in sorted(per_partition.items())},
        "keysChecked": len(placed), "partitionMismatches": partition_mismatches[:5],
        "partitionMismatchCount": len(partition_mismatches)}))


def count(bootstrap, topic):
    _, messages = read_all(bootstrap, topic, settle=False)
    print(len(messages))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"verify": verify, "count": count}[command](*args)
