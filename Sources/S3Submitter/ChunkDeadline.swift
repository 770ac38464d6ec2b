import ChunkStore

/// What the sweep does with a chunk still under way: the decision table, apart from AWS so it can
/// be read and tested as a table.
///
/// | route | chunk | Batch says | decided |
/// | --- | --- | --- | --- |
/// | batch | any | `FAILED` (its attempts spent, a timeout on the last, exit 2) | FAILED with Batch's reason |
/// | batch | any | still active | wait: Batch retries and kills at the attempt's time limit itself |
/// | both | QUEUED/SUBMITTED, no start within the time limit + grace | | retry, or FAILED with no attempts left |
/// | both | RUNNING past its lease (the time limit) + grace | | retry, or FAILED: killed at its time limit |
/// | both | FAILED/INCOMPLETE by an attempt, no new attempt within the grace | | retry, or FAILED with the attempt's reason |
///
/// Lambda's own retries (2) and Batch's come first: the grace leaves them time to begin. A Lambda
/// chunk's last failure normally arrives sooner, as its OnFailure record (see `FileSweep`).
public enum ChunkDeadline {
    public enum Verdict: Sendable, Equatable {
        case wait
        case retry
        case fail(String)
    }

    /// What Batch's DescribeJobs said of the chunk's job (nil: no job, or Batch no longer knows it).
    public struct BatchJob: Sendable, Equatable {
        public var status: String
        public var reason: String?

        public init(status: String, reason: String?) {
            self.status = status
            self.reason = reason
        }

        static let active: Set<String> = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"]
    }

    /// `limitSeconds`: one attempt's time limit (the Lambda timeout, or the Batch job's attempt
    /// duration); `maxAttempts`: 3 for Lambda (two retries), the job's retry strategy for Batch.
    public static func verdict(
        _ chunk: ChunkRecord, _ attempts: ChunkAttempts, batchJob: BatchJob?, limitSeconds: Int64, maxAttempts: Int, graceSeconds: Int64, now: Int64
    ) -> Verdict {
        guard attempts.decidedAt == nil else { return .wait }
        if chunk.route == .batch, let batchJob {
            if batchJob.status == "FAILED" {
                return .fail("Batch job \(chunk.batchJobID ?? "?") FAILED: \(batchJob.reason ?? "no reason given")")
            }
            if BatchJob.active.contains(batchJob.status) { return .wait }
        }
        let limit = limitSeconds * 1000
        let grace = graceSeconds * 1000
        let lastSent = attempts.dispatchedAt ?? 0
        // A chunk that never starts has no attempts: the sweep's own retries count too.
        let spent = max(attempts.attempts, attempts.retries) >= maxAttempts
        switch chunk.state {
        case .queued, .submitted:
            guard now > lastSent + limit + grace else { return .wait }
            return spent ? .fail("no attempt finished: \(attempts.attempts) of \(maxAttempts) started, none within \(limitSeconds)s") : .retry
        case .running:
            // A Batch worker's lease may reach the file's expiry; the attempt's limit is what counts.
            let deadline = min(attempts.leaseUntil ?? .max, (attempts.startedAt ?? lastSent) + limit)
            guard now > max(deadline, lastSent + limit) + grace else { return .wait }
            return spent ? .fail("attempt \(attempts.attempts) of \(maxAttempts) did not finish within its \(limitSeconds)s limit (killed or crashed)") : .retry
        case .failed, .incomplete:
            guard now > max(attempts.stoppedAt ?? 0, lastSent) + grace else { return .wait }
            let why = chunk.reason ?? chunk.state.rawValue
            return spent ? .fail("attempt \(attempts.attempts) of \(maxAttempts) failed: \(why)") : .retry
        case .planned, .done:
            return .wait
        }
    }
}
