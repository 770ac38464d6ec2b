import RecordFormats

/// What Sortie knows about the files under one S3 prefix: how to read them, what a valid
/// record looks like, where valid and invalid records go. Both the submitter and the chunk
/// processor read the same document (`SORTIE_FEEDS` or `SORTIE_FEEDS_URI`).
public struct Feed: Encodable, Sendable, Equatable {
    public var name: String
    /// Object keys starting with this belong to the feed.
    public var prefix: String
    /// `csv`, `tsv` or `jsonl`.
    public var format: String
    /// CSV only: one character, `,` by default.
    public var delimiter: String?
    /// CSV only: the first line names the columns (default true).
    public var header: Bool?
    public var fields: [FieldRule]
    public var destination: Destination
    public var rejects: S3Location
    /// A Batch chunk's time limit per attempt, seconds (Batch's `timeout.attemptDurationSeconds`,
    /// at least 60); `defaultBatchTimeoutSeconds` when absent.
    public var batchTimeoutSeconds: Int?

    public static let defaultBatchTimeoutSeconds = 7200

    public init(
        name: String, prefix: String, format: String, delimiter: String? = nil, header: Bool? = nil, fields: [FieldRule],
        destination: Destination, rejects: S3Location, batchTimeoutSeconds: Int? = nil
    ) {
        self.batchTimeoutSeconds = batchTimeoutSeconds
        self.name = name
        self.prefix = prefix
        self.format = format
        self.delimiter = delimiter
        self.header = header
        self.fields = fields
        self.destination = destination
        self.rejects = rejects
    }

    public var recordFormat: RecordFormat? { RecordFormat(name: format, delimiter: delimiter) }

    /// Whether the first line is a header: CSV files have one unless the feed says otherwise.
    public var hasHeader: Bool {
        guard case .csv? = recordFormat else { return false }
        return header ?? true
    }
}

public struct FieldRule: Encodable, Sendable, Equatable {
    public enum Kind: String, Encodable, Sendable {
        case string, integer, number, boolean, date
    }

    public var name: String
    public var type: Kind
    /// Present and not empty (not null in JSON Lines).
    public var required: Bool?
    /// A regular expression the whole text value must match.
    public var pattern: String?

    public init(name: String, type: Kind, required: Bool? = nil, pattern: String? = nil) {
        self.name = name
        self.type = type
        self.required = required
        self.pattern = pattern
    }
}

public struct S3Location: Encodable, Sendable, Equatable {
    public var bucket: String
    public var prefix: String

    public init(bucket: String, prefix: String = "") {
        self.bucket = bucket
        self.prefix = prefix
    }
}

/// Where valid records are delivered.
public enum Destination: Encodable, Sendable, Equatable {
    /// Messages whose bodies are JSON Lines of up to `recordsPerMessage` records.
    case sqs(queueURL: String, recordsPerMessage: Int)
    /// One JSON Lines object per chunk under `prefix`.
    case s3(S3Location)
    /// One Kafka record per valid record.
    case kafka(KafkaDestination)

    enum CodingKeys: String, CodingKey { case type, queueUrl, recordsPerMessage, bucket, prefix }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .sqs(let queueURL, let perMessage):
            try container.encode("sqs", forKey: .type)
            try container.encode(queueURL, forKey: .queueUrl)
            try container.encode(perMessage, forKey: .recordsPerMessage)
        case .s3(let location):
            try container.encode("s3", forKey: .type)
            try container.encode(location.bucket, forKey: .bucket)
            try container.encode(location.prefix, forKey: .prefix)
        case .kafka(let kafka):
            try kafka.encode(to: encoder)
        }
    }
}

/// `{"type": "kafka", "bootstrapServers": "host:port,…", "topic": …, "auth": "none" | "msk-iam" |
/// "scram-sha-512", "tls": bool, "key": "<field>", "compression": "none" | "gzip"}`.
public struct KafkaDestination: Encodable, Sendable, Equatable {
    public enum Auth: String, Encodable, Sendable, CaseIterable {
        case none
        /// SASL/OAUTHBEARER with a SigV4-signed token from the function's role (MSK IAM, port 9098).
        case mskIAM = "msk-iam"
        /// SASL/SCRAM-SHA-512 with SORTIE_KAFKA_USERNAME and SORTIE_KAFKA_PASSWORD (MSK SCRAM, port 9096).
        case scramSHA512 = "scram-sha-512"
    }

    public enum Compression: String, Encodable, Sendable, CaseIterable {
        case none, gzip
    }

    /// `host:port` each.
    public var bootstrapServers: [String]
    public var topic: String
    public var auth: Auth
    public var tls: Bool
    /// The field whose value is the record's key (partitioning by it); none: no key, sticky batches.
    public var key: String?
    public var compression: Compression

    public init(bootstrapServers: [String], topic: String, auth: Auth = .none, tls: Bool = false, key: String? = nil, compression: Compression = .none) {
        self.bootstrapServers = bootstrapServers
        self.topic = topic
        self.auth = auth
        self.tls = tls
        self.key = key
        self.compression = compression
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        try container.encode("kafka", forKey: AnyKey(stringValue: "type"))
        try container.encode(bootstrapServers.joined(separator: ","), forKey: AnyKey(stringValue: "bootstrapServers"))
        try container.encode(topic, forKey: AnyKey(stringValue: "topic"))
        try container.encode(auth, forKey: AnyKey(stringValue: "auth"))
        try container.encode(tls, forKey: AnyKey(stringValue: "tls"))
        try container.encodeIfPresent(key, forKey: AnyKey(stringValue: "key"))
        try container.encode(compression, forKey: AnyKey(stringValue: "compression"))
    }
}

/// The feeds document: `{"feeds": [...]}`.
public struct FeedCatalog: Encodable, Sendable, Equatable {
    public var feeds: [Feed]

    public init(feeds: [Feed]) {
        self.feeds = feeds
    }

    /// The feed with the longest prefix that `key` starts with.
    public func feed(forKey key: String) -> Feed? {
        feeds.filter { key.hasPrefix($0.prefix) }.max { $0.prefix.count < $1.prefix.count }
    }

    public func feed(named name: String) -> Feed? {
        feeds.first { $0.name == name }
    }

    /// Every feed must name a readable format; names must be unique (reading the document checks it).
    public func validate() throws(FeedError) {
        var names = Set<String>()
        for feed in feeds {
            guard names.insert(feed.name).inserted else { throw FeedError(feed: feed.name, reason: "the name is used twice") }
            if let seconds = feed.batchTimeoutSeconds, seconds < 60 {
                throw FeedError(feed: feed.name, reason: "batchTimeoutSeconds must be at least 60 (Batch's minimum), not \(seconds)")
            }
            guard feed.recordFormat != nil else {
                throw FeedError(feed: feed.name, reason: "format '\(feed.format)' is not csv, tsv or jsonl (or its delimiter is not one character)")
            }
            if case .kafka(let kafka) = feed.destination, let key = kafka.key, !feed.fields.contains(where: { $0.name == key }) {
                throw FeedError(feed: feed.name, reason: "destination key 'key': '\(key)' is not one of the feed's fields")
            }
        }
    }
}

public struct FeedError: Error, Sendable, Equatable, CustomStringConvertible {
    public var feed: String
    public var reason: String
    public init(feed: String, reason: String) {
        self.feed = feed
        self.reason = reason
    }

    public var description: String { feed.isEmpty ? "the feeds document: \(reason)" : "feed '\(feed)': \(reason)" }
}
