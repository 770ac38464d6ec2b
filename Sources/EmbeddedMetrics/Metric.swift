/// Every metric Sortie emits, in namespace `Sortie`. The dashboard and the alarms name only
/// these (the deployment tests read this list), so a renamed metric cannot leave a graph empty.
public enum Metric: String, CaseIterable, Sendable {
    // A job's ending (the reactor's decision, or the launcher's FAILED at launch), by job.
    /// The runner's time on the steps of the attempt that ended.
    case jobDuration = "JobDuration"
    /// From the attempt's entry into the queue (submission, or its retry) to its start.
    case queueWait = "QueueWait"
    /// The attempt number that ended (1 for the first).
    case attempts = "Attempts"
    /// Outcome counts: 1 for the verdict reached, 0 for the others, so sums read as totals.
    case jobsSucceeded = "JobsSucceeded"
    case jobsRetried = "JobsRetried"
    /// FAILED for good: after its retries, or lost, or refused at launch.
    case jobsFailed = "JobsFailed"

    // A chunk's ending (the chunk processor, in Lambda or in Batch), by feed.
    case recordsRead = "RecordsRead"
    case recordsValid = "RecordsValid"
    case recordsRejected = "RecordsRejected"
    case recordsDelivered = "RecordsDelivered"
    /// From the chunk's claim to its records delivered (or its stop).
    case deliveryTime = "DeliveryTime"
    case chunksDone = "ChunksDone"
    /// Stopped by an error.
    case chunksFailed = "ChunksFailed"
    /// Stopped short of its deadline, to be finished by another attempt.
    case chunksIncomplete = "ChunksIncomplete"

    // The schedules' passes, without dimensions: what is still waiting and for how long.
    /// The reactor's sweep: seconds the longest-waiting job it left RUNNABLE has waited (0 when none).
    case oldestRunnableAge = "OldestRunnableAge"
    /// The reactor's sweep: jobs by state as it found them: waiting for a slot (SUBMITTED or
    /// RUNNABLE, due or not), holding one (STARTING or RUNNING), waiting for their dependencies.
    case runnableJobs = "RunnableJobs"
    case activeJobs = "ActiveJobs"
    case pendingJobs = "PendingJobs"
    /// The submitter's sweep: files under way, and the oldest one's age in seconds (0 when none).
    case activeFiles = "ActiveFiles"
    case oldestActiveFileAge = "OldestActiveFileAge"

    /// CloudWatch's unit name.
    public var unit: String {
        switch self {
        case .jobDuration, .queueWait, .deliveryTime: "Milliseconds"
        // Seconds, as the alarms' thresholds are given.
        case .oldestRunnableAge, .oldestActiveFileAge: "Seconds"
        case .attempts, .jobsSucceeded, .jobsRetried, .jobsFailed, .recordsRead, .recordsValid, .recordsRejected, .recordsDelivered,
            .chunksDone, .chunksFailed, .chunksIncomplete, .activeFiles, .runnableJobs, .activeJobs, .pendingJobs:
            "Count"
        }
    }
}

/// The dimension a line's metrics are recorded by; each line is also recorded without it, for
/// the totals the alarms watch.
public enum MetricDimension: String, Sendable {
    case job = "Job"
    case feed = "Feed"
}
