import RecordFormats

/// What Sortie knows about the files under one S3 prefix: how to read them, what a valid
/// record looks like, where valid and invalid records go. Both the submitter and the chunk
/// processor read the same document (`SORTIE_FEEDS` or `SORTIE_FEEDS_URI`).
public struct Feed: Codable, Sendable, Equatable {
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

public struct FieldRule: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
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

public struct S3Location: Codable, Sendable, Equatable {
    public var bucket: String
    public var prefix: String

    public init(bucket: String, prefix: String = "") {
        self.bucket = bucket
        self.prefix = prefix
    }
}

/// Where valid records are delivered.
public enum Destination: Codable, Sendable, Equatable {
    /// Messages whose bodies are JSON Lines of up to `recordsPerMessage` records.
    case sqs(queueURL: String, recordsPerMessage: Int)
    /// One JSON Lines object per chunk under `prefix`.
    case s3(S3Location)

    enum CodingKeys: String, CodingKey { case type, queueUrl, recordsPerMessage, bucket, prefix }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "sqs":
            let perMessage = try container.decodeIfPresent(Int.self, forKey: .recordsPerMessage) ?? 1
            guard perMessage >= 1 else {
                throw DecodingError.dataCorruptedError(forKey: .recordsPerMessage, in: container, debugDescription: "must be at least 1")
            }
            self = .sqs(queueURL: try container.decode(String.self, forKey: .queueUrl), recordsPerMessage: perMessage)
        case "s3":
            self = .s3(S3Location(
                bucket: try container.decode(String.self, forKey: .bucket),
                prefix: try container.decodeIfPresent(String.self, forKey: .prefix) ?? ""))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown destination type '\(other)' (sqs or s3)")
        }
    }

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
        }
    }
}

/// The feeds document: `{"feeds": [...]}`.
public struct FeedCatalog: Codable, Sendable, Equatable {
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

    /// Every feed must name a readable format; names must be unique.
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

    public var description: String { "feed '\(feed)': \(reason)" }
}
