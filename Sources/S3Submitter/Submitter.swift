import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import RecordFormats

/// Turns one created object into a plan in the job table and dispatched chunks, exactly once
/// per upload however often its event is delivered.
public struct Submitter: Sendable {
    public let s3: S3
    public let lambda: LambdaInvoke
    public let batch: Batch
    public let table: FileStore
    public let configuration: SubmitterConfiguration

    public init(s3: S3, lambda: LambdaInvoke, batch: Batch, table: FileStore, configuration: SubmitterConfiguration) {
        self.s3 = s3
        self.lambda = lambda
        self.batch = batch
        self.table = table
        self.configuration = configuration
    }

    /// The id of one upload: bucket, key, version (or eTag) and sequencer. The same event
    /// delivered twice has the same id; a new upload of the same key does not.
    public static func fileID(_ object: ObjectCreated) -> String {
        let identity = [object.bucket, object.key, object.versionID ?? object.eTag ?? "", object.sequencer ?? ""].joined(separator: "\n")
        return String(Hashing.hex(Hashing.sha256(identity)).prefix(24))
    }

    /// `deadline` is when this invocation ends (ms since the epoch): the claim's lease.
    public func submit(_ object: ObjectCreated, feed: Feed, now: Int64, deadline: Int64) throws -> FileOutcome {
        guard let head = try headIfPresent(object) else {
            return FileOutcome(bucket: object.bucket, key: object.key, status: .superseded, reason: "the object no longer exists")
        }
        let currentETag = (head.eTag ?? "").trimmingQuotes
        if let eTag = object.eTag, eTag.trimmingQuotes != currentETag {
            return FileOutcome(bucket: object.bucket, key: object.key, status: .superseded, reason: "its eTag is now \(currentETag), not \(eTag)")
        }
        let ref = ObjectRef(
            bucket: object.bucket, key: object.key, versionID: head.versionId ?? object.versionID, eTag: head.eTag ?? currentETag,
            size: head.contentLength ?? object.size ?? 0)
        let fileID = Self.fileID(object)
        let expiresAt = now / 1000 + configuration.recordTTLDays * 86_400
        switch try table.claimEvent(
            eventID: fileID, fileID: fileID, object: ref, sequencer: object.sequencer ?? "", now: now, leaseUntil: deadline + 30_000, expiresAt: expiresAt)
        {
        case .claimed: break
        case .done:
            var outcome = FileOutcome(bucket: object.bucket, key: object.key, status: .duplicate, reason: "this upload was submitted already")
            outcome.fileID = fileID
            return outcome
        case .busy(let leaseUntil):
            throw SubmitterError(errorType: "Sortie.FileBusy", description: "\(fileID) is being submitted by another delivery (lease until \(leaseUntil)); retry later")
        }
        do {
            let outcome = try planAndDispatch(ref, fileID: fileID, sequencer: object.sequencer ?? "", feed: feed, now: now, deadline: deadline, expiresAt: expiresAt)
            try table.finishEvent(eventID: fileID)
            return outcome
        } catch {
            try? table.releaseEvent(eventID: fileID)
            throw error
        }
    }

    /// The object's metadata, or nil when it was deleted since the event.
    func headIfPresent(_ object: ObjectCreated) throws(AWSError) -> S3.ObjectMetadata? {
        do {
            return try s3.headObject(bucket: object.bucket, key: object.key)
        } catch {
            if error.code == "NotFound" { return nil }
            throw error
        }
    }

    private func planAndDispatch(_ ref: ObjectRef, fileID: String, sequencer: String, feed: Feed, now: Int64, deadline: Int64, expiresAt: Int64) throws -> FileOutcome {
        // A retried delivery finds the file begun: planning goes on from its latest checkpoint.
        if try table.fileItem(fileID) == nil {
            let compressed = try FileScan(reader: ObjectReader(s3: s3, partSize: configuration.partSize)).isGzip(ref)
            let file = FileRecord(
                fileID: fileID, object: ref, sequencer: sequencer, feed: feed.name,
                plan: FilePlan(records: 0, columns: nil, bytes: 0, compressed: compressed, chunks: []), state: .planning, createdAt: now, expiresAt: expiresAt)
            try table.startPlanning(file)
        }
        return try plan(fileID: fileID, generation: 0, feeds: FeedCatalog(feeds: [feed]), started: now, deadline: deadline)
    }
}

extension String {
    /// S3 quotes ETags in headers but not in event notifications.
    var trimmingQuotes: String {
        var text = Substring(self)
        if text.hasPrefix("\"") { text = text.dropFirst() }
        if text.hasSuffix("\"") { text = text.dropLast() }
        return String(text)
    }
}
