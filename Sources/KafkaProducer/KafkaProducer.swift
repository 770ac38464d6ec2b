import CurlHTTP
import WallTime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How to reach the cluster and how to batch.
public struct KafkaConfiguration: Sendable {
    /// `host:port` pairs; any one of them answering is enough.
    public var bootstrapServers: [String]
    public var tls: Bool
    public var authentication: KafkaAuthentication
    public var compression: KafkaCompression
    public var clientID = "sortie"
    /// Largest batch built (the topic's `max.message.bytes` caps it further).
    public var batchBytes = 1 << 20
    /// Closed batches held before sending them (all partitions together).
    public var bufferBytes = 4 << 20
    /// One request's wait for the broker (Produce's own timeout is the same).
    public var requestTimeoutMilliseconds: Int64 = 30_000
    public var retryBackoffMilliseconds: Int64 = 100
    public var maxRetryBackoffMilliseconds: Int64 = 2_000

    public init(bootstrapServers: [String], tls: Bool = false, authentication: KafkaAuthentication = .none, compression: KafkaCompression = .none) {
        self.bootstrapServers = bootstrapServers
        self.tls = tls
        self.authentication = authentication
        self.compression = compression
    }
}

/// An idempotent producer to one topic, `acks=all`, synchronous: `append` queues a record in its
/// partition's batch (sending full batches as they pile up), `flush` returns once the brokers
/// have acknowledged everything. Retriable failures (leader moves, a broker restarting, lost
/// connections) are retried with backoff while `timeLeft()` is positive, resending the same
/// sealed batches, whose sequence numbers let the broker drop a copy it already has.
public final class KafkaProducer {
    public let topic: String
    private let configuration: KafkaConfiguration
    private let timeLeft: () -> Int64
    private var connections: [Int32: KafkaConnection] = [:]
    private var brokers: [Int32: (host: String, port: Int)] = [:]
    private var leaders: [Int32] = []
    /// The topic's `max.message.bytes`: a batch is never larger.
    public private(set) var maxMessageBytes = 1_048_588
    private var producerID: Int64 = -1
    private var epoch: Int16 = 0
    private var open: [OpenBatch?] = []
    private var sealed: [[SealedBatch]] = []
    private var sealedBytes = 0
    private var nextSequence: [Int32] = []
    private var sticky = 0
    /// Records the brokers acknowledged.
    public private(set) var delivered: Int64 = 0

    public var partitionCount: Int { leaders.count }

    /// Connects, reads the topic's partitions and size limit, and gets a producer id.
    public init(topic: String, configuration: KafkaConfiguration, timeLeft: @escaping () -> Int64) throws(KafkaError) {
        self.topic = topic
        self.configuration = configuration
        self.timeLeft = timeLeft
        try retrying("reading the metadata of topic \(topic)") { () throws(KafkaError) in try refreshMetadata() }
        do {
            try retrying("reading the configuration of topic \(topic)") { () throws(KafkaError) in try readLimit() }
        } catch where error.kind == .authorization {
            // Not allowed to read it (MSK IAM without DescribeTopicDynamicConfiguration): Kafka's default stands.
        }
        try retrying("getting a producer id") { () throws(KafkaError) in try initProducerID() }
        open = Array(repeating: nil, count: leaders.count)
        sealed = Array(repeating: [], count: leaders.count)
        nextSequence = Array(repeating: 0, count: leaders.count)
        sticky = Int.random(in: 0..<leaders.count)
    }

    /// The partition a record goes to: by its key as Kafka's default partitioner does, else the
    /// sticky partition (one partition until its batch is full).
    public func partition(forKey key: UnsafeBufferPointer<UInt8>?) -> Int {
        key.map { Murmur2.partition(forKey: $0, partitions: leaders.count) } ?? sticky
    }

    /// Queues one record. Returns why it can never be sent (larger than the topic allows), or nil.
    public func append(key: UnsafeBufferPointer<UInt8>?, value: UnsafeBufferPointer<UInt8>, headers: [KafkaHeader]) throws(KafkaError) -> String? {
        let alone = OpenBatch.headerBytes + OpenBatch.recordSize(key: key, valueCount: value.count, headers: headers, offsetDelta: 0)
        guard alone <= maxMessageBytes else {
            return "\(alone) bytes as a Kafka record batch, more than topic \(topic) takes (max.message.bytes \(maxMessageBytes))"
        }
        let limit = min(maxMessageBytes, configuration.batchBytes)
        var target = partition(forKey: key)
        if try sealIfFull(target, adding: alone, limit: limit), key == nil {
            sticky = (sticky + 1) % leaders.count
            target = sticky
            try sealIfFull(target, adding: alone, limit: limit)
        }
        if open[target] == nil { open[target] = OpenBatch(timestamp: WallClock.unixMilliseconds(), capacity: min(limit, 1 << 20)) }
        open[target]?.append(key: key, value: value, headers: headers)
        if sealedBytes >= configuration.bufferBytes { try sendSealed() }
        return nil
    }

    /// Sends every record queued and waits for the acknowledgements.
    public func flush() throws(KafkaError) {
        for partition in open.indices where open[partition] != nil { try seal(partition) }
        try sendSealed()
    }

    /// Seals the partition's batch when `recordBytes` more would take it past `limit`.
    @discardableResult
    private func sealIfFull(_ partition: Int, adding recordBytes: Int, limit: Int) throws(KafkaError) -> Bool {
        // `recordBytes` counts a header and offset delta 0: a few bytes over, never under, what the record takes.
        guard let batch = open[partition], batch.size + recordBytes - OpenBatch.headerBytes + 4 > limit else { return false }
        try seal(partition)
        return true
    }

    private func seal(_ partition: Int) throws(KafkaError) {
        guard let batch = open[partition] else { return }
        open[partition] = nil
        do {
            let closed = try batch.close(producerID: producerID, epoch: epoch, baseSequence: nextSequence[partition], compression: configuration.compression)
            nextSequence[partition] &+= closed.count
            sealedBytes += closed.bytes.count
            sealed[partition].append(closed)
        } catch {
            throw KafkaError(.failed, "compressing a batch: \(error)")
        }
    }

    /// One Produce request per leader, each with the oldest sealed batch of its partitions (in
    /// order per partition, as sequence numbers require), until none is left.
    private func sendSealed() throws(KafkaError) {
        var attempt = 0
        var lastError: KafkaError?
        while sealed.contains(where: { !$0.isEmpty }) {
            var retry: KafkaError?
            var byLeader: [Int32: [Int]] = [:]
            for partition in sealed.indices where !sealed[partition].isEmpty { byLeader[leaders[partition], default: []].append(partition) }
            var pending: [(KafkaConnection, Int32, [Int])] = []
            for (leader, partitions) in byLeader.sorted(by: { $0.key < $1.key }) {
                do {
                    let connection = try self.connection(to: leader)
                    let correlation = try connection.send(KafkaAPI.produce, deadline: requestDeadline()) { writer in
                        writer.nullableString(nil)  // not transactional
                        writer.int16(-1)  // acks=all
                        writer.int32(Int32(configuration.requestTimeoutMilliseconds))
                        writer.int32(1)
                        writer.string(topic)
                        writer.int32(Int32(partitions.count))
                        for partition in partitions {
                            writer.int32(Int32(partition))
                            writer.bytesField(sealed[partition][0].bytes)
                        }
                    }
                    pending.append((connection, correlation, partitions))
                } catch {
                    drop(leader)
                    retry = error
                }
            }
            for (connection, correlation, _) in pending {
                do {
                    var reader = try connection.receive(correlation, for: KafkaAPI.produce, deadline: requestDeadline())
                    for _ in 0..<max(0, try reader.int32()) {
                        _ = try reader.string()
                        for _ in 0..<max(0, try reader.int32()) {
                            let partition = Int(try reader.int32())
                            let code = try reader.int16()
                            _ = try reader.int64()  // base offset
                            _ = try reader.int64()  // log append time
                            guard sealed.indices.contains(partition), !sealed[partition].isEmpty else { continue }
                            if code == 0 || code == KafkaError.duplicateSequence {
                                let batch = sealed[partition].removeFirst()
                                sealedBytes -= batch.bytes.count
                                delivered += Int64(batch.count)
                            } else if let error = KafkaError.code(code, "producing to \(topic) partition \(partition) on \(connection.endpoint)") {
                                guard error.kind == .retriable else { throw error }
                                retry = error
                            }
                        }
                    }
                } catch let error as KafkaError {
                    guard error.kind == .retriable else { throw error }
                    drop(connection.nodeID)
                    retry = error
                } catch {
                    drop(connection.nodeID)
                    retry = KafkaError(.failed, "\(connection.endpoint): unreadable Produce response (\(error))")
                }
            }
            guard let retry else { attempt = 0; continue }
            attempt += 1
            lastError = retry
            try backoff(attempt, after: retry)
            do {
                try refreshMetadata()
            } catch where error.kind == .retriable {
                lastError = error
            }
        }
        _ = lastError
    }

    // MARK: - Cluster state

    private func requestDeadline() -> Int64 {
        WallClock.monotonicMilliseconds() + max(1, min(configuration.requestTimeoutMilliseconds, timeLeft()))
    }

    /// Waits before the next attempt, or gives up with `error` when the time left would not cover it.
    private func backoff(_ attempt: Int, after error: KafkaError) throws(KafkaError) {
        let base = min(configuration.maxRetryBackoffMilliseconds, configuration.retryBackoffMilliseconds << min(attempt - 1, 10))
        let wait = Int64.random(in: base / 2...base)
        guard timeLeft() > wait else { throw KafkaError(error.kind, "\(error.message) (gave up after \(attempt) attempts: out of time)") }
        usleep(useconds_t(wait * 1000))
    }

    private func retrying(_ what: String, _ body: () throws(KafkaError) -> Void) throws(KafkaError) {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch where error.kind == .retriable {
                attempt += 1
                try backoff(attempt, after: KafkaError(.retriable, "\(what): \(error.message)"))
            }
        }
    }

    private func drop(_ node: Int32) {
        connections[node] = nil
    }

    private func connection(to node: Int32) throws(KafkaError) -> KafkaConnection {
        if let existing = connections[node] { return existing }
        guard let address = brokers[node] else { throw KafkaError(.retriable, "no address for broker \(node)") }
        let connection = try KafkaConnection(host: address.host, port: address.port, nodeID: node, configuration: configuration, deadline: requestDeadline())
        connections[node] = connection
        return connection
    }

    /// Any connection: an open one, else a known broker, else a bootstrap server.
    private func anyConnection() throws(KafkaError) -> KafkaConnection {
        if let existing = connections.values.first { return existing }
        var lastError = KafkaError(.retriable, "no bootstrap server given")
        for node in brokers.keys.sorted() {
            do { return try connection(to: node) } catch { lastError = error }
        }
        for (index, server) in configuration.bootstrapServers.enumerated() {
            guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) else {
                throw KafkaError(.failed, "bootstrap server '\(server)' is not host:port")
            }
            let host = String(server[..<colon].filter { $0 != "[" && $0 != "]" })
            do {
                let connection = try KafkaConnection(
                    host: host, port: port, nodeID: Int32(-1 - index), configuration: configuration, deadline: requestDeadline())
                connections[connection.nodeID] = connection
                return connection
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Calls `body` on any broker, dropping the connection when it fails.
    private func onAnyBroker<T>(_ api: KafkaAPI, _ request: (inout KafkaWriter) -> Void, _ body: (inout KafkaReader) throws -> T) throws(KafkaError) -> T {
        let connection = try anyConnection()
        do {
            var reader = try connection.call(api, deadline: requestDeadline(), body: request)
            return try body(&reader)
        } catch let error as KafkaError {
            if error.kind == .retriable { drop(connection.nodeID) }
            throw error
        } catch {
            drop(connection.nodeID)
            throw KafkaError(.failed, "\(connection.endpoint): unreadable response (\(error))")
        }
    }

    /// Metadata v4 for the topic, without creating it: brokers and each partition's leader.
    private func refreshMetadata() throws(KafkaError) {
        let topic = self.topic
        let (found, partitionLeaders) = try onAnyBroker(KafkaAPI.metadata, { writer in
            writer.int32(1)
            writer.string(topic)
            writer.int8(0)  // allow_auto_topic_creation: false — a missing topic is an error, not a new topic
        }) { reader -> ([Int32: (host: String, port: Int)], [Int32: Int32]) in
            _ = try reader.int32()  // throttle
            var found: [Int32: (host: String, port: Int)] = [:]
            for _ in 0..<max(0, try reader.int32()) {
                let node = try reader.int32()
                let host = try reader.string()
                let port = Int(try reader.int32())
                _ = try reader.nullableString()  // rack
                found[node] = (host, port)
            }
            _ = try reader.nullableString()  // cluster id
            _ = try reader.int32()  // controller
            var partitionLeaders: [Int32: Int32] = [:]
            for _ in 0..<max(0, try reader.int32()) {
                let code = try reader.int16()
                let name = try reader.string()
                _ = try reader.bool()
                if let error = KafkaError.code(code, "metadata of topic \(name)") { throw error }
                for _ in 0..<max(0, try reader.int32()) {
                    _ = try reader.int16()
                    let index = try reader.int32()
                    partitionLeaders[index] = try reader.int32()
                    _ = try reader.array { reader throws(KafkaDecodingError) in try reader.int32() }
                    _ = try reader.array { reader throws(KafkaDecodingError) in try reader.int32() }
                }
            }
            return (found, partitionLeaders)
        }
        guard !partitionLeaders.isEmpty else { throw KafkaError(.topicMissing, "topic \(topic) has no partitions") }
        guard leaders.isEmpty || partitionLeaders.count == leaders.count else {
            throw KafkaError(.failed, "topic \(topic) went from \(leaders.count) to \(partitionLeaders.count) partitions during the chunk")
        }
        var ordered: [Int32] = []
        for index in 0..<Int32(partitionLeaders.count) {
            guard let leader = partitionLeaders[index] else { throw KafkaError(.failed, "topic \(topic): partition \(index) is missing from its metadata") }
            ordered.append(leader)
        }
        // Connections to brokers that moved or went are dropped; bootstrap ones are kept.
        for (node, address) in brokers where found[node].map({ $0 != address }) ?? true { drop(node) }
        brokers = found
        leaders = ordered
        if let missing = leaders.first(where: { $0 < 0 || brokers[$0] == nil }) {
            throw KafkaError(.retriable, "topic \(topic): LEADER_NOT_AVAILABLE (leader \(missing))")
        }
    }

    /// DescribeConfigs v0: the topic's `max.message.bytes` (Kafka's default when not told).
    private func readLimit() throws(KafkaError) {
        let topic = self.topic
        let value: String? = try onAnyBroker(KafkaAPI.describeConfigs, { writer in
            writer.int32(1)
            writer.int8(2)  // resource type: topic
            writer.string(topic)
            // Null names: every configuration of the topic. Naming max.message.bytes alone is what
            // Kafka allows too, but tansu 0.6 cannot decode that request and drops the connection.
            writer.int32(-1)
            writer.int8(0)  // include_synonyms: false
        }) { reader -> String? in
            _ = try reader.int32()
            var value: String?
            for _ in 0..<max(0, try reader.int32()) {
                let code = try reader.int16()
                let message = try reader.nullableString()
                _ = try reader.int8()
                _ = try reader.string()
                if let error = KafkaError.code(code, "configuration of topic \(topic)\(message.map { " (\($0))" } ?? "")") { throw error }
                for _ in 0..<max(0, try reader.int32()) {
                    let name = try reader.string()
                    let text = try reader.nullableString()
                    _ = try reader.bool()  // read_only
                    _ = try reader.int8()  // config_source
                    _ = try reader.bool()  // is_sensitive
                    _ = try reader.array { synonym throws(KafkaDecodingError) in
                        (try synonym.string(), try synonym.nullableString(), try synonym.int8())
                    }
                    if name == "max.message.bytes" { value = text }
                }
            }
            return value
        }
        if let value, let bytes = Int(value), bytes > OpenBatch.headerBytes { maxMessageBytes = bytes }
    }

    /// A new producer id and epoch (v3: null transactional id, no id or epoch to renew).
    private func initProducerID() throws(KafkaError) {
        (producerID, epoch) = try onAnyBroker(KafkaAPI.initProducerID, { writer in
            writer.int8(0)  // transactional_id: compact nullable string, null
            writer.int32(60_000)
            writer.int64(-1)
            writer.int16(-1)
            writer.int8(0)  // no tagged fields
        }) { reader -> (Int64, Int16) in
            _ = try reader.int32()
            if let error = KafkaError.code(try reader.int16(), "InitProducerId") { throw error }
            return (try reader.int64(), try reader.int16())
        }
    }
}
