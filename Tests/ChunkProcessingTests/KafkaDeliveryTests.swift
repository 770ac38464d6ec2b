import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import ChunkTestSupport
import Foundation
import LocalAWS
import LocalRuntime
import LoopbackHTTP
import SortieTestSupport
import Testing

/// Chunks delivered to a real Kafka broker (tansu on 127.0.0.1) and read back with librdkafka
/// (confluent-kafka) by scripts/kafka_check.py.
@Suite("Kafka delivery against a real broker", .serialized)
struct KafkaDeliveryTests {
    static let fields = [FieldRule(name: "user_id", type: .integer, required: true), FieldRule(name: "n", type: .integer, required: true)]
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/kafka_check.py").path

    /// `{"user_id":…,"n":…}` lines; user ids repeat, so keys share partitions.
    static func lines(_ count: Int, pad: (Int) -> String = { _ in "" }) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count * 32)
        for n in 1...count {
            bytes += #"{"user_id":\#((n &* 7919) % 50_021),"n":\#(n)\#(pad(n))}"#.utf8
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }

    struct Setup {
        var world: ChunkWorld
        var broker: TansuBroker
        var topic: String
        var fileID: String
        var payload: Data
        var feeds: String
        var file: URL
    }

    /// A broker with `topic` (unless `createTopic` is false), the file uploaded and planned as one
    /// Lambda chunk; the payload the submitter sent to the processor.
    /// `behindTLS`: the destination is `terminator`, which the broker advertises, with `tls: true`;
    /// `via`: the destination is that `host:port` (a proxy in front of the broker).
    func setUp(_ body: [UInt8], createTopic: Bool = true, topicConfig: [String] = [], key: String? = "user_id",
               broker given: TansuBroker? = nil, behindTLS terminator: TLSTerminator? = nil, via proxy: String? = nil) async throws -> Setup {
        let world = try await blocking { try ChunkWorld.make() }
        let broker: TansuBroker
        if let given { broker = given } else { broker = try await blocking { try TansuBroker.start() } }
        let topic = unique("clicks")
        if createTopic { try await blocking { try broker.createTopic(topic, partitions: 3, config: topicConfig) } }
        let capture = try await InvokeCapture.start()
        let key3 = "incoming/clicks/\(topic).jsonl"
        let eTag = try await blocking { try world.upload(key3, body) }
        let feeds = try world.feeds(
            format: "jsonl", fields: Self.fields,
            destination: .kafka(KafkaDestination(bootstrapServers: [terminator?.address ?? proxy ?? broker.bootstrap], topic: topic, tls: terminator != nil, key: key)))
        let submitter = try await startFunction("s3-submitter", environment: world.submitterEnvironment(
            feeds: feeds, capture: capture, extra: ["BATCH_PROCESSING_THRESHOLD": "2000000"]))
        let event = world.notification(key: key3, eTag: eTag, size: body.count, sequencer: "00AB01")
        let answer = jsonObject(responseBody(await submitter.invoke(InvocationRequest(payload: event, timeout: .seconds(300))), submitter))
        await submitter.stop()
        await capture.stop()
        let fileID = try #require(((answer["files"] as? [[String: Any]])?.first?["fileId"]) as? String, "\(answer)")
        let payload = try #require(capture.invocations.first).payload
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(topic).jsonl")
        try Data(body).write(to: file)
        return Setup(world: world, broker: broker, topic: topic, fileID: fileID, payload: payload, feeds: feeds, file: file)
    }

    /// What scripts/kafka_check.py found.
    struct Findings: Decodable, Sendable {
        var messages: Int
        var distinct: Int
        var duplicates: Int
        var missing: Int
        var problems: [String]
        var problemCount: Int
        var partitions: [String: Int]
        var keysChecked: Int
        var partitionMismatches: [String]
        var partitionMismatchCount: Int
    }

    /// `terminator`: librdkafka reads through it, over TLS, trusting its test CA.
    func verify(_ setup: Setup, key: String = "user_id", through terminator: TLSTerminator? = nil) throws -> Findings {
        let settings = terminator.map { #"{"security.protocol": "ssl", "ssl.ca.location": "\#($0.authority)"}"# }
        let result = try Command.run(
            "/usr/bin/env", ["KAFKA_CHECK_CONFIG=\(settings ?? "")", "python3", Self.script, "verify", terminator?.address ?? setup.broker.bootstrap,
                             setup.topic, setup.file.path, key, setup.fileID],
            timeout: .seconds(600))
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(Findings.self, from: Data(result.stdout.utf8))
    }

    @Test("a 1,000,000-record chunk: every record in the topic once, its value the line, its key the user id, in librdkafka's murmur2 partition, with its headers")
    func millionRecords() async throws {
        let records = 1_000_000
        let setup = try await setUp(Self.lines(records))
        defer { setup.broker.stop() }
        let processor = try await startFunction("chunk-processor", environment: setup.world.processorEnvironment(feeds: setup.feeds))
        let outcome = await processor.invoke(InvocationRequest(payload: setup.payload, timeout: .seconds(600)))
        let answer = jsonObject(responseBody(outcome, processor))
        await processor.stop()
        #expect(answer["status"] as? String == "done", "\(answer) \(setup.broker.logTail())")
        #expect(answer["delivered"] as? Int == records)
        let check = try await blocking { try verify(setup) }
        #expect(check.messages == records, "\(check)")
        #expect(check.distinct == records)
        #expect(check.missing == 0)
        #expect(check.duplicates == 0)
        #expect(check.problemCount == 0, "\(check.problems)")
        #expect(check.keysChecked == 3000)
        #expect(check.partitionMismatchCount == 0, "\(check.partitionMismatches)")
        #expect(check.partitions.count == 3, "keys spread over the three partitions")
    }

    @Test("the broker gone mid-chunk: the attempt fails within its time naming Kafka's error; once a broker is back, the retry delivers every record, read back exactly")
    func brokerOutage() async throws {
        let records = 400_000
        let setup = try await setUp(Self.lines(records))
        defer { setup.broker.stop() }
        let processor = try await startFunction("chunk-processor", environment: setup.world.processorEnvironment(feeds: setup.feeds))
        // 20 s: the producer retries while the invocation has time, then gives up.
        async let outcome = processor.invoke(InvocationRequest(payload: setup.payload, timeout: .seconds(20)))
        // Once the producer is connected and under way, kill the broker (a crash) and leave it down.
        // Watched in /proc/net/tcp, not by reading the topic back: a reader started on a loaded
        // machine took longer than the whole chunk's delivery.
        try await blocking {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline && !Self.connected(toPort: setup.broker.port) { usleep(5_000) }
            usleep(300_000)
            setup.broker.stop()
        }
        guard case .functionError(_, let errorType, let body) = await outcome else {
            Issue.record("the chunk finished with its broker gone")
            await processor.stop()
            return
        }
        #expect(errorType == "Sortie.ChunkFailed")
        let message = String(decoding: body, as: UTF8.self)
        #expect(message.contains("Kafka") && message.contains("127.0.0.1:\(setup.broker.port)"), "\(message)")
        // A broker back on the same address. tansu keeps topics in memory, so it comes back empty:
        // the topic is made again, and the whole chunk must be in it after the retry.
        try await blocking {
            try setup.broker.launch()
            try setup.broker.createTopic(setup.topic, partitions: 3)
        }
        let retry = jsonObject(responseBody(await processor.invoke(InvocationRequest(payload: setup.payload, timeout: .seconds(300))), processor))
        await processor.stop()
        #expect(retry["status"] as? String == "done", "\(retry)")
        #expect(retry["delivered"] as? Int == records, "\(retry)")
        let check = try await blocking { try verify(setup) }
        #expect(check.messages == records && check.missing == 0 && check.duplicates == 0, "\(check)")
        #expect(check.problemCount == 0, "\(check.problems)")
        #expect(check.partitionMismatchCount == 0)
    }

    /// Whether a TCP connection to 127.0.0.1:`port` is established (the producer's: nothing else
    /// talks to the broker until it is gone).
    static func connected(toPort port: Int) -> Bool {
        guard let table = procText("/proc/net/tcp") else { return false }
        let remote = String(format: "0100007F:%04X", port)
        return table.split(separator: "\n").dropFirst().contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[2] == remote && fields[3] == "01"
        }
    }

    @Test("over TLS (MSK's TLS listener played by stunnel with a test CA): trusted through SSL_CERT_FILE, every record arrives and librdkafka reads it back over TLS; without the CA the chunk fails naming the certificate, and nothing is sent")
    func overTLS() async throws {
        let records = 20_000
        let tlsPort = try LoopbackHTTP.freePort()
        let broker = try await blocking { try TansuBroker.start(advertisedPort: tlsPort) }
        defer { broker.stop() }
        let terminator = try await blocking { try TLSTerminator.start(forwardingTo: broker.port, port: tlsPort) }
        defer { terminator.stop() }
        let refusedSetup = try await setUp(Self.lines(100), broker: broker, behindTLS: terminator)
        let wary = try await startFunction("chunk-processor", environment: refusedSetup.world.processorEnvironment(feeds: refusedSetup.feeds))
        let refused = await wary.invoke(InvocationRequest(payload: refusedSetup.payload, timeout: .seconds(120)))
        await wary.stop()
        guard case .functionError(_, let errorType, let body) = refused else {
            Issue.record("expected a failure without the test CA, got \(refused)")
            return
        }
        #expect(errorType == "Sortie.ChunkFailed")
        let message = String(decoding: body, as: UTF8.self)
        #expect(message.contains(terminator.address) && message.lowercased().contains("certificate"), "\(message)")
        #expect(try await blocking { try verify(refusedSetup, through: terminator) }.messages == 0)

        let setup = try await setUp(Self.lines(records), broker: broker, behindTLS: terminator)
        let trusting = try await startFunction("chunk-processor", environment: setup.world.processorEnvironment(
            feeds: setup.feeds, extra: ["SSL_CERT_FILE": terminator.authority]))
        let answer = jsonObject(responseBody(await trusting.invoke(InvocationRequest(payload: setup.payload, timeout: .seconds(300))), trusting))
        await trusting.stop()
        #expect(answer["status"] as? String == "done", "\(answer) \(broker.logTail())")
        #expect(answer["delivered"] as? Int == records)
        let check = try await blocking { try verify(setup, through: terminator) }
        #expect(check.messages == records && check.distinct == records && check.missing == 0 && check.duplicates == 0, "\(check)")
        #expect(check.problemCount == 0, "\(check.problems)")
        #expect(check.partitionMismatchCount == 0, "\(check.partitionMismatches)")
    }

    @Test("the partitions' leader moves mid-chunk from broker 1 to broker 2, the crossing request's acknowledgement lost: the producer follows the metadata to the new leader, its resend is deduplicated by sequence number, and every record is in the topic once")
    func leaderMoved() async throws {
        let records = 200_000
        let broker = try await blocking { try TansuBroker.start() }
        defer { broker.stop() }
        let proxy = try await blocking { try LeaderMoveProxy.start(upstream: broker.port, moveAfter: 2) }
        defer { proxy.stop() }
        let setup = try await setUp(Self.lines(records), broker: broker, via: proxy.bootstrap)
        let processor = try await startFunction("chunk-processor", environment: setup.world.processorEnvironment(feeds: setup.feeds))
        let answer = jsonObject(responseBody(await processor.invoke(InvocationRequest(payload: setup.payload, timeout: .seconds(300))), processor))
        await processor.stop()
        #expect(answer["status"] as? String == "done", "\(answer) \(broker.logTail())")
        #expect(answer["delivered"] as? Int == records)
        let events = try proxy.events()
        #expect(events.filter { $0["kind"] == "moved" }.count == 1, "\(events)")
        #expect(events.contains { $0["kind"] == "produce" && $0["broker"] == "2" }, "nothing was produced at the new leader: \(events)")
        #expect(events.contains { $0["kind"] == "metadata" && $0["leader"] == "2" }, "the producer never asked who leads now")
        let check = try await blocking { try verify(setup) }
        #expect(check.messages == records && check.distinct == records && check.missing == 0 && check.duplicates == 0, "\(check)")
        #expect(check.problemCount == 0, "\(check.problems)")
        #expect(check.partitionMismatchCount == 0, "\(check.partitionMismatches)")
    }

    @Test("a topic that does not exist fails the chunk, naming the topic and Kafka's error; nothing is created")
    func missingTopic() async throws {
        let setup = try await setUp(Self.lines(100), createTopic: false)
        defer { setup.broker.stop() }
        let processor = try await startFunction("chunk-processor", environment: setup.world.processorEnvironment(feeds: setup.feeds))
        let outcome = await processor.invoke(InvocationRequest(payload: setup.payload, timeout: .seconds(60)))
        await processor.stop()
        guard case .functionError(_, let errorType, let body) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(errorType == "Sortie.ChunkFailed")
        let message = String(decoding: body, as: UTF8.self)
        #expect(message.contains("UNKNOWN_TOPIC_OR_PARTITION") && message.contains(setup.topic), "\(message)")
        let state = try await blocking { try setup.world.jobTable.loadFile(setup.fileID)?.chunks.first?.state }
        #expect(state == .failed)
    }

    @Test("a record larger than the topic's max.message.bytes is rejected alone; the others are delivered")
    func oversizeRecord() async throws {
        let body = Self.lines(50) { $0 == 17 ? #","pad":"\#(String(repeating: "x", count: 5000))""# : "" }
        let setup = try await setUp(body, topicConfig: ["max.message.bytes=2000"])
        defer { setup.broker.stop() }
        let processor = try await startFunction("chunk-processor", environment: setup.world.processorEnvironment(feeds: setup.feeds))
        let answer = jsonObject(responseBody(await processor.invoke(InvocationRequest(payload: setup.payload, timeout: .seconds(60))), processor))
        await processor.stop()
        #expect(answer["status"] as? String == "done", "\(answer)")
        #expect(answer["delivered"] as? Int == 49)
        #expect(answer["rejected"] as? Int == 1)
        let rejectsURI = try #require(answer["rejects"] as? String)
        let rejectsKey = String(rejectsURI.dropFirst("s3://\(setup.world.outputBucket)/".count))
        let rejects = try await blocking { try setup.world.s3.getObject(bucket: setup.world.outputBucket, key: rejectsKey).body }
        let line = jsonObject(rejects.split(separator: UInt8(ascii: "\n")).first.map { Data($0) })
        #expect(line["line"] as? Int == 17)
        #expect((line["reason"] as? String)?.contains("max.message.bytes 2000") == true, "\(line)")
        let check = try await blocking { try verify(setup) }
        #expect(check.messages == 49)
        #expect(check.missing == 1)
        #expect(check.problemCount == 0, "\(check.problems)")
    }
}

struct ProxyError: Error, CustomStringConvertible {
    var description: String
}

/// scripts/kafka_leader_proxy.py: brokers 1 and 2 in front of one tansu, the leadership moving
/// from 1 to 2 after `moveAfter` Produce requests.
struct LeaderMoveProxy {
    static let script = KafkaDeliveryTests.script.replacingOccurrences(of: "kafka_check.py", with: "kafka_leader_proxy.py")
    let process: Process
    let port: Int
    let eventsFile: URL

    var bootstrap: String { "127.0.0.1:\(port)" }

    static func start(upstream: Int, moveAfter: Int) throws -> LeaderMoveProxy {
        let first = try LoopbackHTTP.freePort(), second = try LoopbackHTTP.freePort()
        let eventsFile = FileManager.default.temporaryDirectory.appendingPathComponent("leader-move-\(UUID().uuidString).jsonl")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, String(upstream), String(first), String(second), String(moveAfter), eventsFile.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // One line, "ready", once both listen; bounded by the proxy's exit (EOF) if it fails.
        let line = output.fileHandleForReading.readLine()
        guard line == "ready" else {
            process.terminate()
            throw ProxyError(description: "the leader-move proxy did not start: \(line ?? "no output")")
        }
        return LeaderMoveProxy(process: process, port: first, eventsFile: eventsFile)
    }

    /// Every event the proxy recorded, values as text.
    func events() throws -> [[String: String]] {
        let text = (try? String(contentsOf: eventsFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
            return object.mapValues { "\($0)" }
        }
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

extension FileHandle {
    /// A line of output, without its newline; nil at end of file.
    func readLine() -> String? {
        var bytes: [UInt8] = []
        while let byte = try? read(upToCount: 1), let first = byte.first {
            if first == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(first)
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}
