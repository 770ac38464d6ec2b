import AWSCore
import AWSServices
import AWSTestSupport
import ChunkPlanning
import ChunkStore
import Foundation
import SortieTestSupport
import TableSchema
import Testing

/// A file's counts live on its item and move in the same write as the chunk change they count,
/// conditional on it: a duplicate, retried or concurrent ending counts once, COMPLETE and FAILED
/// are decided from the counts once, and a redrive takes its chunks off the failed count. Every
/// request is checked against DynamoDB's limits (`DynamoDBLimits`), which moto does not enforce.
@Suite("A file's counters: exact under duplicate, concurrent and redriven endings; writes within DynamoDB's limits")
struct FileCounterTests {
    /// A table of its own on `server`, behind the limit-checking transport.
    struct Table {
        let store: FileStore
        let limits: DynamoDBLimits

        init(_ server: MotoServer) throws {
            limits = try DynamoDBLimits()
            let configuration = try AWSConfiguration.fromEnvironment(AWSEnvironment(server.environment), transport: limits)
            let client = AWSClient(configuration)
            let name = "counters-\(UUID().uuidString.prefix(8).lowercased())"
            try createJobTable(client, name)
            store = FileStore(dynamoDB: DynamoDB(client: client), tableName: name)
        }

        /// A file planned in `count` chunks of 10 records, DISPATCHED (its chunk count known).
        func plannedFile(chunks count: Int) throws -> String {
            let fileID = "file-\(UUID().uuidString.prefix(8).lowercased())"
            let specs = (0..<count).map { ChunkSpec(index: $0, firstRecord: Int64($0) * 10, recordCount: 10, start: Int64($0) * 100, end: Int64($0 + 1) * 100, startLine: $0 * 10 + 2) }
            let plan = FilePlan(records: Int64(count) * 10, columns: ["id"], bytes: Int64(count) * 100, compressed: false, chunks: specs)
            let file = FileRecord(
                fileID: fileID, object: ObjectRef(bucket: "landing", key: "incoming/\(fileID).csv", versionID: nil, eTag: "\"e\"", size: plan.bytes),
                sequencer: "01", feed: "orders", plan: plan, state: .planning, createdAt: 1_000, expiresAt: 4_000_000_000)
            try store.startPlanning(file)
            let existing = try store.putChunks(specs.map { ChunkRecord(fileID: fileID, spec: $0, route: .lambda, state: .planned) }, expiresAt: file.expiresAt)
            #expect(existing.isEmpty)
            try store.finishPlanning(fileID: fileID, generation: 0, sequence: 0, plan: plan, chunkCount: count, now: 2_000)
            return fileID
        }

        /// Claims and finishes chunk `index` as processor `owner`, 10 records read, 1 rejected.
        @discardableResult
        func finish(_ fileID: String, _ index: Int, owner: String) throws -> Bool {
            _ = try store.claimChunk(fileID: fileID, index: index, owner: owner, now: 3_000, leaseUntil: 900_000)
            return try store.finishChunk(
                fileID: fileID, index: index, owner: owner, counts: ChunkCounts(read: 10, valid: 9, rejected: 1, delivered: 9), now: 4_000)
        }

        func progress(_ fileID: String) throws -> FileProgress { try #require(try store.progress(fileID)) }
    }

    @Test("planning writes: 250 chunks in transactions of at most 100, a resumed run keeps what exists; reads by key in batches of at most 100")
    func limits() async throws {
        let table = try Table(try await MotoServer.shared())
        #expect(DynamoDB.transactionLimit == table.limits.transactionMax && DynamoDB.batchGetLimit == table.limits.batchGetMax)
        let fileID = "file-limits"
        let specs = (0..<260).map { ChunkSpec(index: $0, firstRecord: Int64($0), recordCount: 1, start: Int64($0), end: Int64($0 + 1), startLine: $0 + 2) }
        let chunks = specs.map { ChunkRecord(fileID: fileID, spec: $0, route: .lambda, state: .planned) }
        try await blocking {
            #expect(try table.store.putChunks(Array(chunks[0..<250]), expiresAt: 4_000_000_000).isEmpty)
            let writes = table.limits.sent.filter { $0.operation == "TransactWriteItems" }
            #expect(writes.map(\.items) == [100, 100, 50])
            // A killed run's chunk is under way: the resumed run's batch meets it, keeps it, writes the rest.
            _ = try table.store.claimChunk(fileID: fileID, index: 205, owner: "p", now: 1, leaseUntil: 2)
            let existing = try table.store.putChunks(Array(chunks[200..<260]), expiresAt: 4_000_000_000)
            #expect(existing.map(\.spec.index) == Array(200..<250))
            #expect(existing.first { $0.spec.index == 205 }?.state == .running)
            let read = try table.store.chunks(fileID: fileID, indexes: Array(0..<260))
            #expect(read.map(\.chunk.spec.index) == Array(0..<260))
            #expect(table.limits.sent.filter { $0.operation == "BatchGetItem" }.map(\.items) == [100, 100, 60])
            // Paged: a state's chunks found through every page; a page of at most `limit`, and where the next starts.
            #expect(try table.store.chunks(fileID: fileID, in: [.running]).map(\.chunk.spec.index) == [205])
            let page = try table.store.chunkPage(fileID: fileID, limit: 100)
            let next = try table.store.chunkPage(fileID: fileID, limit: 100, after: page.next)
            #expect(page.entries.map(\.chunk.spec.index) == Array(0..<100) && next.entries.map(\.chunk.spec.index) == Array(100..<200))
            #expect(table.limits.sent.allSatisfy { $0.operation != "BatchWriteItem" })
        }
    }

    @Test("the limit stand-in refuses what DynamoDB refuses")
    func standIn() async throws {
        let table = try Table(try await MotoServer.shared())
        let puts = (0...DynamoDB.transactionLimit).map { index in
            DynamoDB.TransactWriteItem.put(.init(tableName: table.store.tableName, item: JobTable.chunkKey("over", index)))
        }
        await #expect(throws: AWSError.self) { try await blocking { try table.store.dynamoDB.transactWriteItems(puts) } }
        #expect(table.limits.sent.last?.items == 101)
    }

    @Test("a duplicate ending counts once: a repeated finish is refused, a repeated failure changes nothing; FAILED once, with how many done")
    func duplicates() async throws {
        let table = try Table(try await MotoServer.shared())
        try await blocking {
            let fileID = try table.plannedFile(chunks: 3)
            #expect(try table.finish(fileID, 0, owner: "a") == false)
            #expect(throws: AWSError.self) {
                try table.store.finishChunk(fileID: fileID, index: 0, owner: "a", counts: ChunkCounts(read: 10), now: 5_000)
            }
            var progress = try table.progress(fileID)
            #expect(progress.chunksDone == 1 && progress.counts == ChunkCounts(read: 10, valid: 9, rejected: 1, delivered: 9))
            #expect(try table.store.failChunk(fileID: fileID, index: 1, reason: "bad", now: 6_000) == .failed(fileFailed: true))
            #expect(try table.store.failChunk(fileID: fileID, index: 1, reason: "bad again", now: 7_000) == .unchanged)
            #expect(try table.store.failChunk(fileID: fileID, index: 0, reason: "late", now: 7_000) == .unchanged, "a DONE chunk stays done")
            #expect(try table.store.failChunk(fileID: fileID, index: 9, reason: "none", now: 7_000) == .missing)
            progress = try table.progress(fileID)
            #expect(progress.file.state == .failed && progress.failedChunk == 1 && progress.failedReason == "bad")
            #expect(progress.chunksDone == 1 && progress.chunksFailed == 1 && progress.chunkCount == 3)
        }
    }

    @Test("concurrent endings: every chunk finished twice at once counts once, and one ending completes the file")
    func concurrent() async throws {
        // moto's threaded server rolls a failed transaction back over writes made meanwhile: one request at a time.
        let table = try Table(try await MotoServer.serialized())
        let count = 24
        let fileID = try await blocking { try table.plannedFile(chunks: count) }
        for index in 0..<count { _ = try await blocking { try table.store.claimChunk(fileID: fileID, index: index, owner: "p\(index)", now: 3_000, leaseUntil: 900_000) } }
        let completions = await withTaskGroup(of: Bool?.self) { group in
            for index in 0..<count {
                for _ in 0..<2 {
                    group.addTask {
                        try? await blocking {
                            try table.store.finishChunk(fileID: fileID, index: index, owner: "p\(index)", counts: ChunkCounts(read: 10, valid: 10, delivered: 10), now: 4_000)
                        }
                    }
                }
            }
            var results: [Bool?] = []
            for await result in group { results.append(result) }
            return results
        }
        #expect(completions.compactMap { $0 }.count == count, "one of each pair finished its chunk")
        #expect(completions.filter { $0 == true }.count == 1, "COMPLETE decided once")
        let progress = try await blocking { try table.progress(fileID) }
        #expect(progress.file.state == .complete && progress.chunksDone == count && progress.counts.read == Int64(count) * 10)
    }

    @Test("an ending cancelled for a conflict on the file's item is sent again and counts once; one that keeps conflicting fails")
    func conflicts() async throws {
        let table = try Table(try await MotoServer.shared())
        try await blocking {
            let fileID = try table.plannedFile(chunks: 2)
            _ = try table.store.claimChunk(fileID: fileID, index: 0, owner: "a", now: 3_000, leaseUntil: 900_000)
            let before = table.limits.sent.filter { $0.operation == "TransactWriteItems" }.count
            table.limits.conflict(next: 2)
            try table.store.finishChunk(fileID: fileID, index: 0, owner: "a", counts: ChunkCounts(read: 10, valid: 10, delivered: 10), now: 4_000)
            #expect(table.limits.sent.filter { $0.operation == "TransactWriteItems" }.count - before == 3)
            table.limits.conflict(next: 1)
            #expect(try table.store.failChunk(fileID: fileID, index: 1, reason: "bad", now: 5_000) == .failed(fileFailed: true))
            let progress = try table.progress(fileID)
            #expect(progress.chunksDone == 1 && progress.counts.read == 10 && progress.chunksFailed == 1)
            guard case .ready = try table.store.startRedrive(fileID: fileID, now: 6_000) else {
                Issue.record("no redrive")
                return
            }
            _ = try table.store.claimChunk(fileID: fileID, index: 1, owner: "b", now: 7_000, leaseUntil: 900_000)
            table.limits.conflict(next: 10)
            #expect(throws: AWSError.self) {
                try table.store.finishChunk(fileID: fileID, index: 1, owner: "b", counts: ChunkCounts(read: 10), now: 8_000)
            }
            table.limits.conflict(next: 0)
            #expect(try table.progress(fileID).chunksDone == 1, "a cancelled transaction wrote nothing")
        }
    }

    @Test("a transaction carried out whose answer is lost is sent again with its ClientRequestToken and answered as the first: the chunk counts once, not a failed condition")
    func lostAnswer() async throws {
        let table = try Table(try await MotoServer.shared())
        try await blocking {
            let fileID = try table.plannedFile(chunks: 2)
            _ = try table.store.claimChunk(fileID: fileID, index: 0, owner: "a", now: 3_000, leaseUntil: 900_000)
            let before = table.limits.sent.count
            table.limits.loseAnswer(next: 1)
            // Without the token moto would run it again, and its condition (RUNNING, owned by "a") would fail.
            _ = try table.store.finishChunk(fileID: fileID, index: 0, owner: "a", counts: ChunkCounts(read: 10, valid: 10, delivered: 10), now: 4_000)
            let sent = table.limits.sent.dropFirst(before).filter { $0.operation == "TransactWriteItems" }
            #expect(sent.count == 2 && sent.first?.clientRequestToken != nil && Set(sent.map(\.clientRequestToken)).count == 1, "\(sent)")
            let progress = try table.progress(fileID)
            #expect(progress.chunksDone == 1 && progress.counts.read == 10)
        }
    }

    @Test("a redrive takes its chunks off the failed count, once, and the file completes from the counts")
    func redrive() async throws {
        let table = try Table(try await MotoServer.shared())
        try await blocking {
            let fileID = try table.plannedFile(chunks: 4)
            try table.finish(fileID, 0, owner: "a")
            try table.finish(fileID, 1, owner: "b")
            _ = try table.store.failChunk(fileID: fileID, index: 2, reason: "two", now: 5_000)
            _ = try table.store.failChunk(fileID: fileID, index: 3, reason: "three", now: 5_001)
            #expect(try table.progress(fileID).chunksFailed == 2)
            guard case .ready(_, let chunks) = try table.store.startRedrive(fileID: fileID, now: 6_000) else {
                Issue.record("no redrive")
                return
            }
            #expect(chunks.map(\.spec.index) == [2, 3])
            var progress = try table.progress(fileID)
            #expect(progress.file.state == .planned && progress.chunksFailed == 0 && progress.chunksDone == 2 && progress.redrives == 1)
            // Resumed (the first stopped before dispatching): the same chunks, the count not moved again.
            guard case .ready(_, let again) = try table.store.startRedrive(fileID: fileID, now: 6_500) else {
                Issue.record("no resumed redrive")
                return
            }
            #expect(again.map(\.spec.index) == [2, 3])
            #expect(try table.progress(fileID).chunksFailed == 0)
            #expect(try table.finish(fileID, 2, owner: "c") == false)
            #expect(try table.finish(fileID, 3, owner: "d") == true)
            progress = try table.progress(fileID)
            #expect(progress.file.state == .complete && progress.chunksDone == 4 && progress.chunksFailed == 0)
            #expect(try table.store.startRedrive(fileID: fileID, now: 7_000) == .nothing(.complete))
        }
    }
}
