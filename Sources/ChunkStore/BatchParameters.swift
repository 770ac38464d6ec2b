import ChunkPlanning

/// A chunk's Batch job parameters are malformed, or disagree with its job-table item.
public struct BatchParameterError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The contract between the submitter and the Batch worker: the job's parameters.
///
/// The file's identity (`fileId`, `bucket`, `key`, `eTag`, `feed`, `table`) and, for each chunk of
/// the job, one entry of each comma-separated list (`chunkId`, `byteRange`, `recordRange`,
/// `startLine`, `gzipEntry`): an array child takes entry `AWS_BATCH_JOB_ARRAY_INDEX`. Ranges are
/// `[first, end)`; `gzipEntry` is `compressedOffset:decompressedOffset:compressedEnd`, and only a
/// compressed file's jobs carry it (an access point's bits and window are too big for a parameter:
/// the worker takes them from the chunk's job-table item). The job definition's command passes
/// each one to the worker as `--name Ref::name` (see `command`).
public struct BatchParameters: Sendable, Equatable {
    public static let fileNames = ["fileId", "bucket", "key", "eTag", "feed", "table"]
    public static let listNames = ["chunkId", "byteRange", "recordRange", "startLine", "gzipEntry"]
    public static var names: [String] { fileNames + listNames }
    /// What the job definition declares as defaults: a plain file's job has no `gzipEntry`, and
    /// Batch leaves a placeholder without a value in the command as it is.
    public static let definitionDefaults = ["gzipEntry": ""]

    /// The values as Batch carries them, by name.
    public private(set) var values: [String: String]

    /// The parameters of a job running `chunks` of `file`, recorded in `table`.
    public init(file: FileRecord, chunks: [ChunkSpec], table: String) {
        func list(_ value: (ChunkSpec) -> String) -> String { chunks.map(value).joined(separator: ",") }
        values = [
            "fileId": file.fileId, "bucket": file.object.bucket, "key": file.object.key, "eTag": file.object.eTag,
            "feed": file.feed, "table": table,
            "chunkId": list { ChunkTask.chunkID(fileId: file.fileId, index: $0.index) },
            "byteRange": list { "\($0.start)-\($0.end)" },
            "recordRange": list { "\($0.firstRecord)-\($0.firstRecord + $0.recordCount)" },
            "startLine": list { String($0.startLine) },
        ]
        if file.plan.compressed {
            values["gzipEntry"] = list { spec in
                spec.entry.map { "\($0.compressedOffset):\($0.decompressedOffset):\(spec.compressedEnd ?? file.object.size)" } ?? ""
            }
        }
    }

    /// Parameters as the worker received them; every name but `gzipEntry` is required.
    public init(values: [String: String]) throws(BatchParameterError) {
        for name in Self.names where values[name]?.hasPrefix("Ref::") == true {
            throw BatchParameterError("parameter \(name) was not substituted (the job has no value for it)")
        }
        if let missing = Self.names.first(where: { values[$0] == nil && Self.definitionDefaults[$0] == nil }) {
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

    public var fileId: String { values["fileId"] ?? "" }
    public var table: String { values["table"] ?? "" }

    /// How many chunks the lists name (all lists must agree).
    public func chunkCount() throws(BatchParameterError) -> Int {
        let counts = Self.listNames.compactMap { name in entries(name).map { (name, $0.count) } }
        guard let first = counts.first, let other = counts.first(where: { $0.1 != first.1 }) else { return counts.first?.1 ?? 0 }
        throw BatchParameterError("parameter \(first.0) lists \(first.1) chunks but \(other.0) lists \(other.1)")
    }

    /// The parameters of chunk `index` alone, as a single job for it would carry them.
    public func child(_ index: Int) throws(BatchParameterError) -> BatchParameters {
        let count = try chunkCount()
        guard index >= 0, index < count else {
            throw BatchParameterError("array index \(index) is outside the job's \(count) chunks")
        }
        var single = values
        for name in Self.listNames {
            if let list = entries(name) { single[name] = list[index] }
        }
        return try BatchParameters(values: single)
    }

    /// The chunk's position in its file's plan, from a single chunk's `chunkId` (`<fileId>-c00042`).
    public func chunkIndex() throws(BatchParameterError) -> Int {
        let chunkId = values["chunkId"] ?? ""
        let prefix = "\(fileId)-c"
        guard chunkId.hasPrefix(prefix), let index = Int(chunkId.dropFirst(prefix.count)), index >= 0,
              ChunkTask.chunkID(fileId: fileId, index: index) == chunkId
        else { throw BatchParameterError("chunkId '\(chunkId)' is not a chunk of file \(fileId)") }
        return index
    }

    /// Checks a single chunk's parameters against what the job table recorded for it: every
    /// parameter must be the one the submitter would have sent. Names each that differs.
    public func check(file: FileRecord, chunk: ChunkSpec, table: String) throws(BatchParameterError) {
        let expected = BatchParameters(file: file, chunks: [chunk], table: table).values.merging(Self.definitionDefaults) { current, _ in current }
        let given = values.merging(Self.definitionDefaults) { current, _ in current }
        let differing = Self.names.filter { expected[$0] != given[$0] }
        guard differing.isEmpty else {
            let detail = differing.map { "\($0) is '\(given[$0] ?? "")', the job table says '\(expected[$0] ?? "")'" }
            throw BatchParameterError("the parameters disagree with the job table: " + detail.joined(separator: "; "))
        }
    }

    private func entries(_ name: String) -> [String]? {
        // A plain file's `gzipEntry` default is the empty string: no list at all.
        guard let text = values[name], !(text.isEmpty && Self.definitionDefaults[name] != nil) else { return nil }
        return text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
}
