/// What the submitter did with one object: each entry of its response, which `sortie dev`
/// reads back. Here, below the submitter, so its readers need not link the submitter.
public struct FileOutcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Planned (or resumed) and every chunk dispatched.
        case submitted
        /// An earlier delivery of the same event did it all.
        case duplicate
        /// Not for the submitter (see `reason`).
        case skipped
        /// The object changed (or went) since the event: a newer upload has its own event.
        case superseded
        /// Planned this far, then handed to a fresh invocation (`records` and `chunks` so far).
        case continued
        /// Planning stopped for good (`reason`): the object changed while it was planned.
        case failed
    }

    public var bucket: String
    public var key: String
    public var status: Status
    public var reason: String?
    public var fileID: String?
    public var records: Int64?
    public var chunks: Int?
    public var lambdaChunks: Int?
    public var batchChunks: Int?
    public var batchJobs: [String]?

    /// The response's keys, as `sortie dev` and other callers read them.
    enum CodingKeys: String, CodingKey {
        case bucket, key, status, reason, fileID = "fileId", records, chunks, lambdaChunks, batchChunks, batchJobs
    }

    public init(bucket: String, key: String, status: Status, reason: String? = nil) {
        self.bucket = bucket
        self.key = key
        self.status = status
        self.reason = reason
    }
}
