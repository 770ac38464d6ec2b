import AWSServices
import ArgumentParser
import ChunkStore
import Foundation

/// `sortie file`: a file's way through the chunk pipeline, from the job table's `FILE#` items.
/// The figures are the file item's counters (one read, however many chunks); the chunks shown are
/// the first `shownChunks` by key, or every one page by page with `--chunks`.
struct ShowFile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "file", abstract: "A file's progress: its plan, its counts and each chunk's route, state and counts.",
        discussion: """
            Shows the first \(shownChunks) chunks (--chunks: every one). With --wait: follows the file until it is COMPLETE, \
            each shown chunk's change (and the file's counts) on stderr as it happens; exits 0 once COMPLETE, 75 if --timeout \
            passed first. A FAILED chunk is not the end: Lambda retries an event twice, Batch by its job's retry strategy.
            """)

    /// Chunks read by key for the view: one BatchGetItem.
    static let shownChunks = 100

    @Argument(help: "The file's id (s3-submitter's answer names it), or s3://bucket/key for the latest upload of that key.")
    var file: String

    @Flag(help: "List every chunk, read page by page, not only the first \(ShowFile.shownChunks).")
    var chunks = false

    @OptionGroup var waiting: WaitOptions
    @OptionGroup var target: Target
    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let progress = progressOptions.reporter()
        defer { progress.close() }
        let table = FileStore(dynamoDB: DynamoDB(client: try target.client()), tableName: try target.table())
        let fileID = try resolve(in: table)
        let deadline = ContinuousClock.now + .seconds(waiting.timeout)
        var reported: [Int: String] = [:]
        var reportedCounts = ""
        while true {
            guard let state = try table.progress(fileID) else { throw CommandError("no file \(fileID) in the job table") }
            let shown = try table.chunks(fileID: fileID, indexes: Self.shownIndexes(state)).map(\.chunk)
            if waiting.wait {
                for chunk in shown where reported[chunk.spec.index] != chunk.state.rawValue {
                    progress.stage(chunk.summary)
                    reported[chunk.spec.index] = chunk.state.rawValue
                }
                // Beyond the chunks shown, the counts say how the rest go.
                let counts = Self.counts(state)
                if state.chunksKnown > shown.count && counts != reportedCounts {
                    progress.stage("file \(fileID) \(state.file.state.rawValue): \(counts)")
                    reportedCounts = counts
                }
            }
            if !waiting.wait || state.file.state == .complete {
                if waiting.wait { progress.finish("file \(fileID) COMPLETE") }
                return try show(state, shown, table: table)
            }
            if waiting.wait && state.file.state == .failed {
                try show(state, shown, table: table)
                if let chunk = state.failedChunk {
                    throw CommandError("file \(fileID) FAILED: chunk \(chunk) failed for good (\(state.failedReason ?? "no reason")); `sortie redrive \(fileID)` re-runs the failed chunks")
                }
                // A file whose planning stopped (object replaced, truncated) will not complete: no use waiting.
                throw CommandError("file \(fileID) FAILED: its planning stopped (the file item's error says why)")
            }
            guard ContinuousClock.now < deadline else {
                progress.close()
                Progress.standardError("Error: gave up after \(waiting.timeout)s: file \(fileID) is \(state.file.state.rawValue), \(Self.counts(state))\n")
                throw WaitTimedOut.exitCode
            }
            progress.update()
            Thread.sleep(forTimeInterval: 0.5)
        }
    }

    /// The first chunks, and the one that failed the file when it is not among them. While the
    /// file is planned its count lags behind the chunks written: the first keys are asked for anyway.
    static func shownIndexes(_ state: ChunkStore.FileProgress) -> [Int] {
        let first = Array(0..<(state.file.state == .planning ? shownChunks : min(state.chunksKnown, shownChunks)))
        guard let failed = state.failedChunk, failed >= first.count else { return first }
        return first.prefix(shownChunks - 1) + [failed]  // still one BatchGetItem
    }

    /// `412 of 10000 chunks done, 2 failed`.
    static func counts(_ state: ChunkStore.FileProgress) -> String {
        "\(state.chunksDone) of \(state.chunksKnown) chunks done" + (state.chunksFailed > 0 ? ", \(state.chunksFailed) failed" : "")
    }

    private func resolve(in table: FileStore) throws -> String {
        guard file.hasPrefix("s3://") else { return file }
        let (bucket, key) = try S3Location.parse(file, what: "the file")
        guard let latest = try table.files(bucket: bucket, key: key).first else { throw CommandError("no file planned from \(file)") }
        return latest.fileID
    }

    private func show(_ state: ChunkStore.FileProgress, _ shown: [ChunkRecord], table: FileStore) throws {
        let file = state.file
        func counted(_ count: some BinaryInteger, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
        let heading = "file \(file.fileID) s3://\(file.object.bucket)/\(file.object.key): \(file.state.rawValue), \(counted(file.plan.records, "record")) in "
            + "\(counted(state.chunksKnown, "chunk")), \(state.chunksDone) done: \(state.counts.delivered) delivered, \(state.counts.rejected) rejected"
            + (state.chunksFailed > 0 ? ", \(state.chunksFailed) failed" : "")
        var listed = shown
        if chunks {
            // Every chunk, a page at a time; text goes out as each page comes.
            if !target.json { print(heading) }
            listed = []
            var after: DynamoDB.Item?
            repeat {
                let page = try table.chunkPage(fileID: file.fileID, limit: Self.shownChunks, after: after)
                if target.json { listed += page.entries.map(\.chunk) } else { for (chunk, _) in page.entries { print("  \(chunk.summary)") } }
                after = page.next
            } while after != nil
            if !target.json { return }
        }
        let more = chunks ? 0 : max(state.chunksKnown - shown.count, 0)
        if target.json {
            var object: [String: Any] = [
                "fileId": file.fileID, "bucket": file.object.bucket, "key": file.object.key, "state": file.state.rawValue,
                "records": file.plan.records, "delivered": state.counts.delivered, "rejected": state.counts.rejected,
                "chunkCount": state.chunksKnown, "chunksDone": state.chunksDone, "chunksFailed": state.chunksFailed, "moreChunks": more,
                "counts": ["read": state.counts.read, "valid": state.counts.valid, "rejected": state.counts.rejected, "delivered": state.counts.delivered],
                "chunks": listed.map { chunk in
                    var object: [String: Any] = [
                        "index": chunk.spec.index, "firstRecord": chunk.spec.firstRecord, "recordCount": chunk.spec.recordCount,
                        "route": chunk.route.rawValue, "state": chunk.state.rawValue,
                    ]
                    object["batchJobId"] = chunk.batchJobID
                    object["reason"] = chunk.reason
                    if let counts = chunk.counts {
                        object["counts"] = ["read": counts.read, "valid": counts.valid, "rejected": counts.rejected, "delivered": counts.delivered]
                    }
                    return object
                },
            ]
            object["failedChunk"] = state.failedChunk
            object["failedReason"] = state.failedReason
            return try target.emit(object)
        }
        print(heading)
        for chunk in shown { print("  \(chunk.summary)") }
        if more > 0 { print("  … \(counted(more, "more chunk")) (--chunks lists every one)") }
    }
}
