/// What the submitter tells a Batch chunk's worker besides its parameters: the attempt's time
/// limit, in the container's environment (a job's parameters name the chunk; this is Batch's).
public enum BatchAttempt {
    /// The job's `timeout.attemptDurationSeconds`: Batch kills the attempt then, so the worker
    /// stops cleanly before (its default `--timeout`).
    public static let timeoutVariable = "SORTIE_ATTEMPT_SECONDS"
}
