import AWSServices
import ChunkPlanning
import ChunkStore
import Foundation
import LocalAWS

/// Story 3: a 1,000,000-record orders CSV put into the landing bucket → planned into chunks →
/// the small chunks processed by `chunk-processor` (invoked by the submitter through Lambda's
/// API), the big ones submitted as one AWS Batch array job and run by `chunk-processor batch` in
/// the dev Batch agent → the file COMPLETE, every record delivered or rejected.
extension DemoStory {
    static let fileRecords = 1_000_000
    /// The first records are short (no note), the rest carry a long one: cut by record count the
    /// short part makes chunks above the Lambda threshold, cut by bytes the long part chunks below it.
    /// Most records go to Batch so the story stays short on a debug build too.
    static let shortRecords = 900_000
    static let batchChunkRecords = 300_000
    /// Every thousandth order's currency is lower case, which the feed's `[A-Z]{3}` rejects.
    static func isRejected(_ id: Int) -> Bool { id % 1000 == 999 }

    /// Where the story's valid orders go: S3, not the definitions' SQS queue, which moto fills at
    /// about 13 SendMessageBatch calls a second, some 75 s for a million records. The bucket is
    /// the feed's rejects bucket, the one the processor's role may write (`FeedOutputBucketName`).
    static let deliveryPrefix = "delivered/orders/"

    /// Laid over the definitions: the submitter's limits (its 1,000,000-record chunks would make
    /// one), and the processor's own feeds (from its definition in `repository`'s functions/)
    /// with the orders feed delivering to `deliveryPrefix`; the Batch job definition takes them too.
    public static func overrides(repository: URL) throws -> [String: [String: String]] {
        let processor = "chunk-processor"
        guard let definition = try DevEnvironment.definitions(in: repository).first(where: { $0.name == processor }),
              let feeds = definition.environment?["SORTIE_FEEDS"] else {
            throw DevError.expectation("functions/\(processor).json sets no SORTIE_FEEDS: the story has no orders feed to deliver")
        }
        var catalog = try FeedCatalog(document: Array(feeds.utf8))
        guard let orders = catalog.feeds.firstIndex(where: { $0.name == "orders" }) else {
            throw DevError.expectation("functions/\(processor).json's SORTIE_FEEDS has no 'orders' feed")
        }
        catalog.feeds[orders].destination = .s3(S3Location(bucket: catalog.feeds[orders].rejects.bucket, prefix: deliveryPrefix))
        return [
            "s3-submitter": ["CHUNK_MAX_RECORDS": String(batchChunkRecords), "CHUNK_MAX_BYTES": "12500000"],
            processor: ["SORTIE_FEEDS": String(decoding: try JSONEncoder.sorted.encode(catalog), as: UTF8.self)],
        ]
    }

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
              let answer = try JSONDecoder().decode(Answer.self, from: delivery.response).files.first, let fileID = answer.fileID
        else { throw DevError.expectation("s3-submitter did not plan s3://\(bucket)/\(key)") }
        say("  put \(file.count / 1_000_000) MB; s3-submitter: \(answer.status.rawValue), \(answer.records ?? 0) records, "
            + "\(answer.lambdaChunks ?? 0) chunks for Lambda, \(answer.batchChunks ?? 0) for Batch (jobs: \((answer.batchJobs ?? []).joined(separator: ", ")))")

        let table = FileStore(dynamoDB: DynamoDB(client: environment.client), tableName: environment.resources.table)
        let deadline = ContinuousClock.now + patience * 2
        var stored: (file: FileRecord, chunks: [ChunkRecord])?
        while true {
            stored = try await blocking { try table.loadFile(fileID) }
            // A chunk's item is DONE a moment before the last one's finish completes the file.
            let ended = stored.map { $0.file.state == .complete || $0.chunks.contains { [.failed, .incomplete].contains($0.state) } } ?? false
            if ended || ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let chunks = stored?.chunks ?? []
        for chunk in chunks {
            say("  \(chunk.summary)")
        }
        let lambda = chunks.filter { $0.route == .lambda }
        let batch = chunks.filter { $0.route == .batch }
        func tally(_ chunks: [ChunkRecord]) -> (delivered: Int64, rejected: Int64, records: Int64) {
            chunks.reduce((0, 0, 0)) { ($0.0 + ($1.counts?.delivered ?? 0), $0.1 + ($1.counts?.rejected ?? 0), $0.2 + $1.spec.recordCount) }
        }
        let (inLambda, inBatch) = (tally(lambda), tally(batch))
        let delivered = inLambda.delivered + inBatch.delivered
        let rejected = inLambda.rejected + inBatch.rejected
        let expectedRejects = (0..<Self.fileRecords).filter(Self.isRejected).count
        let containers = environment.batchAgent?.exitStatuses ?? [:]
        say("  Lambda: \(inLambda.delivered) delivered + \(inLambda.rejected) rejected of \(inLambda.records); "
            + "Batch: \(inBatch.delivered) delivered + \(inBatch.rejected) rejected of \(inBatch.records) "
            + "(\(containers.count) containers, \(containers.values.filter { $0 == 0 }.count) exited 0); file \(stored?.file.state.rawValue ?? "missing")")
        // What `sortie file` shows however many chunks: the file item's counters, moved with each chunk's ending.
        let counted = try await blocking { try table.progress(fileID) }
        say("  the file item's counters (one read): \(counted?.chunksDone ?? 0) of \(counted?.chunksKnown ?? 0) chunks done, \(counted?.chunksFailed ?? 0) failed; "
            + "\(counted?.counts.delivered ?? 0) delivered, \(counted?.counts.rejected ?? 0) rejected")
        return [
            Check(name: "story 3: the file's counters agree with its chunks",
                  passed: counted.map { $0.chunksDone == chunks.count && $0.chunksFailed == 0 && $0.counts.delivered == delivered && $0.counts.rejected == rejected } ?? false,
                  detail: "counters: \(counted?.chunksDone ?? 0) done, \(counted?.counts.delivered ?? 0) delivered, \(counted?.counts.rejected ?? 0) rejected; "
                      + "chunks: \(chunks.filter { $0.state == .done }.count) done, \(delivered) delivered, \(rejected) rejected"),
            Check(name: "story 3: every record planned", passed: answer.records == Int64(Self.fileRecords), detail: "\(answer.records ?? 0) records"),
            Check(name: "story 3: small chunks in Lambda, the big ones in one Batch array job",
                  passed: lambda.count >= 2 && batch.count >= 2 && answer.batchJobs?.count == 1,
                  detail: "\(lambda.count) in Lambda, \(batch.count) in Batch job \(answer.batchJobs?.first ?? "none")"),
            Check(name: "story 3: every chunk done, the file COMPLETE",
                  passed: !chunks.isEmpty && chunks.allSatisfy { $0.state == .done } && stored?.file.state == .complete,
                  detail: chunks.map { "\($0.route.rawValue) \($0.state.rawValue)" }.joined(separator: ", ") + "; file \(stored?.file.state.rawValue ?? "missing")"),
            Check(name: "story 3: every record accounted for", passed: delivered + rejected == Int64(Self.fileRecords) && Int(rejected) == expectedRejects,
                  detail: "delivered \(delivered) + rejected \(rejected) = \(delivered + rejected) (Lambda \(inLambda.delivered + inLambda.rejected), Batch \(inBatch.delivered + inBatch.rejected))"),
        ]
    }
}
