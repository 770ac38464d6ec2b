#!/usr/bin/env python3
"""A partition leader moving between two brokers, played in front of one real broker (tansu runs
as a single node): two listeners, broker 1 and broker 2, forward every request to UPSTREAM and
rewrite Metadata (v4) answers so that broker 1 leads every partition until MOVE_AFTER Produce
requests have reached it, and broker 2 from then on. The Produce request that crosses the line is
written upstream but answered NOT_LEADER_OR_FOLLOWER (the acknowledgement lost in the move, so an
idempotent producer's resend must not duplicate it); later ones at broker 1 are refused unwritten.

    kafka_leader_proxy.py UPSTREAM_PORT PORT_1 PORT_2 MOVE_AFTER EVENTS_FILE

Prints `ready` once both listen; appends one JSON line per event to EVENTS_FILE
(`produce` with the broker, `moved`, `refused`, `metadata` with the leader it named).
"""
import json
import socket
import struct
import sys
import threading

NOT_LEADER_OR_FOLLOWER = 6
PRODUCE, METADATA = 0, 3

upstream_port, port_1, port_2, move_after = (int(arg) for arg in sys.argv[1:5])
events_path = sys.argv[5]
lock = threading.Lock()
state = {"produced_at_1": 0, "leader": 1}


def event(**fields):
    with open(events_path, "a") as events:
        events.write(json.dumps(fields) + "\n")


def read_exactly(sock, count):
    data = b""
    while len(data) < count:
        piece = sock.recv(count - len(data))
        if not piece:
            raise EOFError
        data += piece
    return data


def read_frame(sock):
    size = struct.unpack(">i", read_exactly(sock, 4))[0]
    return read_exactly(sock, size)


class Reader:
    def __init__(self, data, offset=0):
        self.data, self.offset = data, offset

    def take(self, fmt):
        value = struct.unpack_from(fmt, self.data, self.offset)[0]
        self.offset += struct.calcsize(fmt)
        return value

    def string(self):
        length = self.take(">h")
        if length < 0:
            return None
        text = self.data[self.offset:self.offset + length].decode()
        self.offset += length
        return text

    def skip_bytes(self):
        length = self.take(">i")
        self.offset += max(0, length)


def string(text):
    if text is None:
        return struct.pack(">h", -1)
    encoded = text.encode()
    return struct.pack(">h", len(encoded)) + encoded


def produce_partitions(request, header_end):
    """(topic, [partition]) of a Produce v3 request body."""
    reader = Reader(request, header_end)
    reader.string()  # transactional id
    reader.take(">h")  # acks
    reader.take(">i")  # timeout
    topics = []
    for _ in range(reader.take(">i")):
        name = reader.string()
        partitions = []
        for _ in range(reader.take(">i")):
            partitions.append(reader.take(">i"))
            reader.skip_bytes()
        topics.append((name, partitions))
    return topics


def not_leader_answer(correlation, topics):
    body = struct.pack(">i", correlation) + struct.pack(">i", len(topics))
    for name, partitions in topics:
        body += string(name) + struct.pack(">i", len(partitions))
        for partition in partitions:
            body += struct.pack(">ihqq", partition, NOT_LEADER_OR_FOLLOWER, -1, -1)
    body += struct.pack(">i", 0)  # throttle
    return body


def rewritten_metadata(response, leader):
    """A Metadata v4 answer naming brokers 1 and 2 (this proxy's listeners) and `leader` for every partition."""
    reader = Reader(response)
    correlation = reader.take(">i")
    throttle = reader.take(">i")
    for _ in range(reader.take(">i")):
        reader.take(">i"); reader.string(); reader.take(">i"); reader.string()
    cluster = reader.string()
    reader.take(">i")  # controller
    out = struct.pack(">ii", correlation, throttle) + struct.pack(">i", 2)
    for node, port in ((1, port_1), (2, port_2)):
        out += struct.pack(">i", node) + string("127.0.0.1") + struct.pack(">i", port) + string(None)
    out += string(cluster) + struct.pack(">i", leader)
    topics = reader.take(">i")
    out += struct.pack(">i", topics)
    for _ in range(topics):
        error = reader.take(">h")
        name = reader.string()
        internal = reader.take(">b")
        out += struct.pack(">h", error) + string(name) + struct.pack(">b", internal)
        partitions = reader.take(">i")
        out += struct.pack(">i", partitions)
        for _ in range(partitions):
            partition_error = reader.take(">h")
            index = reader.take(">i")
            reader.take(">i")  # leader
            for _ in range(2):  # replicas, in-sync replicas
                for _ in range(reader.take(">i")):
                    reader.take(">i")
            out += struct.pack(">hii", partition_error, index, leader) + struct.pack(">ii", 1, leader) + struct.pack(">ii", 1, leader)
    return out


def serve(client, broker):
    upstream = socket.create_connection(("127.0.0.1", upstream_port))
    try:
        while True:
            request = read_frame(client)
            api_key, api_version, correlation = struct.unpack_from(">hhi", request, 0)
            client_id_length = struct.unpack_from(">h", request, 8)[0]
            header_end = 10 + max(0, client_id_length)
            lost_acknowledgement = False
            if api_key == PRODUCE:
                with lock:
                    if broker == 1 and state["leader"] == 2:
                        refuse = True
                    else:
                        refuse = False
                        if broker == 1:
                            state["produced_at_1"] += 1
                            if state["produced_at_1"] == move_after:
                                state["leader"] = 2
                                lost_acknowledgement = True
                if refuse:
                    event(kind="refused", broker=broker)
                    answer = not_leader_answer(correlation, produce_partitions(request, header_end))
                    client.sendall(struct.pack(">i", len(answer)) + answer)
                    continue
                event(kind="produce", broker=broker)
            upstream.sendall(struct.pack(">i", len(request)) + request)
            response = read_frame(upstream)
            if lost_acknowledgement:
                event(kind="moved", broker=broker)
                response = not_leader_answer(correlation, produce_partitions(request, header_end))
            elif api_key == METADATA and api_version == 4:
                with lock:
                    leader = state["leader"]
                response = rewritten_metadata(response, leader)
                event(kind="metadata", broker=broker, leader=leader)
            client.sendall(struct.pack(">i", len(response)) + response)
    except (EOFError, ConnectionError, OSError):
        pass
    finally:
        client.close()
        upstream.close()


def listen(port, broker):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(16)

    def accept():
        while True:
            client, _ = server.accept()
            threading.Thread(target=serve, args=(client, broker), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


listen(port_1, 1)
listen(port_2, 2)
print("ready", flush=True)
threading.Event().wait()
