import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import ChunkTestSupport
import Foundation
import LocalRuntime
import RecordFormats
import SortieTestSupport
import Testing

/// Awkward files, event forms and deadlines, end to end on moto.
@Suite("Chunk edge cases against moto", .serialized)
struct ChunkEdgeCaseTests {
    static let fields = [
        FieldRule(name: "id", type: .integer, required: true),
        FieldRule(name: "name", type: .string, required: true),
        FieldRule(name: "amount", type: .number, required: true),
    ]

    /// BOM, CRLF, quoted delimiters and newlines, doubled quotes, empty lines, malformed records,
    /// and a last line without a newline. Lines: 1 header, 2, 3 empty, 4–5, 6, 7, 8 empty, 9, 10.
    static let edgeCSV: [UInt8] = [0xEF, 0xBB, 0xBF] + Array((
        "id,name,amount\r\n" + "1,\"Smith, Jane\",10.5\r\n" + "\r\n" + "2,\"two\nlines\",3\r\n" + "3,bad-amount,x\r\n"
            + "4,\"x\"y,5\r\n" + "\n" + "5,,6\r\n" + "6,\"said \"\"hi\"\"\",7"
    ).utf8)

    /// Runs every captured payload through one processor; returns the answers.
    func process(_ payloads: [Data], environment: [String: String]) async throws -> [[String: Any]] {
        let processor = try await startFunction("chunk-processor", environment: environment)
        var answers: [[String: Any]] = []
        for payload in payloads {
            answers.append(jsonObject(responseBody(await processor.invoke(InvocationRequest(payload: payload, timeout: .seconds(60))), processor)))
        }
        await processor.stop()
        return answers
    }

    /// Submits `event`; returns the first file's outcome.
    func submit(_ event: Data, environment: [String: String]) async throws -> [String: Any] {
        let submitter = try await startFunction("s3-submitter", environment: environment)
        defer { Task { await submitter.stop() } }
        let answer = jsonObject(responseBody(await submitter.invoke(InvocationRequest(payload: event, timeout: .seconds(120))), submitter))
        return (answer["files"] as? [[String: Any]])?.first ?? [:]
    }

    @Test("a gzip CSV of two members with every edge case: valid records reach SQS, rejects keep their file line numbers")
    func gzipEdgeCases() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let capture = try await InvokeCapture.start()
        let split = Self.edgeCSV.count / 2
        let compressed = try Gzip.compress(Array(Self.edgeCSV[..<split])) + Gzip.compress(Array(Self.edgeCSV[split...]))
        let key = "incoming/edge cases/file 1+2.csv.gz"
        let eTag = try await blocking { try world.upload(key, compressed) }
        let feeds = try world.feeds(fields: Self.fields, destination: .sqs(queueURL: world.queueURL, recordsPerMessage: 2))

        let outcome = try await submit(
            world.notification(key: key, eTag: eTag, size: compressed.count, sequencer: "00A1"),
            environment: world.submitterEnvironment(feeds: feeds, capture: capture, extra: ["CHUNK_MAX_RECORDS": "2"]))
        #expect(outcome["status"] as? String == "submitted")
        #expect(outcome["records"] as? Int == 6)
        #expect(outcome["lambdaChunks"] as? Int == 3)
        let payloads = capture.invocations.map(\.payload)
        let tasks = try payloads.map { try JSONDecoder().decode(ChunkTask.self, from: $0) }
        #expect(tasks.allSatisfy { $0.chunk.entry != nil && $0.object.key == key })
        #expect(tasks.last?.chunk.entry?.compressedOffset ?? 0 > 0, "the last chunk enters at the second member")
        await capture.stop()

        let answers = try await process(payloads, environment: world.processorEnvironment(feeds: feeds))
        #expect(answers.map { $0["status"] as? String } == ["done", "done", "done"])
        #expect(answers.map { $0["valid"] as? Int } == [2, 0, 1])
        #expect(answers.map { $0["rejected"] as? Int } == [0, 2, 1])

        var delivered: [String] = []
        for _ in 0..<10 where delivered.count < 3 {
            let messages = try await blocking { try SQS(client: world.client).receiveMessages(queueURL: world.queueURL, maxMessages: 10, waitSeconds: 1) }
            delivered += messages.flatMap { $0.body.split(separator: "\n").map(String.init) }
        }
        #expect(Set(delivered) == [
            #"{"id":1,"name":"Smith, Jane","amount":10.5}"#, #"{"id":2,"name":"two\nlines","amount":3}"#, #"{"id":6,"name":"said \"hi\"","amount":7}"#,
        ])

        var rejects: [String: String] = [:]
        for case let uri? in answers.map({ $0["rejects"] as? String }) {
            let rejectsKey = String(uri.dropFirst("s3://\(world.outputBucket)/".count))
            let body = try await blocking { try world.s3.getObject(bucket: world.outputBucket, key: rejectsKey).body }
            for line in body.split(separator: UInt8(ascii: "\n")) {
                let entry = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
                rejects["\(entry["line"] as? Int ?? 0)"] = entry["reason"] as? String
            }
        }
        #expect(rejects == ["6": "amount: not a number", "7": "field 2: text after the closing quote", "9": "name: required"])
    }

    @Test("a one-member gzip file: each Lambda chunk's payload carries the access point it is read from, and every record arrives once")
    func gzipAccessPoints() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let capture = try await InvokeCapture.start()
        var text = "id,name,amount\n"
        for id in 0..<150_000 { text += "\(id),name \(id),\(id).25\n" }
        let body = try Gzip.compress(Array(text.utf8))
        let key = "incoming/one-member.csv.gz"
        let eTag = try await blocking { try world.upload(key, body) }
        let feeds = try world.feeds(fields: Self.fields, destination: .s3(S3Location(bucket: world.outputBucket, prefix: "out/")))
        let outcome = try await submit(
            world.notification(key: key, eTag: eTag, size: body.count, sequencer: "0B"),
            environment: world.submitterEnvironment(feeds: feeds, capture: capture, extra: ["CHUNK_MAX_RECORDS": "50000"]))
        await capture.stop()
        #expect(outcome["lambdaChunks"] as? Int == 3)
        let payloads = capture.invocations.map(\.payload)
        let tasks = try payloads.map { try JSONDecoder().decode(ChunkTask.self, from: $0) }.sorted { $0.chunk.index < $1.chunk.index }
        #expect(tasks.dropFirst().allSatisfy { $0.chunk.entry?.isMemberStart == false && $0.chunk.objectRange.lowerBound > 0 })
        #expect(payloads.allSatisfy { $0.count < 64 << 10 }, "payload sizes \(payloads.map(\.count))")

        let answers = try await process(payloads, environment: world.processorEnvironment(feeds: feeds))
        #expect(answers.map { $0["status"] as? String } == ["done", "done", "done"])
        var ids: [Int] = []
        for task in tasks {
            let output = try await blocking { try world.s3.getObject(bucket: world.outputBucket, key: "out/\(task.fileID)/\(task.chunkID).jsonl").body }
            for line in output.split(separator: UInt8(ascii: "\n")) {
                let record = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
                ids.append(try #require(record["id"] as? Int))
            }
        }
        #expect(ids == Array(0..<150_000))
    }

    @Test("a truncated gzip file fails its plan; a chunk whose compressed range is cut short fails as such")
    func truncatedGzip() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let capture = try await InvokeCapture.start()
        var text = "id,name,amount\n"
        for id in 0..<20_000 { text += "\(id),name \(id),\(id).25\n" }
        let whole = try Gzip.compress(Array(text.utf8))
        let feeds = try world.feeds(fields: Self.fields, destination: .s3(S3Location(bucket: world.outputBucket, prefix: "out/")))
        let environment = world.submitterEnvironment(feeds: feeds, capture: capture, extra: ["CHUNK_MAX_RECORDS": "5000"])

        let cut = Array(whole.prefix(whole.count / 2))
        let cutETag = try await blocking { try world.upload("incoming/cut.csv.gz", cut) }
        let submitter = try await startFunction("s3-submitter", environment: environment)
        // Chunks are dispatched as they are cut: those before the cut are whole records and go; the file stops as FAILED.
        let failed = jsonObject(responseBody(await submitter.invoke(InvocationRequest(
            payload: world.notification(key: "incoming/cut.csv.gz", eTag: cutETag, size: cut.count, sequencer: "01"), timeout: .seconds(60))), submitter))
        let stopped = try #require((failed["files"] as? [[String: Any]])?.first)
        #expect(stopped["status"] as? String == "failed")
        #expect((stopped["reason"] as? String)?.contains("truncated") == true)
        let cutFile = try #require(stopped["fileId"] as? String)
        let cutStored = try #require(try await blocking { try world.jobTable.fileItem(cutFile) })
        #expect(cutStored.state == .failed)
        let cutChunks = try await blocking { try world.jobTable.chunks(fileID: cutFile, from: 0, to: 100) }
        #expect(capture.invocations.count == cutChunks.count, "only chunks of whole records before the cut were dispatched")
        #expect(cutChunks.count < 4, "not the whole file's chunks: \(cutChunks.count)")
        let dispatchedBefore = capture.invocations.count

        let eTag = try await blocking { try world.upload("incoming/whole.csv.gz", whole) }
        let submitted = jsonObject(responseBody(await submitter.invoke(InvocationRequest(
            payload: world.notification(key: "incoming/whole.csv.gz", eTag: eTag, size: whole.count, sequencer: "02"), timeout: .seconds(60))), submitter))
        #expect((submitted["files"] as? [[String: Any]])?.first?["lambdaChunks"] as? Int == 4)
        #expect(capture.invocations.count == dispatchedBefore + 4)
        await submitter.stop()
        await capture.stop()

        var task = try JSONDecoder().decode(ChunkTask.self, from: try #require(capture.invocations.last).payload)
        task.chunk.compressedEnd = Int64(whole.count / 2)
        let processor = try await startFunction("chunk-processor", environment: world.processorEnvironment(feeds: feeds))
        let outcome = await processor.invoke(InvocationRequest(payload: try JSONEncoder().encode(task), timeout: .seconds(60)))
        guard case .functionError(_, let errorType, let body) = outcome else {
            Issue.record("expected the chunk to fail, got \(outcome)")
            return
        }
        #expect(errorType == "Sortie.ChunkFailed")
        #expect(String(decoding: body, as: UTF8.self).contains("truncated"))
        await processor.stop()
        let fileID = task.fileID
        let chunk = try await blocking { try world.jobTable.loadFile(fileID)?.chunks.last }
        #expect(chunk?.state == .failed)
    }

    @Test("EventBridge and notification forms of one upload with an awkward key: one plan; a chunk out of time is reported, then done")
    func eventFormsAndDeadline() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let capture = try await InvokeCapture.start()
        let key = "incoming/Q4 report+final 100% é.csv"
        let text = "id,name,amount\n" + (0..<3000).map { "\($0),n\($0),1\n" }.joined()
        let eTag = try await blocking { try world.upload(key, Array(text.utf8)) }
        let feeds = try world.feeds(fields: Self.fields, destination: .s3(S3Location(bucket: world.outputBucket, prefix: "out/")))
        let environment = world.submitterEnvironment(feeds: feeds, capture: capture)
        let bridge: [String: Any] = [
            "version": "0", "id": UUID().uuidString, "detail-type": "Object Created", "source": "aws.s3", "account": MotoServer.accountID,
            "time": "2026-11-20T02:14:10Z", "region": MotoServer.region, "resources": ["arn:aws:s3:::\(world.bucket)"],
            "detail": ["version": "0", "bucket": ["name": world.bucket], "object": ["key": key, "size": text.utf8.count, "etag": eTag, "sequencer": "00FF01"],
                       "reason": "PutObject"],
        ]
        let first = try await submit(try JSONSerialization.data(withJSONObject: bridge), environment: environment)
        #expect(first["status"] as? String == "submitted", "\(first)")
        let second = try await submit(world.notification(key: key, eTag: eTag, size: text.utf8.count, sequencer: "00FF01"), environment: environment)
        #expect(second["status"] as? String == "duplicate")
        #expect(second["fileId"] as? String == first["fileId"] as? String)
        #expect(capture.invocations.count == 1)
        // An event for an object deleted since: nothing to plan, and no error to retry.
        let gone = try await submit(world.notification(key: "incoming/gone.csv", eTag: eTag, size: 10, sequencer: "00FF02"), environment: environment)
        #expect(gone["status"] as? String == "superseded")
        await capture.stop()
        let payload = try #require(capture.invocations.first).payload

        // Less time left than the margin: refused, recorded as INCOMPLETE, not cut short silently.
        let hurried = try await startFunction("chunk-processor", environment: world.processorEnvironment(feeds: feeds, extra: ["SAFETY_MARGIN_SECONDS": "30"]))
        let outOfTime = await hurried.invoke(InvocationRequest(payload: payload, timeout: .seconds(5)))
        guard case .functionError(_, let errorType, _) = outOfTime else {
            Issue.record("expected the chunk to stop, got \(outOfTime)")
            return
        }
        #expect(errorType == "Sortie.ChunkOutOfTime")
        let stopped = try EmbeddedMetricFormat.documents(in: hurried.capturedLog)
        #expect(stopped.map { $0.string("Status") } == ["incomplete"] && stopped.first?.values("ChunksIncomplete") == [1])
        await hurried.stop()
        let fileID = try #require(first["fileId"] as? String)
        #expect(try await blocking { try world.jobTable.loadFile(fileID)?.chunks.first?.state } == .incomplete)

        // Lambda's retry, with time enough, picks the chunk up again.
        let answers = try await process([payload], environment: world.processorEnvironment(feeds: feeds))
        #expect(answers.first?["status"] as? String == "done")
        #expect(answers.first?["valid"] as? Int == 3000)
        #expect(answers.first?["fileComplete"] as? Bool == true)
        let file = try await blocking { try world.jobTable.loadFile(fileID)?.file }
        #expect(file?.state == .complete)
    }

    @Test("JSON Lines: valid lines delivered as they are, invalid ones rejected with their line; memory stays bounded on a large chunk")
    func jsonLinesAndMemory() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let capture = try await InvokeCapture.start()
        // About 40 MB in one chunk: far more than the processor may hold with 1 MiB reads and 5 MiB output parts.
        let padding = String(repeating: "p", count: 120)
        let lines = Self.jsonLines(padding: padding)
        let key = "incoming/events/day 1.jsonl"
        let eTag = try await blocking { try world.upload(key, lines) }
        let feeds = try world.feeds(format: "jsonl", fields: Self.fields, destination: .s3(S3Location(bucket: world.outputBucket, prefix: "out/")))
        let outcome = try await submit(
            world.notification(key: key, eTag: eTag, size: lines.count, sequencer: "00B7"),
            environment: world.submitterEnvironment(feeds: feeds, capture: capture, extra: ["CHUNK_MAX_RECORDS": "300000", "CHUNK_MAX_BYTES": "100000000", "BATCH_PROCESSING_THRESHOLD": "300000"]))
        #expect(outcome["records"] as? Int == 300_000)
        #expect(outcome["lambdaChunks"] as? Int == 1)
        await capture.stop()
        let payload = try #require(capture.invocations.first).payload

        let processor = try await startFunction("chunk-processor", environment: world.processorEnvironment(
            feeds: feeds, extra: ["READ_PART_BYTES": "1048576", "OUTPUT_PART_BYTES": "5242880"]))
        // Warmed up on a payload that needs no AWS (an expired one): what the process needs anyway.
        let sample = try Data(contentsOf: Repository.root.appendingPathComponent("events/chunk-processor.json"))
        _ = responseBody(await processor.invoke(InvocationRequest(payload: sample, timeout: .seconds(30))), processor)
        let idle = try #require(residentKilobytes(processor.processID, "VmHWM:").map { $0 * 1024 })
        let answer = jsonObject(responseBody(await processor.invoke(InvocationRequest(payload: payload, timeout: .seconds(300))), processor))
        let peak = residentKilobytes(processor.processID, "VmHWM:").map { $0 * 1024 }
        await processor.stop()
        #expect(answer["valid"] as? Int == 299_997)
        #expect(answer["rejected"] as? Int == 3)
        // Holding the chunk would take 41 MB for the input alone (and 40 MB more for the output).
        let grown = peak.map { $0 - idle }
        #expect(grown.map { $0 < 24 << 20 } == true, "resident memory grew by \(grown.map { "\($0 >> 20) MiB" } ?? "unknown") for a 41 MB chunk")

        let task = try JSONDecoder().decode(ChunkTask.self, from: payload)
        let output = try await blocking { try world.s3.getObject(bucket: world.outputBucket, key: "out/\(task.fileID)/\(task.chunkID).jsonl").body }
        let outputLines = output.split(separator: UInt8(ascii: "\n"))
        #expect(outputLines.count == 299_997)
        #expect(outputLines.first.map { String(decoding: $0, as: UTF8.self) } == #"{"id": 0, "name": "n0", "amount": 1.5, "pad": "\#(padding)"}"#)
        let rejectsURI = try #require(answer["rejects"] as? String)
        let rejects = try await blocking {
            try world.s3.getObject(bucket: world.outputBucket, key: String(rejectsURI.dropFirst("s3://\(world.outputBucket)/".count))).body
        }
        let entries = rejects.split(separator: UInt8(ascii: "\n")).compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        // Lines count the blank line after every thousandth record.
        #expect(entries.map { $0["line"] as? Int } == [99_999, 199_999, 299_999].map { $0 + 1 + ($0 - 1) / 1000 + 1 })
        #expect(entries.allSatisfy { $0["reason"] as? String == "id: not an integer" })
    }

    /// 300,000 JSON lines; every 100,000th has a string id; every 1000th ends in CRLF and a blank line.
    static func jsonLines(padding: String) -> [UInt8] {
        var lines: [UInt8] = []
        lines.reserveCapacity(42_000_000)
        for id in 0..<300_000 {
            let line = id % 100_000 == 99_999 ? #"{"id": "x\#(id)", "name": "bad"}"# : #"{"id": \#(id), "name": "n\#(id)", "amount": 1.5, "pad": "\#(padding)"}"#
            lines += line.utf8
            lines += id % 1000 == 0 ? [0x0D, 0x0A, 0x0A] : [0x0A]
        }
        return lines
    }

}
