import AWSCore
import ChunkPlanning
import ChunkStore

/// What `sortie redrive FILE` got back from the submitter.
public struct RedriveOutcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// The failed chunks were sent again.
        case redriven
        /// Nothing failed: the file is in `state` (a repeated redrive finds it DISPATCHED or COMPLETE).
        case nothing
    }

    public var fileID: String
    public var status: Status
    public var state: String
    /// The chunks sent again, by index.
    public var chunks: [Int]
    public var batchJobs: [String]

    /// The response's keys, as `sortie redrive` reads them.
    enum CodingKeys: String, CodingKey {
        case fileID = "fileId", status, state, chunks, batchJobs
    }
}

extension Submitter {
    /// Re-runs a FAILED file's failed chunks, and only those, as they were first dispatched (Lambda
    /// or Batch by their size). Idempotent: the chunks are made PLANNED by conditional writes, a
    /// chunk is dispatched only from PLANNED, and a second redrive finds the file under way.
    public func redrive(fileID: String, catalog: FeedCatalog, now: Int64) throws -> RedriveOutcome {
        switch try table.startRedrive(fileID: fileID, now: now) {
        case .missing:
            throw SubmitterError(errorType: "Sortie.NoSuchFile", description: "the job table \(table.tableName) has no file \(fileID)")
        case .nothing(let state):
            return RedriveOutcome(fileID: fileID, status: .nothing, state: state.rawValue, chunks: [], batchJobs: [])
        case .ready(let file, let chunks):
            guard let feed = catalog.feed(named: file.feed) else {
                throw SubmitterError(errorType: "Sortie.NoSuchFeed", description: "file \(fileID): feed '\(file.feed)' is not in the feeds document")
            }
            let jobs = try Dispatcher(lambda: lambda, batch: batch, table: table, configuration: configuration).dispatch(file, feed: feed, chunks: chunks)
            try table.markFileDispatched(fileID: fileID)
            return RedriveOutcome(fileID: fileID, status: .redriven, state: FileRecord.State.dispatched.rawValue, chunks: chunks.map(\.spec.index), batchJobs: jobs)
        }
    }
}
