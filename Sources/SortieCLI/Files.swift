import AWSServices
import ArgumentParser
import ChunkStore
import Foundation

/// `sortie file`: a file's way through the chunk pipeline, from the job table's `FILE#` items.
struct FileProgress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "file", abstract: "A file's progress: its plan and every chunk's route, state and counts.",
        discussion: """
            With --wait: follows the file until it is COMPLETE, each chunk's change on stderr as it happens; exits 0 once \
            COMPLETE, 75 if --timeout passed first. A FAILED chunk is not the end: Lambda retries an event twice, Batch \
            by its job's retry strategy.
            """)

    @Argument(help: "The file's id (s3-submitter's answer names it), or s3://bucket/key for the latest upload of that key.")
    var file: String

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
        while true {
            guard let (file, chunks) = try table.loadFile(fileID) else { throw CommandError("no file \(fileID) in the job table") }
            if waiting.wait {
                for chunk in chunks where reported[chunk.spec.index] != chunk.state.rawValue {
                    progress.stage(chunk.summary)
                    reported[chunk.spec.index] = chunk.state.rawValue
                }
            }
            if !waiting.wait || file.state == .complete {
                if waiting.wait { progress.finish("file \(fileID) COMPLETE") }
                return try show(file, chunks)
            }
            if waiting.wait && file.state == .failed {
                // A file whose planning stopped (object replaced, truncated) will not complete: no use waiting.
                try show(file, chunks)
                throw CommandError("file \(fileID) FAILED: its planning stopped (the file item's error says why)")
            }
            guard ContinuousClock.now < deadline else {
                progress.close()
                Progress.standardError("Error: gave up after \(waiting.timeout)s: file \(fileID) is \(file.state.rawValue), \(chunks.filter { $0.state == .done }.count) of \(chunks.count) chunks done\n")
                throw WaitTimedOut.exitCode
            }
            progress.update()
            Thread.sleep(forTimeInterval: 0.5)
        }
    }

    private func resolve(in table: FileStore) throws -> String {
        guard file.hasPrefix("s3://") else { return file }
        let (bucket, key) = try S3Location.parse(file, what: "the file")
        guard let latest = try table.files(bucket: bucket, key: key).first else { throw CommandError("no file planned from \(file)") }
        return latest.fileID
    }

    private func show(_ file: FileRecord, _ chunks: [ChunkRecord]) throws {
        let done = chunks.filter { $0.state == .done }
        let delivered = done.reduce(Int64(0)) { $0 + ($1.counts?.delivered ?? 0) }
        let rejected = done.reduce(Int64(0)) { $0 + ($1.counts?.rejected ?? 0) }
        if target.json {
            return try target.emit([
                "fileId": file.fileID, "bucket": file.object.bucket, "key": file.object.key, "state": file.state.rawValue,
                "records": file.plan.records, "delivered": delivered, "rejected": rejected,
                "chunks": chunks.map { chunk in
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
            ])
        }
        func counted(_ count: some BinaryInteger, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
        print("file \(file.fileID) s3://\(file.object.bucket)/\(file.object.key): \(file.state.rawValue), \(counted(file.plan.records, "record")) in "
            + "\(counted(chunks.count, "chunk")), \(done.count) done: \(delivered) delivered, \(rejected) rejected")
        for chunk in chunks { print("  \(chunk.summary)") }
    }
}
