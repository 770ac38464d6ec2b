import ChunkPlanning
import Foundation
import Testing

@Suite struct FeedsDocumentTests {
    /// The deployed definitions' own feeds: what the chunk functions really read.
    @Test("reads every definition's feeds document", arguments: ["s3-submitter", "chunk-processor"])
    func readsTheDefinitions(_ function: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let definition = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("functions/\(function).json"))) as? [String: Any]
        let feeds = try #require((definition?["environment"] as? [String: Any])?["SORTIE_FEEDS"] as? String)
        let catalog = try FeedCatalog(document: Array(feeds.utf8))
        #expect(catalog.feeds.map(\.name) == ["orders", "clicks"])
        #expect(catalog.feed(named: "orders")?.destination == .sqs(queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/sortie-orders", recordsPerMessage: 100))
        #expect(catalog.feed(named: "orders")?.fields.first == FieldRule(name: "order_id", type: .integer, required: true))
        guard case .kafka(let kafka)? = catalog.feed(named: "clicks")?.destination else { Issue.record("clicks is not delivered to Kafka"); return }
        #expect(kafka.auth == .mskIAM && kafka.tls && kafka.key == "user_id" && kafka.bootstrapServers.count == 2)
    }

    /// What the dev environment and the tests write is what the functions read back.
    @Test func readsWhatItsEncoderWrites() throws {
        let catalog = FeedCatalog(feeds: [
            Feed(name: "a", prefix: "in/a/", format: "csv", delimiter: ";", header: false,
                 fields: [FieldRule(name: "id", type: .integer, required: true), FieldRule(name: "code", type: .string, pattern: "[A-Z]+")],
                 destination: .s3(S3Location(bucket: "out", prefix: "a/")), rejects: S3Location(bucket: "rejects"), batchTimeoutSeconds: 600),
            Feed(name: "b", prefix: "in/b/", format: "jsonl", fields: [FieldRule(name: "k", type: .string)],
                 destination: .kafka(KafkaDestination(bootstrapServers: ["127.0.0.1:9092"], topic: "t", key: "k", compression: .gzip)),
                 rejects: S3Location(bucket: "rejects", prefix: "b/")),
            Feed(name: "c", prefix: "in/c/", format: "tsv", fields: [], destination: .sqs(queueURL: "https://q", recordsPerMessage: 10), rejects: S3Location(bucket: "r")),
        ])
        #expect(try FeedCatalog(document: JSONEncoder().encode(catalog)) == catalog)
    }

    static let valid = #"{"name": "orders", "prefix": "in/", "format": "csv", "fields": [{"name": "id", "type": "integer"}], "destination": DEST, "rejects": {"bucket": "r"}}"#

    static func document(_ feed: String = valid, destination: String = #"{"type": "s3", "bucket": "out"}"#) -> [UInt8] {
        Array(#"{"feeds": [\#(feed.replacingOccurrences(of: "DEST", with: destination))]}"#.utf8)
    }

    @Test("a mistake names the feed and the key", arguments: [
        (document(destination: #"{"type": "sqs", "queueUrl": "https://q", "recordsPerMesage": 10}"#), "feed 'orders': destination key 'recordsPerMesage': unknown"),
        (document(destination: #"{"type": "sqs", "queueUrl": "https://q", "recordsPerMessage": 0}"#), "feed 'orders': destination key 'recordsPerMessage': must be at least 1"),
        (document(destination: #"{"type": "sqs", "queueUrl": "https://q", "recordsPerMessage": "10"}"#), "destination key 'recordsPerMessage': must be a whole number, got a string"),
        (document(destination: #"{"type": "sqs"}"#), "feed 'orders': destination key 'queueUrl': required"),
        (document(destination: #"{"type": "sns"}"#), "feed 'orders': destination key 'type': unknown destination type 'sns'"),
        (document(destination: #""s3://out""#), "feed 'orders': destination must be an object, got a string"),
        (document(destination: #"{"type": "kafka", "bootstrapServers": "b:9098", "topic": "t", "acks": 1}"#), "feed 'orders': destination key 'acks': unknown for type kafka"),
        (document(destination: #"{"type": "kafka", "bootstrapServers": "b:9098", "topic": "t", "auth": "msk-iam", "tls": false}"#), "destination key 'tls': must be true with auth msk-iam"),
        (document(destination: #"{"type": "kafka", "bootstrapServers": "b", "topic": "t"}"#), "destination key 'bootstrapServers': 'b' is not host:port"),
        (document(destination: #"{"type": "kafka", "bootstrapServers": "b:1", "topic": "a b"}"#), "destination key 'topic': 'a b' is not a Kafka topic name"),
        (document(destination: #"{"type": "kafka", "bootstrapServers": "b:1", "topic": "t", "key": "missing"}"#), "feed 'orders': destination key 'key': 'missing' is not one of the feed's fields"),
        (document(#"{"name": "orders", "prefix": "in/", "format": "csv", "fields": [{"name": "id", "type": "int"}], "destination": DEST, "rejects": {"bucket": "r"}}"#), "feed 'orders': fields[0] key 'type': 'int' is not string"),
        (document(#"{"name": "orders", "prefix": "in/", "format": "csv", "fields": [], "destination": DEST, "rejects": {"bucket": "r", "region": "x"}}"#), "feed 'orders': rejects key 'region': unknown"),
        (document(#"{"name": "orders", "format": "csv", "fields": [], "destination": DEST, "rejects": {"bucket": "r"}}"#), "feed 'orders': key 'prefix': required"),
        (document(#"{"name": "orders", "prefix": "in/", "format": "xml", "fields": [], "destination": DEST, "rejects": {"bucket": "r"}}"#), "feed 'orders': format 'xml' is not csv"),
        (document(#"{"name": "orders", "prefix": "in/", "format": "csv", "header": "yes", "fields": [], "destination": DEST, "rejects": {"bucket": "r"}}"#), "feed 'orders': key 'header': must be true or false, got a string"),
        (document(#"{"prefix": "in/"}"#), "feed '#1': key 'name': required"),
        (Array(#"{"feeds": {}}"#.utf8), "the feeds document: the document must be {\"feeds\": [...]}, got an object"),
        (Array(#"{"feeds": [], "extra": 1}"#.utf8), "the feeds document: the document key 'extra': unknown"),
        (Array(#"{"feeds": [}"#.utf8), "the feeds document: not JSON at byte 11: expected a value"),
    ])
    func refuses(_ document: [UInt8], _ expected: String) {
        #expect {
            _ = try FeedCatalog(document: document)
        } throws: { error in
            String(describing: error).contains(expected)
        }
    }

    @Test func twoFeedsOfOneNameAreRefused() {
        #expect(throws: FeedError(feed: "orders", reason: "the name is used twice")) {
            _ = try FeedCatalog(document: Array(#"{"feeds": [\#(Self.valid), \#(Self.valid)]}"#.replacingOccurrences(of: "DEST", with: #"{"type": "s3", "bucket": "o"}"#).utf8))
        }
    }
}
