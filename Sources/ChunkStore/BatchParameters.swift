import ChunkPlanning

/// A chunk's Batch job parameters are malformed, or disagree with its job-table item.
public struct BatchParameterError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The contract between the submitter and the Batch worker: the job's parameters.
///
/// The file's identity (`fileId`, `bucket`, `key`, `eTag`, `feed`, `table`) and one `chunkId`:
/// a single job's chunk, or an array job's first chunk, under which the job table lists the
/// array's chunks (`FileStore.saveArray`): child `AWS_BATCH_JOB_ARRAY_INDEX` runs entry that of
/// the list. So the parameters are the same size for 2 children or 10,000: ECS caps a task's
/// container overrides at 8,192 characters, and Batch passes the filled-in command as one. The
/// chunk's ranges and gzip entry are read from its job-table item, the source of truth. The job
/// definition's command passes each parameter to the worker as `--name Ref::name` (see
/// `command`).
public struct BatchParameters: Sendable, Equatable {
    public static let names = ["fileId", "bucket", "key", "eTag", "feed", "table", "chunkId"]
    /// ECS's limit on a task's container overrides, which carry the filled-in command.
    public static let maxOverrideCharacters = 8_192

    /// The values as Batch carries them, by name.
    public private(set) var values: [String: String]

    /// The parameters of a job whose (first) chunk is `first`, of `file`, recorded in `table`.
    public init(file: FileRecord, first: Int, table: String) {
        values = [
            "fileId": file.fileID, "bucket": file.object.bucket, "key": file.object.key, "eTag": file.object.eTag,
            "feed": file.feed, "table": table, "chunkId": ChunkTask.chunkID(fileID: file.fileID, index: first),
        ]
    }

    /// Parameters as the worker received them; every name is required.
    public init(values: [String: String]) throws(BatchParameterError) {
        for name in Self.names where values[name]?.hasPrefix("Ref::") == true {
            throw BatchParameterError("parameter \(name) was not substituted (the job has no value for it)")
        }
        if let missing = Self.names.first(where: { values[$0] == nil }) {
            throw BatchParameterError("parameter \(missing) is missing")
        }
        if let unknown = values.keys.sorted().first(where: { !Self.names.contains($0) }) {
            throw BatchParameterError("unknown parameter \(unknown)")
        }
        self.values = values
    }

    /// The job definition's command, the arguments of the image's entrypoint (the worker):
    /// `batch --fileId Ref::fileId …`, one pair per parameter.
    public static var command: [String] {
        ["batch"] + names.flatMap { ["--\($0)", "Ref::\($0)"] }
    }

    public var fileID: String { values["fileId"] ?? "" }
    public var table: String { values["table"] ?? "" }

    /// The position in its file's plan of the chunk `chunkId` names (`<fileId>-c00042`).
    public func chunkIndex() throws(BatchParameterError) -> Int {
        let chunkID = values["chunkId"] ?? ""
        let prefix = "\(fileID)-c"
        guard chunkID.hasPrefix(prefix), let index = Int(chunkID.dropFirst(prefix.count)), index >= 0,
              ChunkTask.chunkID(fileID: fileID, index: index) == chunkID
        else { throw BatchParameterError("chunkId '\(chunkID)' is not a chunk of file \(fileID)") }
        return index
    }

    /// Checks the file's identity against what the job table recorded for it: every parameter
    /// must be the one the submitter would have sent. Names each that differs.
    public func check(file: FileRecord, table: String) throws(BatchParameterError) {
        let expected = BatchParameters(file: file, first: 0, table: table).values
        let differing = Self.names.filter { $0 != "chunkId" && expected[$0] != values[$0] }
        guard differing.isEmpty else {
            let detail = differing.map { "\($0) is '\(values[$0] ?? "")', the job table says '\(expected[$0] ?? "")'" }
            throw BatchParameterError("the parameters disagree with the job table: " + detail.joined(separator: "; "))
        }
    }
}
