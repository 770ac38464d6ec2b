import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import EmbeddedMetrics
import WallTime
import RecordFormats

/// A chunk that could not be processed. `errorType` names the case for Lambda's error report.
public struct ChunkError: Error, Sendable, CustomStringConvertible {
    /// `Sortie.ChunkOutOfTime`, `Sortie.ChunkFailed`, `Sortie.ChunkNotPlanned`, `Sortie.InvalidChunkTask`.
    public var errorType: String
    public var description: String
    /// What made a `Sortie.ChunkFailed` fail, when it was another error (for the Batch worker's exit code).
    public var cause: (any Error)?

    public init(errorType: String, description: String, cause: (any Error)? = nil) {
        self.errorType = errorType
        self.description = description
        self.cause = cause
    }

    static func outOfTime(_ detail: String) -> ChunkError { ChunkError(errorType: "Sortie.ChunkOutOfTime", description: detail) }
    static func failed(_ detail: String, cause: (any Error)? = nil) -> ChunkError {
        ChunkError(errorType: "Sortie.ChunkFailed", description: detail, cause: cause)
    }
}

/// The processor's answer for one chunk.
public struct ChunkOutcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Processed now.
        case done
        /// Processed by an earlier delivery of the same payload.
        case duplicate
        /// Another invocation is processing it.
        case busy
        /// The file's job-table items have expired: nothing left to record progress against.
        case expired
    }

    public var chunkID: String
    public var status: Status
    public var records: Int64?
    public var valid: Int64?
    public var rejected: Int64?
    public var delivered: Int64?
    /// `s3://…` of the output and rejects objects, when written.
    public var output: String?
    public var rejects: String?
    public var fileComplete: Bool?

    /// The response's keys, as callers read them.
    enum CodingKeys: String, CodingKey {
        case chunkID = "chunkId", status, records, valid, rejected, delivered, output, rejects, fileComplete
    }

    init(chunkID: String, status: Status) {
        self.chunkID = chunkID
        self.status = status
    }
}

/// Reads one chunk, validates each record against its feed's schema, delivers the valid ones,
/// writes the rejects with their line numbers, and records the outcome in the job table.
public struct ChunkProcessor: Sendable {
    public let s3: S3
    public let sqs: SQS
    public let table: FileStore
    public let catalog: FeedCatalog
    public let configuration: ProcessorConfiguration
    public let retry: RetryPolicy
    public let kafka: KafkaCredentials

    public init(
        s3: S3, sqs: SQS, table: FileStore, catalog: FeedCatalog, configuration: ProcessorConfiguration, retry: RetryPolicy,
        kafka: KafkaCredentials = KafkaCredentials()
    ) {
        self.kafka = kafka
        self.s3 = s3
        self.sqs = sqs
        self.table = table
        self.catalog = catalog
        self.configuration = configuration
        self.retry = retry
    }

    /// `owner` identifies this attempt (the Lambda request id, the Batch job id); `reclaimsOwn` lets it
    /// take back a claim of its own (see `FileStore.claimChunk`); `metrics` gets the chunk's ending.
    public func process(
        _ task: ChunkTask, owner: String, reclaimsOwn: Bool = false, clock: WallClock, deadlineMilliseconds: Int64, metrics: (MetricLine) -> Void
    ) throws -> ChunkOutcome {
        let started = clock.nowMilliseconds()
        if let early = try Self.precheck(task, nowMilliseconds: started) { return early }
        guard let feed = catalog.feed(named: task.feed), let format = feed.recordFormat else {
            throw ChunkError(errorType: "Sortie.InvalidChunkTask", description: "feed '\(task.feed)' is not configured here")
        }
        let remaining = Duration.milliseconds(deadlineMilliseconds - clock.nowMilliseconds())
        switch try table.claimChunk(
            fileID: task.fileID, index: task.chunk.index, owner: owner, now: started, leaseUntil: started + remaining.milliseconds, reclaimsOwn: reclaimsOwn)
        {
        case .claimed: break
        case .done: return ChunkOutcome(chunkID: task.chunkID, status: .duplicate)
        case .busy: return ChunkOutcome(chunkID: task.chunkID, status: .busy)
        case .missing:
            throw ChunkError(errorType: "Sortie.ChunkNotPlanned", description: "\(task.chunkID) has no item in the job table")
        }

        var run = ChunkRun(task: task, feed: feed, processor: self)
        do {
            guard remaining > configuration.safetyMargin else {
                throw ChunkError.outOfTime("\(remaining.milliseconds) ms left, less than the \(configuration.safetyMargin.milliseconds) ms safety margin")
            }
            // Kafka's retries stop where the margin starts, like the record loop.
            let timeLeft = { deadlineMilliseconds - clock.nowMilliseconds() - configuration.safetyMargin.milliseconds }
            try run.execute(format: format, timeLeft: timeLeft) { bytesDone in try checkTime(task, started: started, bytesDone: bytesDone, clock: clock, deadlineMilliseconds: deadlineMilliseconds) }
        } catch {
            let counts = run.counts
            let outOfTime = (error as? ChunkError)?.errorType == "Sortie.ChunkOutOfTime"
            run.abandon()
            metrics(ChunkMetrics.ending(
                feed: feed.name, fileID: task.fileID, chunkID: task.chunkID, outcome: outOfTime ? .incomplete : .failed, counts: counts,
                deliveryMilliseconds: clock.nowMilliseconds() - started, at: clock.nowMilliseconds()))
            try? table.stopChunk(
                fileID: task.fileID, index: task.chunk.index, owner: owner, state: outOfTime ? .incomplete : .failed,
                reason: "\(error)", counts: counts, now: clock.nowMilliseconds())
            if error is ChunkError { throw error }
            throw ChunkError.failed("\(task.chunkID): \(error)", cause: error)
        }

        let counts = run.counts
        let complete = try table.finishChunk(
            fileID: task.fileID, index: task.chunk.index, owner: owner, counts: counts, outputKey: run.outputKey, rejectsKey: run.rejectsKey,
            now: clock.nowMilliseconds())
        metrics(ChunkMetrics.ending(
            feed: feed.name, fileID: task.fileID, chunkID: task.chunkID, outcome: .done, counts: counts,
            deliveryMilliseconds: clock.nowMilliseconds() - started, at: clock.nowMilliseconds()))

        var outcome = ChunkOutcome(chunkID: task.chunkID, status: .done)
        outcome.records = counts.read
        outcome.valid = counts.valid
        outcome.rejected = counts.rejected
        outcome.delivered = counts.delivered
        outcome.output = run.outputKey.map { key in "s3://\(run.outputBucket ?? "")/\(key)" }
        outcome.rejects = run.rejectsKey.map { "s3://\(feed.rejects.bucket)/\($0)" }
        outcome.fileComplete = complete
        return outcome
    }

    /// What can be said of a payload before any AWS call: refused when its version is unknown,
    /// `expired` once the file's items have passed their TTL. Nil when it is to be processed.
    public static func precheck(_ task: ChunkTask, nowMilliseconds: Int64) throws(ChunkError) -> ChunkOutcome? {
        guard task.version == ChunkTask.currentVersion else {
            throw ChunkError(errorType: "Sortie.InvalidChunkTask", description: "payload version \(task.version); this processor reads version \(ChunkTask.currentVersion)")
        }
        return task.expiresAt > nowMilliseconds / 1000 ? nil : ChunkOutcome(chunkID: task.chunkID, status: .expired)
    }

    /// Stops a chunk that, at its pace so far, would not finish before the deadline less the margin.
    private func checkTime(_ task: ChunkTask, started: Int64, bytesDone: Int64, clock: WallClock, deadlineMilliseconds: Int64) throws {
        let total = task.chunk.end - task.chunk.start
        guard bytesDone > 0, bytesDone < total else { return }
        let elapsed = clock.nowMilliseconds() - started
        let projected = Int64(Double(elapsed) * Double(total - bytesDone) / Double(bytesDone))
        let left = deadlineMilliseconds - clock.nowMilliseconds()
        if projected + configuration.safetyMargin.milliseconds > left {
            throw ChunkError.outOfTime(
                "stopped after \(bytesDone) of \(total) bytes: the rest needs about \(projected) ms and \(left) ms are left (margin \(configuration.safetyMargin.milliseconds) ms)")
        }
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
