import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import EmbeddedMetrics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What one sweep did.
public struct SweepReport: Codable, Sendable, Equatable {
    /// Chunks decided FAILED (`<chunk id>`), from OnFailure records or deadlines.
    public var failedChunks: [String] = []
    /// Files moved to FAILED and announced.
    public var failedFiles: [String] = []
    /// Chunks sent again.
    public var retried: [String] = []
    /// OnFailure records read from the chunk processor's dead-letter queue and decided.
    public var deadLetters = 0
    /// What could not be done, one line each; the sweep goes on past them.
    public var errors: [String] = []
    /// Files under way when the sweep listed them, and when the oldest of them arrived (epoch milliseconds).
    public var activeFiles = 0
    public var oldestActiveSince: Int64?

    public init() {}

    /// The sweep's metrics: the alarm on a file not COMPLETE in time reads the age (0 when none, so it clears).
    public func metrics(at now: Int64) -> MetricLine {
        MetricLine(
            dimension: nil, values: [(.activeFiles, Int64(activeFiles)), (.oldestActiveFileAge, oldestActiveSince.map { max(0, now - $0) / 1000 } ?? 0)],
            timestampMilliseconds: now)
    }
}

/// The file pipeline's schedule (the submitter's `rate(…)` trigger): decides the chunks whose last
/// attempt failed, so their file ends FAILED, announced once, instead of short of COMPLETE forever.
///
/// 1. The chunk processor's OnFailure destination (its dead-letter queue): each record is a chunk
///    whose Lambda retries are spent; the chunk is FAILED with the function's last error, and the
///    record deleted. (The submitter decides them because it already owns the files' state and
///    dispatching; records it cannot read stay for `sortie dead-letters`.)
/// 2. Every file under way: its chunks past their deadlines, by `ChunkDeadline`, checking Batch's
///    own view (DescribeJobs) for Batch chunks: sent again within the attempts left, else FAILED.
public struct FileSweep: Sendable {
    public let submitter: Submitter
    public let catalog: FeedCatalog
    public let sqs: SQS
    public let sns: SNS

    public init(submitter: Submitter, catalog: FeedCatalog, sqs: SQS, sns: SNS) {
        self.submitter = submitter
        self.catalog = catalog
        self.sqs = sqs
        self.sns = sns
    }

    var table: FileStore { submitter.table }
    var configuration: SubmitterConfiguration { submitter.configuration }
    /// Lambda runs an asynchronous event at most three times (the first try and two retries).
    static let lambdaAttempts = 3
    /// At most this many OnFailure records are read per sweep (a Lambda invocation has a time limit).
    static let deadLettersPerSweep = 100

    public func run(now: @Sendable () -> Int64) -> SweepReport {
        var report = SweepReport()
        if let queue = configuration.chunkDeadLetterQueue {
            do {
                try drain(queue, now: now, into: &report)
            } catch {
                report.errors.append("dead-letter queue \(queue): \(error)")
            }
        }
        let files: [FileProgress]
        do {
            files = try table.activeFiles()
        } catch {
            report.errors.append("listing the files under way: \(error)")
            return report
        }
        report.activeFiles = files.count
        report.oldestActiveSince = files.map(\.file.createdAt).min()
        for file in files {
            do {
                try check(file.file.fileID, now: now(), into: &report)
            } catch {
                report.errors.append("file \(file.file.fileID): \(error)")
            }
        }
        return report
    }

    // MARK: OnFailure records

    private func drain(_ queue: String, now: () -> Int64, into report: inout SweepReport) throws {
        var read = 0
        while read < Self.deadLettersPerSweep {
            let messages = try sqs.receiveMessages(queueURL: queue, maxMessages: 10, visibilitySeconds: 60)
            guard !messages.isEmpty else { return }
            read += messages.count
            for message in messages {
                guard let record = try? JSONDecoder().decode(LambdaInvocationRecord<ChunkTask>.self, from: Data(message.body.utf8)) else {
                    report.errors.append("dead letter \(message.messageId) is not a chunk's invocation record: left for `sortie dead-letters`")
                    continue
                }
                let task = record.requestPayload
                let verdict = try table.failChunk(fileID: task.fileID, index: task.chunk.index, reason: record.failure, now: now())
                if case .failed(let fileFailed) = verdict {
                    report.failedChunks.append(task.chunkID)
                    if fileFailed { try announce(task.fileID, chunk: task.chunk.index, into: &report) }
                }
                report.deadLetters += 1
                try sqs.deleteMessage(queueURL: queue, receiptHandle: message.receiptHandle)
            }
        }
    }

    // MARK: Deadlines

    private func check(_ fileID: String, now: Int64, into report: inout SweepReport) throws {
        guard let progress = try table.progress(fileID) else { return }
        // Only the chunks under way or stopped, page by page: a file of thousands of DONE chunks is not read whole.
        let open = try table.chunks(fileID: fileID, in: [.queued, .submitted, .running, .failed, .incomplete])
        // A chunk decided FAILED whose file write was lost (the decider stopped in between).
        if progress.chunksFailed > 0, let decided = open.first(where: { $0.chunk.state == .failed && $0.attempts.decidedAt != nil }) {
            if try table.failFile(fileID: fileID, chunk: decided.chunk.spec.index, reason: decided.chunk.reason ?? "failed", now: now) {
                try announce(fileID, chunk: decided.chunk.spec.index, into: &report)
            }
            return
        }
        guard let feed = catalog.feed(named: progress.file.feed) else {
            report.errors.append("file \(fileID): feed '\(progress.file.feed)' is not in the feeds document")
            return
        }
        let jobs = try batchJobs(open.map(\.chunk))
        var retry: [ChunkRecord] = []
        for (chunk, attempts) in open {
            let lambda = chunk.route == .lambda
            let verdict = ChunkDeadline.verdict(
                chunk, attempts, batchJob: chunk.batchContainer.flatMap { jobs[$0] },
                limitSeconds: lambda ? configuration.processorTimeoutSeconds : Int64(configuration.attemptSeconds(feed)),
                maxAttempts: lambda ? Self.lambdaAttempts : configuration.batchAttempts, graceSeconds: configuration.retryGraceSeconds, now: now)
            switch verdict {
            case .wait:
                continue
            case .retry:
                if try table.requeueChunk(fileID: fileID, index: chunk.spec.index, sawAttempts: attempts.attempts, sawState: chunk.state, now: now) {
                    var planned = chunk
                    planned.state = .planned
                    retry.append(planned)
                }
            case .fail(let reason):
                guard case .failed(let fileFailed) = try table.failChunk(fileID: fileID, index: chunk.spec.index, reason: reason, now: now) else { continue }
                report.failedChunks.append(chunk.chunkID)
                if fileFailed { try announce(fileID, chunk: chunk.spec.index, into: &report) }
            }
        }
        guard !retry.isEmpty else { return }
        _ = try Dispatcher(lambda: submitter.lambda, batch: submitter.batch, table: table, configuration: configuration)
            .dispatch(progress.file, feed: feed, chunks: retry)
        report.retried += retry.map(\.chunkID)
    }

    /// Batch's view of the chunks' jobs, by `ChunkRecord.batchContainer`; jobs Batch does not list are absent.
    private func batchJobs(_ chunks: [ChunkRecord]) throws(AWSError) -> [String: ChunkDeadline.BatchJob] {
        let ids = Array(Set(chunks.compactMap(\.batchContainer))).sorted()
        var jobs: [String: ChunkDeadline.BatchJob] = [:]
        var start = 0
        while start < ids.count {
            let page = Array(ids[start..<min(start + 100, ids.count)])
            for job in try submitter.batch.describeJobs(page) {
                let lastAttempt = job.attempts?.last
                let detail = [job.statusReason, lastAttempt?.statusReason, lastAttempt?.container?.reason,
                              lastAttempt?.container?.exitCode.map { "exit code \($0)" }].compactMap { $0 }
                // An array child answers as `<job id>:<index>`, as it was asked for.
                jobs[job.jobId] = ChunkDeadline.BatchJob(
                    status: job.status, reason: detail.isEmpty ? nil : detail.joined(separator: "; ") + " after \(job.attempts?.count ?? 0) attempt(s)")
            }
            start += page.count
        }
        return jobs
    }

    // MARK: The notification

    private func announce(_ fileID: String, chunk index: Int, into report: inout SweepReport) throws {
        report.failedFiles.append(fileID)
        guard let topic = configuration.alertTopic else { return }
        guard let progress = try table.progress(fileID) else { return }
        let failed = try table.chunks(fileID: fileID, in: [.failed]).filter { $0.attempts.decidedAt != nil }
        let message = FileFailure(progress: progress, failed: failed, index: index, feed: catalog.feed(named: progress.file.feed), configuration: configuration)
        do {
            try message.publish(sns: sns, topic: topic, file: progress.file)
        } catch {
            // The decision stands; a lost notification must not undo it.
            report.errors.append("could not announce file \(fileID) on \(topic): \(error)")
        }
    }
}

extension ChunkRecord {
    /// How DescribeJobs names the chunk's container: the job, or `<job id>:<index>` for an array child.
    var batchContainer: String? {
        guard let batchJobID else { return nil }
        return batchArrayIndex.map { "\(batchJobID):\($0)" } ?? batchJobID
    }
}

/// A failed file's announcement: the file, the chunk, the reason, where its rejects and logs are,
/// and how to re-run it; or, for a file whose planning failed, the reason and what to do.
public struct FileFailure {
    var subject: String
    var text: String

    static func subject(_ file: FileRecord) -> String {
        // SNS subjects: at most 100 ASCII characters, no line breaks.
        String("Sortie: file \(file.object.key) FAILED".unicodeScalars.filter { $0.isASCII && $0 != "\n" && $0 != "\r" }.prefix(100).map(Character.init))
    }

    /// A file FAILED while it was planned (its object changed, a truncated gzip stream, a bad header):
    /// no chunk failed, so there is nothing to redrive.
    public init(planningOf file: FileRecord, reason: String, chunksPlanned: Int?, submitterFunction: String?) {
        subject = Self.subject(file)
        text = [
            "File s3://\(file.object.bucket)/\(file.object.key) (file \(file.fileID), feed \(file.feed)) FAILED while it was planned: \(reason)",
            "Chunks planned before it stopped: \(chunksPlanned ?? 0) (dispatched as they were planned; \(file.fileID)'s other records were not).",
            "Logs: CloudWatch Logs group /aws/lambda/\(submitterFunction ?? "s3-submitter")",
            "Once the object is right, upload it again: it is planned as a new file.",
        ].joined(separator: "\n")
    }

    /// Sent to `topic` with the file's id, feed and state as message attributes (for subscription filters).
    public func publish(sns: SNS, topic: String, file: FileRecord) throws(AWSError) {
        try sns.publish(.init(
            topicArn: topic, message: text, subject: subject,
            attributes: ["fileId": file.fileID, "feed": file.feed, "state": FileRecord.State.failed.rawValue]))
    }

    /// `failed`: the file's chunks decided FAILED, `index`'s among them; the counts are the file item's.
    init(progress: FileProgress, failed: [(chunk: ChunkRecord, attempts: ChunkAttempts)], index: Int, feed: Feed?, configuration: SubmitterConfiguration) {
        let file = progress.file
        let object = "s3://\(file.object.bucket)/\(file.object.key)"
        let entry = failed.first { $0.chunk.spec.index == index }
        subject = Self.subject(file)
        var lines = [
            "File \(object) (file \(file.fileID), feed \(file.feed)) FAILED: \(progress.chunksDone) of \(progress.chunksKnown) chunks done, \(max(progress.chunksFailed, 1)) failed.",
        ]
        if let (chunk, attempts) = entry {
            lines.append("Chunk: \(chunk.chunkID), records \(chunk.spec.firstRecord)..<\(chunk.spec.firstRecord + chunk.spec.recordCount), \(chunk.route.rawValue), \(attempts.attempts) attempt(s)")
            lines.append("Reason: \(chunk.reason ?? progress.failedReason ?? "unknown")")
            if let feed {
                lines.append("Rejects: s3://\(feed.rejects.bucket)/\(feed.rejects.prefix)\(file.fileID)/ (\(chunk.chunkID).rejects.jsonl once the chunk completes; the other chunks' as they do)")
            }
            switch chunk.route {
            case .lambda:
                let request = attempts.owner.map { ", request \($0)" } ?? ""
                lines.append("Logs: CloudWatch Logs group /aws/lambda/\(configuration.processorFunction.split(separator: ":").last ?? "")\(request)")
            case .batch:
                lines.append("Logs: AWS Batch job \(chunk.batchContainer ?? attempts.owner ?? "?"), CloudWatch Logs group /aws/batch/job")
            }
        }
        for other in failed where other.chunk.spec.index != index {
            lines.append("Also failed: \(other.chunk.chunkID): \(other.chunk.reason ?? "")")
        }
        lines.append("Re-run its failed chunks: sortie redrive \(file.fileID)")
        text = lines.joined(separator: "\n")
    }
}
