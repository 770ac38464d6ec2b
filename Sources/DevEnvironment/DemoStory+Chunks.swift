import AWSServices
import ChunkStore
import Foundation
import LocalAWS
import S3Submitter

/// Story 3: a 1,000,000-record orders CSV put into the landing bucket → planned into chunks →
/// the small chunks processed by `chunk-processor` (invoked by the submitter through Lambda's
/// API), the big ones submitted as one AWS Batch array job → the delivered, rejected and submitted counts.
extension DemoStory {
    static let fileRecords = 1_000_000
    /// The first records are short (no note), the rest carry a long one: cut by record count the
    /// short part makes chunks above the Lambda threshold, cut by bytes the long part chunks below it.
    /// Most records go to Batch so the story stays short on a debug build too.
    static let shortRecords = 900_000
    static let batchChunkRecords = 300_000
    /// Every thousandth order's currency is lower case, which the feed's `[A-Z]{3}` rejects.
    static func isRejected(_ id: Int) -> Bool { id % 1000 == 999 }

    /// The submitter's limits for the story, laid over its definition (whose 1,000,000-record chunks would make one).
    public static let overrides = ["s3-submitter": ["CHUNK_MAX_RECORDS": String(batchChunkRecords), "CHUNK_MAX_BYTES": "12500000"]]

    static func ordersFile() -> Data {
        var bytes = Array("order_id,customer,email,amount,currency,ordered_on,paid,note\n".utf8)
        bytes.reserveCapacity(52_000_000)
        let note = Array(String(repeating: "gift-wrap-and-deliver-to-the-back-door", count: 3).prefix(100).utf8)
        for id in 0..<fileRecords {
            let digits = Array(String(id).utf8)
            bytes += digits
            bytes += Array(",C".utf8)
            bytes += [UInt8](repeating: UInt8(ascii: "0"), count: 8 - digits.count)
            bytes += digits
            bytes += Array(",,12.50,".utf8)
            bytes += Array((isRejected(id) ? "eur" : "EUR").utf8)
            bytes += Array(",2026-11-20,,".utf8)
            if id >= shortRecords { bytes += note }
            bytes.append(UInt8(ascii: "\n"))
        }
        return Data(bytes)
    }

    func chunkedFile() async throws -> [Check] {
        let bucket = "sortie-landing"
        let key = "incoming/orders/orders-2026-11-20.csv"
        say("== 3. a 1,000,000-record CSV put into s3://\(bucket)/\(key)")
        let file = Self.ordersFile()
        let deliveries = try await environment.put(file, bucket: bucket, key: key)
        struct Answer: Decodable { var files: [FileOutcome] }
        guard let delivery = deliveries.first(where: { $0.function == "s3-submitter" }),
              let answer = try JSONDecoder().decode(Answer.self, from: delivery.response).files.first, let fileId = answer.fileId
        else { throw DevError.expectation("s3-submitter did not plan s3://\(bucket)/\(key)") }
        say("  put \(file.count / 1_000_000) MB; s3-submitter: \(answer.status.rawValue), \(answer.records ?? 0) records, "
            + "\(answer.lambdaChunks ?? 0) chunks for Lambda, \(answer.batchChunks ?? 0) for Batch (jobs: \((answer.batchJobs ?? []).joined(separator: ", ")))")

        let table = JobTable(dynamoDB: DynamoDB(client: environment.client), tableName: environment.resources.table)
        let deadline = ContinuousClock.now + patience * 2
        var chunks: [ChunkRecord] = []
        while true {
            chunks = try await blocking { try table.loadFile(fileId)?.chunks ?? [] }
            let processing = chunks.filter { $0.route == .lambda && ![.done, .failed, .incomplete].contains($0.state) }
            if processing.isEmpty || ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        for chunk in chunks {
            let counts = chunk.counts.map { ": \($0.delivered) delivered, \($0.rejected) rejected" } ?? ""
            say("  chunk \(chunk.spec.index): records \(chunk.spec.firstRecord)..<\(chunk.spec.firstRecord + chunk.spec.recordCount) → \(chunk.route.rawValue) \(chunk.state.rawValue)\(counts)")
        }
        let lambda = chunks.filter { $0.route == .lambda }
        let batch = chunks.filter { $0.route == .batch }
        let delivered = lambda.reduce(0) { $0 + ($1.counts?.delivered ?? 0) }
        let rejected = lambda.reduce(0) { $0 + ($1.counts?.rejected ?? 0) }
        let submitted = batch.reduce(0) { $0 + $1.spec.recordCount }
        let expectedRejects = lambda.reduce(0) { total, chunk in
            total + (Int(chunk.spec.firstRecord)..<Int(chunk.spec.firstRecord + chunk.spec.recordCount)).filter(Self.isRejected).count
        }
        say("  delivered \(delivered), rejected \(rejected), submitted to Batch \(submitted)")
        return [
            Check(name: "story 3: every record planned", passed: answer.records == Int64(Self.fileRecords), detail: "\(answer.records ?? 0) records"),
            Check(name: "story 3: small chunks in Lambda, the big ones in one Batch job",
                  passed: lambda.count >= 2 && !batch.isEmpty && answer.batchJobs?.count == 1,
                  detail: "\(lambda.count) in Lambda, \(batch.count) in Batch job \(answer.batchJobs?.first ?? "none")"),
            Check(name: "story 3: every Lambda chunk done", passed: lambda.allSatisfy { $0.state == .done },
                  detail: lambda.map(\.state.rawValue).joined(separator: ", ")),
            Check(name: "story 3: the counts add up", passed: delivered + rejected == lambda.reduce(0) { $0 + $1.spec.recordCount }
                    && Int(rejected) == expectedRejects && delivered + rejected + submitted == Int64(Self.fileRecords),
                  detail: "delivered \(delivered) + rejected \(rejected) + submitted \(submitted)"),
        ]
    }
}
