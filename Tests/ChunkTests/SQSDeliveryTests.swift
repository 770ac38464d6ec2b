import AWSCore
import AWSServices
@testable import ChunkProcessing
import Foundation
import LoopbackHTTP
import SortieTestSupport
import Synchronization
import Testing

/// SendMessageBatch played on 127.0.0.1: the first call refuses one entry as SQS's own fault,
/// every later call takes everything. Records each call's entries.
final class SQSScript: Sendable {
    struct Entry: Decodable, Sendable {
        var Id: String
        var MessageBody: String
    }

    private final class Calls: Sendable {
        let entries = Mutex<[[Entry]]>([])
    }

    private let server: LoopbackHTTPServer
    private let calls: Calls

    private init(server: LoopbackHTTPServer, calls: Calls) {
        self.server = server
        self.calls = calls
    }

    static func start() async throws -> SQSScript {
        let calls = Calls()
        let server = try await LoopbackHTTPServer.start { request in
            struct Batch: Decodable { var Entries: [Entry] }
            let entries = (try? JSONDecoder().decode(Batch.self, from: Data(request.body)).Entries) ?? []
            let index = calls.entries.withLock { list in
                list.append(entries)
                return list.count - 1
            }
            let refused = index == 0 ? entries.prefix(1).map(\.Id) : []
            let successful = entries.filter { !refused.contains($0.Id) }.map { #"{"Id":"\#($0.Id)","MessageId":"m-\#(index)-\#($0.Id)","MD5OfMessageBody":"x"}"# }
            let failed = refused.map { #"{"Id":"\#($0)","Code":"ServiceUnavailable","Message":"try again","SenderFault":false}"# }
            let body = #"{"Successful":[\#(successful.joined(separator: ","))],"Failed":[\#(failed.joined(separator: ","))]}"#
            return LoopbackResponse(status: 200, headers: [("Content-Type", "application/x-amz-json-1.0")], body: Array(body.utf8))
        }
        return SQSScript(server: server, calls: calls)
    }

    var endpoint: String { server.endpoint }
    var entries: [[Entry]] { calls.entries.withLock { $0 } }
    func stop() async { await server.stop() }
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
            var delivery = SQSDelivery(sqs: SQS(client: client), queueURL: "\(script.endpoint)/123456789012/q", recordsPerMessage: 8, limits: limits, retry: retry)
            for record in records { #expect(try delivery.write(record) == nil) }
            #expect(try delivery.write(Array(repeating: UInt8(ascii: "x"), count: 1001)) != nil, "a record bigger than a message is refused")
            try delivery.finish()
            return delivery.delivered
        }
        #expect(delivered == 300)
        let calls = script.entries
        #expect(calls[1].map(\.Id) == [calls[0][0].Id], "the refused entry alone, resent")
        #expect(calls.allSatisfy { $0.count <= 10 && $0.reduce(0) { $0 + $1.MessageBody.utf8.count } <= 4000 })
        let bodies = calls.enumerated().flatMap { index, entries in index == 1 ? [] : entries.map(\.MessageBody) }
        #expect(bodies.allSatisfy { $0.utf8.count <= 1000 && $0.split(separator: "\n").count <= 8 })
        let ids = bodies.flatMap { $0.split(separator: "\n") }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.compactMap { $0["id"] as? Int }
        #expect(ids == Array(0..<300), "every record once, in order")
        await script.stop()
    }
}
