import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import RecordFormats
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The event a submitter sends itself to go on planning a file: run `generation` from the
/// file's latest checkpoint.
public struct PlanningContinuation: Codable, Sendable, Equatable {
    public var fileID: String
    public var generation: Int

    /// The continuation's keys, as an invocation of an earlier version of the submitter reads them.
    enum CodingKeys: String, CodingKey {
        case fileID = "fileId", generation
    }

    public init(fileID: String, generation: Int) {
        self.fileID = fileID
        self.generation = generation
    }

    /// The payload: `{"sortieContinuation": {...}}`, told apart from S3's events by its key.
    public var payload: Data {
        get throws { try JSONEncoder().encode(["sortieContinuation": self]) }
    }
}

/// Planning a file over as many invocations as it takes: cut, write and dispatch chunks as they
/// come, checkpoint at least every `checkpointBytes` of the stream, and hand over to a fresh
/// invocation of this function before the time left falls under `margin`.
extension Submitter {
    /// A planning run's lease outlasts its invocation's deadline by this much (clock skew between hosts).
    static let leaseGrace: Int64 = 5_000

    /// Runs `generation` of a file's planning. `started` is the invocation's start (ms since the
    /// epoch) and `deadline` its end; elapsed time is measured from `started` by a monotonic clock.
    public func plan(fileID: String, generation: Int, feeds: FeedCatalog, started: Int64, deadline: Int64) throws -> FileOutcome {
        guard let file = try table.fileItem(fileID) else {
            throw SubmitterError(errorType: "Sortie.PlanLost", description: "\(fileID): no file item to plan")
        }
        var outcome = FileOutcome(bucket: file.object.bucket, key: file.object.key, status: .submitted)
        outcome.fileID = fileID
        let state: FileStore.PlanningState
        switch try table.claimPlanning(fileID: fileID, generation: generation, now: started, leaseUntil: deadline + Self.leaseGrace) {
        case .claimed(let claimed):
            state = claimed
        case .busy(let leaseUntil):
            throw SubmitterError(errorType: "Sortie.FileBusy", description: "\(fileID): planning generation \(generation) runs elsewhere (lease until \(leaseUntil)); retry later")
        case .handedOn(let next, let nextStarted):
            // Handed on, but the invocation that was to run it may never have been made (the Invoke failed): make it again.
            if !nextStarted { try invokeContinuation(PlanningContinuation(fileID: fileID, generation: next)) }
            outcome.status = .duplicate
            outcome.reason = "planning went on in generation \(next)"
            return outcome
        case .finished(let phase):
            outcome.status = phase == .failed ? .failed : .duplicate
            outcome.reason = phase == .failed ? "planning failed earlier (sortie file \(fileID) says why)" : "planning is over"
            return outcome
        case .missing:
            throw SubmitterError(errorType: "Sortie.PlanLost", description: "\(fileID): no planning generation \(generation)")
        }
        if generation > 0 {
            // A continuation reads on only if the object is still the one planning began with.
            let head = try headIfPresent(ObjectCreated(bucket: file.object.bucket, key: file.object.key))
            let now = head?.eTag.map { $0.trimmingQuotes }
            if now != file.object.eTag.trimmingQuotes {
                return try fail(file, outcome, reason: "the object changed while it was planned: its eTag is \(now ?? "gone"), planning began with \(file.object.eTag.trimmingQuotes)", now: started)
            }
        }
        guard let feed = feeds.feed(named: file.feed), let format = feed.recordFormat else {
            return try fail(file, outcome, reason: "feed '\(file.feed)' is not configured any more", now: started)
        }
        var run = PlanningRun(submitter: self, file: file, feed: feed, generation: generation, sequence: state.sequence, started: started, deadline: deadline)
        do {
            return try run.go(from: state, format: format, hasHeader: feed.hasHeader, outcome: outcome)
        } catch {
            // What another try cannot mend stops the file; anything else fails the invocation, for Lambda to retry.
            if (error as? AWSError)?.code == "PreconditionFailed" {
                return try fail(file, outcome, reason: "the object changed while it was planned: a read with If-Match \(file.object.eTag) was refused", now: started)
            }
            if let broken = error as? GzipError, broken.kind != .resources {
                return try fail(file, outcome, reason: broken.description, now: started)
            }
            if let header = error as? HeaderError { return try fail(file, outcome, reason: header.description, now: started) }
            throw error
        }
    }

    private func fail(_ file: FileRecord, _ outcome: FileOutcome, reason: String, now: Int64) throws -> FileOutcome {
        try table.failPlanning(fileID: file.fileID, reason: reason, now: now)
        var failed = outcome
        failed.status = .failed
        failed.reason = reason
        return failed
    }

    func invokeContinuation(_ continuation: PlanningContinuation) throws {
        guard let function = configuration.submitterFunction else {
            throw SubmitterError(errorType: "Sortie.Configuration", description: "AWS_LAMBDA_FUNCTION_NAME is not set: planning cannot go on in another invocation")
        }
        let answer = try lambda.invoke(functionName: function, payload: try continuation.payload, invocationType: .event)
        guard answer.statusCode == 202 else {
            throw SubmitterError(errorType: "Sortie.InvokeFailed", description: "\(continuation.fileID): continuation Invoke answered HTTP \(answer.statusCode), not 202")
        }
    }
}

/// One invocation's share of a file's planning.
struct PlanningRun {
    let submitter: Submitter
    let file: FileRecord
    /// Its feed: Batch attempts take their duration from it.
    let feed: Feed
    let generation: Int
    var sequence: Int
    let started: Int64
    let deadline: Int64
    let clock = ContinuousClock()
    let startInstant = ContinuousClock.now
    /// Batch chunks planned and written, waiting to fill an array job.
    var waiting: [ChunkRecord] = []
    var columnsSaved = false
    var lambdaChunks = 0
    var batchChunks = 0
    var batchJobs: [String] = []

    init(submitter: Submitter, file: FileRecord, feed: Feed, generation: Int, sequence: Int, started: Int64, deadline: Int64) {
        self.submitter = submitter
        self.file = file
        self.feed = feed
        self.generation = generation
        self.sequence = sequence
        self.started = started
        self.deadline = deadline
    }

    var configuration: SubmitterConfiguration { submitter.configuration }
    var table: FileStore { submitter.table }

    /// Milliseconds left before the deadline.
    var remaining: Int64 {
        let elapsed = startInstant.duration(to: clock.now).components
        return deadline - started - (elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000)
    }

    mutating func go(from state: FileStore.PlanningState, format: RecordFormat, hasHeader: Bool, outcome: FileOutcome) throws -> FileOutcome {
        let checkpoint = state.checkpoint
        var planner = ChunkPlanner(
            format: format, hasHeader: hasHeader, limits: configuration.limits, compressed: file.plan.compressed, resumingFrom: checkpoint)
        // Chunks a run before this one wrote but did not dispatch (Batch chunks waiting for company, or a run killed in between).
        try place(table.chunks(fileID: file.fileID, from: state.undispatchedFrom, to: checkpoint?.chunksPlanned ?? 0), planner: planner)
        var lastCheckpoint = checkpoint?.offset ?? 0
        let scan = FileScan(reader: ObjectReader(s3: submitter.s3, partSize: configuration.partSize, readAhead: configuration.readAhead))
        let finished = try scan.scan(file.object, compressed: file.plan.compressed, from: checkpoint, into: &planner) { planner in
            try place(planner.takeChunks().map { ChunkRecord(fileID: file.fileID, spec: $0, route: Dispatcher.route($0, threshold: configuration.threshold), state: .planned) }, planner: planner, new: true)
            let short = remaining < configuration.planningMargin * 1000
            guard short || planner.position - lastCheckpoint >= configuration.checkpointBytes else { return true }
            // Handing over: nothing waits for a later run of this one.
            if short { try submitWaiting() }
            guard let next = try planner.checkpoint() else { return true }  // no record boundary yet: read on
            try table.saveCheckpoint(
                fileID: file.fileID, generation: generation, sequence: sequence, next,
                undispatchedFrom: waiting.first?.spec.index ?? next.chunksPlanned, handOff: short)
            sequence += 1
            lastCheckpoint = next.offset
            return !short
        }
        var result = outcome
        if finished {
            let plan = try planner.finish()
            try place(plan.chunks.map { ChunkRecord(fileID: file.fileID, spec: $0, route: Dispatcher.route($0, threshold: configuration.threshold), state: .planned) }, planner: planner, new: true)
            try submitWaiting()
            try table.finishPlanning(
                fileID: file.fileID, generation: generation, sequence: sequence, plan: plan, chunkCount: planner.chunksPlanned, now: started)
            result.records = plan.records
        } else {
            try submitter.invokeContinuation(PlanningContinuation(fileID: file.fileID, generation: generation + 1))
            result.status = .continued
            result.records = planner.records
        }
        result.chunks = planner.chunksPlanned
        result.lambdaChunks = lambdaChunks
        result.batchChunks = batchChunks
        result.batchJobs = batchJobs
        return result
    }

    /// Writes new chunks (a chunk a killed run wrote already is kept as it is) and dispatches
    /// every one still PLANNED: Lambda chunks at once, Batch chunks once an array job is full.
    mutating func place(_ chunks: [ChunkRecord], planner: ChunkPlanner, new: Bool = false) throws {
        guard !chunks.isEmpty else { return }
        if !columnsSaved, let columns = planner.columns {
            // Batch workers take the columns from the file item: it has them before any chunk runs.
            try table.setColumns(fileID: file.fileID, columns)
            columnsSaved = true
        }
        var current = file
        current.plan.columns = planner.columns
        let dispatcher = Dispatcher(lambda: submitter.lambda, batch: submitter.batch, table: table, configuration: configuration)
        // New chunks are written in transactions of up to 100; one a killed run wrote is kept as it is.
        var found: [Int: ChunkRecord] = [:]
        if new {
            for existing in try table.putChunks(chunks, expiresAt: file.expiresAt) { found[existing.spec.index] = existing }
        }
        for chunk in chunks {
            let stored = found[chunk.spec.index] ?? chunk
            guard stored.state == .planned else { continue }
            if stored.route == .lambda {
                _ = try dispatcher.dispatch(current, feed: feed, chunks: [stored])
                lambdaChunks += 1
            } else {
                waiting.append(stored)
                if waiting.count >= configuration.batchArrayMax { try submitWaiting(current) }
            }
        }
    }

    /// Submits the Batch chunks waiting, as one job (or array job).
    mutating func submitWaiting(_ current: FileRecord? = nil) throws {
        guard !waiting.isEmpty else { return }
        let dispatcher = Dispatcher(lambda: submitter.lambda, batch: submitter.batch, table: table, configuration: configuration)
        batchJobs += try dispatcher.dispatch(current ?? file, feed: feed, chunks: waiting)
        batchChunks += waiting.count
        waiting = []
    }
}
