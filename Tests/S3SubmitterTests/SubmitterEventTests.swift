import ChunkPlanning
import ChunkStore
import Foundation
import FunctionStartup
@testable import S3Submitter
import SortieTestSupport
import Testing

@Suite("S3 events, keys and routing")
struct SubmitterEventTests {
    func decode(_ file: String) throws -> SubmitterEvent {
        try JSONDecoder().decode(SubmitterEvent.self, from: Data(contentsOf: Repository.root.appendingPathComponent(file)))
    }

    @Test("notification keys: + is a space, %2B a plus, %25 a percent, UTF-8 escapes are characters")
    func keyDecoding() {
        #expect(S3Keys.decodeNotificationKey("incoming/Q4+report%2Bfinal+100%25+%C3%A9.csv") == "incoming/Q4 report+final 100% é.csv")
        #expect(S3Keys.decodeNotificationKey("a%2Fb%3Dc") == "a/b=c")
        #expect(S3Keys.decodeNotificationKey("odd%zz%4") == "odd%zz%4", "a stray % stays")
        #expect(S3Keys.decodeNotificationKey("日本/データ.csv") == "日本/データ.csv")
    }

    @Test("the sample notification: object creations decoded, other records named as ignored")
    func notification() throws {
        let event = try decode("events/s3-submitter.json")
        #expect(event.objects.map(\.key) == ["incoming/orders/2026-11-20/", "tmp/orders 2026-11-20 (partial).csv"])
        #expect(event.objects.last?.size == 73_400_320)
        #expect(event.objects.last?.sequencer == "0067A1B2C3D4E5F6A2")
        #expect(event.ignored == ["Records[2]: aws:s3 ObjectRemoved:Delete is not an S3 object creation"])
    }

    @Test("the EventBridge form: the key is taken as it is, with version, eTag and sequencer")
    func eventBridge() throws {
        let event = try decode("events/s3-object-created.eventbridge.json")
        #expect(event.objects == [ObjectCreated(
            bucket: "sortie-landing", key: "incoming/orders/Q4 report+final 100% é.csv", size: 73_400_320,
            eTag: "9b2cf535f27731c974343645a3985328-9", versionID: "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e", sequencer: "0067A1B2C3D4E5F6A2")])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(SubmitterEvent.self, from: Data(#"{"detail-type":"Object Deleted","source":"aws.s3","detail":{}}"#.utf8))
        }
    }

    @Test("skip rules: directory markers, skipped prefixes, keys no feed claims; the longest prefix wins")
    func admission() {
        let rejects = S3Location(bucket: "r")
        let catalog = FeedCatalog(feeds: [
            Feed(name: "all", prefix: "incoming/", format: "csv", fields: [], destination: .s3(S3Location(bucket: "o")), rejects: rejects),
            Feed(name: "orders", prefix: "incoming/orders/", format: "jsonl", fields: [], destination: .s3(S3Location(bucket: "o")), rejects: rejects),
        ])
        var configuration = SubmitterConfiguration(tableName: "t", processorFunction: "p", batchJobQueue: "q", batchJobDefinition: "d")
        configuration.skipPrefixes = ["incoming/tmp/"]
        func admit(_ key: String) -> SubmitterConfiguration.Admission { configuration.admit(ObjectCreated(bucket: "b", key: key), catalog: catalog) }
        #expect(admit("incoming/orders/2026/") == .skip("directory marker"))
        #expect(admit("incoming/tmp/x.csv") == .skip("under skipped prefix 'incoming/tmp/'"))
        #expect(admit("elsewhere/x.csv") == .skip("no feed for this key"))
        #expect(admit("incoming/orders/x.jsonl") == .feed(catalog.feeds[1]))
        #expect(admit("incoming/x.csv") == .feed(catalog.feeds[0]))
    }

    @Test("settings come from the environment, with clear errors")
    func settings() throws {
        let base = ["SORTIE_TABLE": "t", "CHUNK_PROCESSOR_FUNCTION": "p", "BATCH_JOB_QUEUE": "q", "BATCH_JOB_DEFINITION": "d"]
        let defaults = try SubmitterConfiguration.fromEnvironment(base)
        #expect(defaults.threshold == 290_000)
        #expect(defaults.skipDirectoryMarkers)
        let custom = try SubmitterConfiguration.fromEnvironment(base.merging(["BATCH_PROCESSING_THRESHOLD": "1000", "SKIP_PREFIXES": "a/,b/"]) { $1 })
        #expect(custom.threshold == 1000)
        #expect(custom.skipPrefixes == ["a/", "b/"])
        #expect(throws: (any Error).self) { try SubmitterConfiguration.fromEnvironment(base.merging(["CHUNK_MAX_RECORDS": "0"]) { $1 }) }
        #expect(throws: (any Error).self) { try SubmitterConfiguration.fromEnvironment(["SORTIE_TABLE": "t"]) }
        // Batch's bounds: 1–10 attempts, 2–10,000 children.
        #expect(try SubmitterConfiguration.fromEnvironment(base.merging(["BATCH_ATTEMPTS": "10", "BATCH_ARRAY_MAX": "10000"]) { $1 }).batchArrayMax == 10_000)
        for (name, value, message) in [
            ("BATCH_ATTEMPTS", "11", "BATCH_ATTEMPTS must be an integer from 1 to 10, not '11'"),
            ("BATCH_ATTEMPTS", "0", "BATCH_ATTEMPTS must be an integer from 1 to 10, not '0'"),
            ("BATCH_ARRAY_MAX", "10001", "BATCH_ARRAY_MAX must be an integer from 2 to 10000, not '10001'"),
        ] {
            #expect(throws: ConfigurationError([message])) { try SubmitterConfiguration.fromEnvironment(base.merging([name: value]) { $1 }) }
        }
        // Every problem at once, each named.
        #expect(throws: ConfigurationError([
            "CHUNK_PROCESSOR_FUNCTION is not set", "BATCH_JOB_QUEUE is not set", "BATCH_JOB_DEFINITION is not set",
            "BATCH_ATTEMPTS must be an integer from 1 to 10, not '0'",
        ])) { try SubmitterConfiguration.fromEnvironment(["SORTIE_TABLE": "t", "BATCH_ATTEMPTS": "0"]) }
    }

    @Test("one upload, one id: the same event twice agrees, a new upload of the key does not")
    func fileIdentity() {
        let upload = ObjectCreated(bucket: "b", key: "k", eTag: "e", sequencer: "01")
        #expect(Submitter.fileID(upload) == Submitter.fileID(upload))
        var again = upload
        again.sequencer = "02"
        #expect(Submitter.fileID(upload) != Submitter.fileID(again))
        #expect(Submitter.fileID(upload).count == 24)
    }

    @Test("routing: at most the threshold goes to Lambda; an array job's Batch parameters name its first chunk only")
    func routing() {
        let small = ChunkSpec(index: 0, firstRecord: 0, recordCount: 290_000, start: 8, end: 100, startLine: 2)
        let big = ChunkSpec(index: 1, firstRecord: 290_000, recordCount: 290_001, start: 100, end: 200, startLine: 290_002)
        #expect(Dispatcher.route(small, threshold: 290_000) == .lambda)
        #expect(Dispatcher.route(big, threshold: 290_000) == .batch)
        var second = big
        second.index = 2
        second.start = 200
        second.end = 300
        second.firstRecord = 580_001
        let file = FileRecord(
            fileID: "f", object: ObjectRef(bucket: "b", key: "in/x.csv", versionID: nil, eTag: "\"e\"", size: 300), sequencer: "01",
            feed: "orders", plan: FilePlan(records: 870_001, columns: ["id"], bytes: 300, compressed: false, chunks: [small, big, second]),
            state: .planned, createdAt: 0, expiresAt: 0)
        let parameters = Dispatcher.parameters(file, [big, second], table: "jobs")
        #expect(parameters == [
            "fileId": "f", "bucket": "b", "key": "in/x.csv", "eTag": "\"e\"", "feed": "orders", "table": "jobs", "chunkId": "f-c00001",
        ])
    }
}
