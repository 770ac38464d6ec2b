import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import ChunkTestSupport
import Foundation
import LocalRuntime
import SortieTestSupport
import Testing

/// The end-to-end check on one big file, on moto.
@Suite("A 1,000,000-record file through the submitter and the processor", .serialized)
struct MillionRecordTests {
    static let records = 1_000_000
    /// Records before this id are short (`id,a`), the rest long: with a byte limit per chunk the
    /// short part makes chunks above the threshold (Batch), the long part chunks below it (Lambda).
    static let shortRecords = 700_000
    static let maxRecords = 400_000
    static let maxBytes = 3_000_000

    static func file() -> [UInt8] {
        var bytes = Array("id,name\n".utf8)
        bytes.reserveCapacity(22_000_000)
        let long = Array(",long-name-abcdefghijklmnopqrstuvwxyz-0123".utf8)
        for id in 0..<records {
            bytes += String(id).utf8
            if id < shortRecords { bytes += [UInt8(ascii: ","), UInt8(ascii: "a")] } else { bytes += long }
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }

    /// The chunks the limits must give, worked out from the raw lines (no CSV parsing needed: no quotes).
    static func expectedChunks(_ file: [UInt8]) -> [(start: Int, end: Int, first: Int, count: Int)] {
        var chunks: [(start: Int, end: Int, first: Int, count: Int)] = []
        var start = 8, first = 0, count = 0
        file.withUnsafeBufferPointer { bytes in
            for offset in 8..<bytes.count where bytes[offset] == UInt8(ascii: "\n") {
                count += 1
                if count == maxRecords || offset + 1 - start >= maxBytes {
                    chunks.append((start, offset + 1, first, count))
                    start = offset + 1
                    first += count
                    count = 0
                }
            }
        }
        if count > 0 { chunks.append((start, file.count, first, count)) }
        return chunks
    }

    /// The ids on the first and last line of `bytes`, and how many lines it has.
    static func firstLastCount(_ bytes: Data) -> (Int?, Int?, Int) {
        let lines = bytes.split(separator: UInt8(ascii: "\n"))
        func id(_ line: Data.SubSequence?) -> Int? { line.flatMap { Int(String(decoding: $0.prefix { $0 != UInt8(ascii: ",") }, as: UTF8.self)) } }
        return (id(lines.first), id(lines.last), lines.count)
    }

    @Test("exact chunk boundaries; small chunks processed by the processor, big ones one Batch array job; the same event twice submits nothing twice")
    func millionRecords() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let capture = try await InvokeCapture.start()
        let file = Self.file()
        let key = "incoming/orders/big file.csv"
        let eTag = try await blocking { try world.upload(key, file) }
        let feeds = try world.feeds(
            fields: [FieldRule(name: "id", type: .integer, required: true), FieldRule(name: "name", type: .string, required: true, pattern: "a|long-[a-z0-9-]+")],
            destination: .s3(S3Location(bucket: world.outputBucket, prefix: "out/")))
        let submitter = try await startFunction("s3-submitter", environment: world.submitterEnvironment(
            feeds: feeds, capture: capture, extra: ["CHUNK_MAX_RECORDS": String(Self.maxRecords), "CHUNK_MAX_BYTES": String(Self.maxBytes)]))
        let event = world.notification(key: key, eTag: eTag, size: file.count, sequencer: "0067A1B2C3D4E5F601")

        let first = jsonObject(responseBody(await submitter.invoke(InvocationRequest(payload: event, timeout: .seconds(300))), submitter))
        let outcome = try #require((first["files"] as? [[String: Any]])?.first)
        #expect(outcome["status"] as? String == "submitted")
        #expect(outcome["records"] as? Int == Self.records)
        let fileID = try #require(outcome["fileId"] as? String)
        let jobs = try #require(outcome["batchJobs"] as? [String])
        #expect(jobs.count == 1, "the big chunks of one file share one array job")

        // The plan: the chunks the limits give, tiling the file; each range holds exactly its records.
        let expected = Self.expectedChunks(file)
        let stored = try await blocking { try world.jobTable.loadFile(fileID) }
        let (planned, chunks) = try #require(stored)
        #expect(planned.plan.records == Int64(Self.records))
        #expect(planned.plan.columns == ["id", "name"])
        #expect(chunks.map { Int($0.spec.start) } == expected.map(\.start))
        #expect(chunks.map { Int($0.spec.end) } == expected.map(\.end))
        #expect(chunks.map { Int($0.spec.recordCount) } == expected.map(\.count))
        #expect(chunks.reduce(0) { $0 + $1.spec.recordCount } == Int64(Self.records))
        for chunk in chunks {
            let body = try await blocking {
                try world.s3.getObject(bucket: world.bucket, key: key, range: .bytes(chunk.spec.start...(chunk.spec.end - 1))).body
            }
            let (firstID, lastID, count) = Self.firstLastCount(body)
            #expect(count == Int(chunk.spec.recordCount), "chunk \(chunk.spec.index)")
            #expect(firstID == Int(chunk.spec.firstRecord), "chunk \(chunk.spec.index) starts with its first record")
            #expect(lastID == Int(chunk.spec.firstRecord + chunk.spec.recordCount) - 1, "chunk \(chunk.spec.index) ends with its last record")
            #expect(body.last == UInt8(ascii: "\n"), "no record split")
        }
        let small = chunks.filter { $0.spec.recordCount <= 290_000 }
        let big = chunks.filter { $0.spec.recordCount > 290_000 }
        #expect(big.count == 2 && small.count >= 4, "both routes are exercised: \(chunks.map(\.spec.recordCount))")
        #expect(small.allSatisfy { $0.route == .lambda && $0.state == .queued })
        #expect(big.allSatisfy { $0.route == .batch && $0.state == .submitted && $0.batchJobID == jobs.first })
        #expect(big.map(\.batchArrayIndex) == [0, 1])

        // Batch: one array job naming its first chunk; the job table lists its children's chunks.
        let described = try await blocking { try Batch(client: world.client).describeJobs(jobs) }
        let job = try #require(described.first)
        #expect(job.jobQueue.hasSuffix(world.batchQueue))
        #expect(job.jobDefinition?.contains(world.batchDefinition) == true)
        #expect(job.arrayProperties?.size == 2)
        #expect(job.parameters?["chunkId"] == big.first?.chunkID)
        let children = try await blocking { try (0..<3).map { try world.jobTable.arrayChunk(fileID: fileID, first: big[0].spec.index, child: $0) } }
        #expect(children == big.map(\.spec.index) + [nil])
        #expect(job.parameters?["key"] == key)

        // Lambda: one asynchronous invoke per small chunk, its payload the chunk's task.
        let invocations = capture.invocations
        #expect(invocations.count == small.count)
        #expect(invocations.allSatisfy { $0.function == "chunk-processor" && $0.payload.count < 262_144 })
        let tasks = try invocations.map { try JSONDecoder().decode(ChunkTask.self, from: $0.payload) }
        #expect(tasks.map(\.chunk) == small.map(\.spec))
        #expect(Set(tasks.map(\.fileID)) == [fileID])

        // The same event again: nothing planned or submitted twice.
        let again = jsonObject(responseBody(await submitter.invoke(InvocationRequest(payload: event, timeout: .seconds(60))), submitter))
        #expect((again["files"] as? [[String: Any]])?.first?["status"] as? String == "duplicate")
        #expect(capture.invocations.count == invocations.count)
        let listed = try await blocking { try BatchJobs.list(world) }
        #expect(listed.filter { !$0.contains(":") } == jobs, "one array job, listed with its children: \(listed)")
        await submitter.stop()
        await capture.stop()

        // The processor, run with the exact payloads: every small chunk's records reach the output.
        let processor = try await startFunction("chunk-processor", environment: world.processorEnvironment(feeds: feeds))
        for (task, invocation) in zip(tasks, invocations) {
            let answer = jsonObject(responseBody(await processor.invoke(InvocationRequest(payload: invocation.payload, timeout: .seconds(120))), processor))
            #expect(answer["status"] as? String == "done")
            #expect(answer["records"] as? Int == Int(task.chunk.recordCount))
            #expect(answer["valid"] as? Int == Int(task.chunk.recordCount))
            #expect(answer["delivered"] as? Int == Int(task.chunk.recordCount))
            #expect(answer["rejected"] as? Int == 0)
            let output = try await blocking {
                try world.s3.getObject(bucket: world.outputBucket, key: "out/\(fileID)/\(task.chunkID).jsonl").body
            }
            let lines = output.split(separator: UInt8(ascii: "\n"))
            #expect(lines.count == Int(task.chunk.recordCount))
            let firstRecord = lines.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
            let lastRecord = lines.last.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
            #expect(firstRecord?["id"] as? Int == Int(task.chunk.firstRecord))
            #expect(lastRecord?["id"] as? Int == Int(task.chunk.firstRecord + task.chunk.recordCount) - 1)
        }
        // Delivered twice by Lambda: the processor sees the chunk done and does nothing.
        if let repeated = invocations.first {
            let answer = jsonObject(responseBody(await processor.invoke(InvocationRequest(payload: repeated.payload, timeout: .seconds(60))), processor))
            #expect(answer["status"] as? String == "duplicate")
        }
        // Counts as metrics: one Embedded Metric Format line per processed chunk, valid by the specification's rules.
        let metrics = try EmbeddedMetricFormat.documents(in: processor.capturedLog)
        #expect(metrics.count == small.count)
        #expect(metrics.map { $0.values("RecordsRead") } == tasks.map { [Double($0.chunk.recordCount)] })
        #expect(metrics.allSatisfy { $0.string("Feed") == tasks.first?.feed && $0.directives.first?.dimensionSets == [["Feed"], []] })
        await processor.stop()

        // The job table follows the file: the Lambda chunks done, the Batch ones waiting for their workers.
        let after = try #require(try await blocking { try world.jobTable.loadFile(fileID) })
        #expect(after.chunks.filter { $0.route == .lambda }.allSatisfy { $0.state == .done && $0.counts?.delivered == $0.spec.recordCount })
        #expect(after.file.state == .dispatched)
        let fileItem = try await blocking { try TableItem.file(world, fileID) }
        #expect(fileItem["chunksDone"]?.int == small.count)
        #expect(fileItem["recordsDelivered"]?.int == small.reduce(0) { $0 + Int($1.spec.recordCount) })
    }
}

/// Batch as the test reads it, beyond what the product calls.
enum BatchJobs {
    /// The ids of every job in the world's queue, whatever its status.
    static func list(_ world: ChunkWorld) throws -> [String] {
        var ids = Set<String>()
        for status in ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"] {
            ids.formUnion(try Batch(client: world.client).listJobs(queue: world.batchQueue, status: status).jobSummaryList.map(\.jobId))
        }
        return ids.sorted()
    }
}

/// Items read back raw, for the counters the typed records do not carry.
enum TableItem {
    static func file(_ world: ChunkWorld, _ fileID: String) throws -> DynamoDB.Item {
        try DynamoDB(client: world.client).getItem(.init(tableName: world.table, key: ["pk": .s("FILE#\(fileID)"), "sk": .s("FILE")], consistentRead: true)).item ?? [:]
    }
}
