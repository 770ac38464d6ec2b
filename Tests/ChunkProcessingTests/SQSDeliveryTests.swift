import AWSCore
import AWSServices
@testable import ChunkProcessing
import ChunkTestSupport
import Foundation
import SortieTestSupport
import Testing

/// SendMessageBatch played on 127.0.0.1: the first call refuses one entry as SQS's own fault,
/// every later call takes everything.
enum SQSScript {
    struct Entry: Decodable, Sendable {
        var Id: String
        var MessageBody: String
    }

    struct Batch: Decodable {
        var Entries: [Entry]
    }

    static func entries(_ request: FakeServer.Request) -> [Entry] {
        (try? JSONDecoder().decode(Batch.self, from: request.body).Entries) ?? []
    }

    static func start() async throws -> FakeServer {
        try await FakeServer.start { request, index in
            let entries = entries(request)
            let refused = index == 0 ? entries.prefix(1).map(\.Id) : []
            let successful = entries.filter { !refused.contains($0.Id) }.map { #"{"Id":"\#($0.Id)","MessageId":"m-\#(index)-\#($0.Id)","MD5OfMessageBody":"x"}"# }
            let failed = refused.map { #"{"Id":"\#($0)","Code":"ServiceUnavailable","Message":"try again","SenderFault":false}"# }
            return .json(200, #"{"Successful":[\#(successful.joined(separator: ","))],"Failed":[\#(failed.joined(separator: ","))]}"#)
        }
    }
}

@Suite("Packing records into SQS messages")
struct SQSDeliveryTests {
    @Test("bodies hold at most recordsPerMessage records and fit the message limit; batches fit 10 entries and the batch limit; a refused entry is resent alone")
    func packing() async throws {
        let script = try await SQSScript.start()
        let retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), throttlingBaseDelay: .milliseconds(1))
        let client = AWSClient(AWSConfiguration(
            region: "us-east-1", credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "secret")),
            endpoints: EndpointResolver(globalOverride: script.endpoint), retry: retry))
        let limits = { () -> SQSLimits in
            var limits = SQSLimits()
            limits.maxMessageBytes = 1000
            limits.maxBatchBytes = 4000
            return limits
        }()
        let records = (0..<300).map { Array(#"{"id":\#($0),"pad":"\#(String(repeating: "x", count: 90))"}"#.utf8) }
        let delivered = try await blocking { () throws -> Int64 in
            var delivery = SQSDelivery(sqs: SQS(client: client), queueURL: "\(script.endpoint)/123456789012/q", recordsPerMessage: 8, limits: limits, retry: retry, chunkID: "f-c00000")
            for record in records { #expect(try record.withUnsafeBufferPointer { try delivery.write($0) } == nil) }
            let oversize = [UInt8](repeating: UInt8(ascii: "x"), count: 1001)
            #expect(try oversize.withUnsafeBufferPointer { try delivery.write($0) } != nil, "a record bigger than a message is refused")
            try delivery.finish()
            return delivery.delivered
        }
        #expect(delivered == 300)
        let calls = script.requests.map(SQSScript.entries)
        #expect(calls[1].map(\.Id) == [calls[0][0].Id], "the refused entry alone, resent")
        #expect(calls.allSatisfy { $0.count <= 10 && $0.reduce(0) { $0 + $1.MessageBody.utf8.count } <= 4000 })
        let bodies = calls.enumerated().flatMap { index, entries in index == 1 ? [] : entries.map(\.MessageBody) }
        #expect(bodies.allSatisfy { $0.utf8.count <= 1000 && $0.split(separator: "\n").count <= 8 })
        let ids = bodies.flatMap { $0.split(separator: "\n") }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.compactMap { $0["id"] as? Int }
        #expect(ids == Array(0..<300), "every record once, in order")
        await script.stop()
    }
}

@Suite("SQS delivery against moto")
struct SQSMotoDeliveryTests {
    func receiveAll(_ sqs: SQS, _ queueURL: String) throws -> [String] {
        var bodies: [String] = []
        for _ in 0..<50 {
            let batch = try sqs.receiveMessages(queueURL: queueURL, maxMessages: 10)
            if batch.isEmpty { break }
            bodies += batch.map(\.body)
        }
        return bodies
    }

    @Test("a record holding U+FFFF or U+FFFE is refused as a record (its reason names it); the others are delivered")
    func refusedCharacters() async throws {
        let server = try await MotoServer.shared()
        let client = try AWSClient.fromEnvironment(AWSEnvironment(server.environment))
        let sqs = SQS(client: client)
        let queueURL = try await blocking { try sqs.createQueue(name: unique("records")) }
        let records = [#"{"id":1,"name":"ok"}"#, "{\"id\":2,\"name\":\"bad\u{FFFF}\"}", "{\"id\":3,\"name\":\"é ✓ \u{1F600}\"}", "{\"id\":4,\"name\":\"\u{FFFE}\"}"]
        let (reasons, delivered) = try await blocking { () throws -> ([String?], Int64) in
            var delivery = SQSDelivery(sqs: sqs, queueURL: queueURL, recordsPerMessage: 1, limits: SQSLimits(), retry: client.configuration.retry, chunkID: "f-c00000")
            let reasons = try records.map { record in try Array(record.utf8).withUnsafeBufferPointer { try delivery.write($0) } }
            try delivery.finish()
            return (reasons, delivery.delivered)
        }
        #expect(reasons[0] == nil && reasons[2] == nil)
        #expect(reasons[1]?.hasPrefix("U+FFFF at byte 19: SQS takes only") == true, "\(reasons[1] ?? "")")
        #expect(reasons[3]?.hasPrefix("U+FFFE at byte 16") == true, "\(reasons[3] ?? "")")
        #expect(delivered == 2)
        let bodies = try await blocking { try receiveAll(sqs, queueURL) }
        #expect(Set(bodies) == [records[0], records[2]])
    }

    @Test("a FIFO queue: messages carry the chunk as group and a deduplication id of chunk and records; a retried chunk is not delivered twice")
    func fifo() async throws {
        let server = try await MotoServer.shared()
        let client = try AWSClient.fromEnvironment(AWSEnvironment(server.environment))
        let sqs = SQS(client: client)
        let queueURL = try await blocking { try sqs.createQueue(name: unique("records") + ".fifo", attributes: ["FifoQueue": "true"]) }
        let records = (0..<25).map { Array(#"{"id":\#($0)}"#.utf8) }
        for _ in 0..<2 {
            let delivered = try await blocking { () throws -> Int64 in
                var delivery = SQSDelivery(
                    sqs: sqs, queueURL: queueURL, recordsPerMessage: 4, limits: SQSLimits(), retry: client.configuration.retry, chunkID: "f-c00003")
                for record in records { _ = try record.withUnsafeBufferPointer { try delivery.write($0) } }
                try delivery.finish()
                return delivery.delivered
            }
            #expect(delivered == 25)
        }
        let bodies = try await blocking { try receiveAll(sqs, queueURL) }
        #expect(bodies.count == 7, "25 records in messages of 4, once")
        let ids = bodies.flatMap { $0.split(separator: "\n") }.map(String.init)
        #expect(ids == records.map { String(decoding: $0, as: UTF8.self) }, "in order, once")
    }
}
