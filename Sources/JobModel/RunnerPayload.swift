/// Everything the runner on the instance needs, handed over as base64 JSON inside the UserData
/// script: the job, its arguments (never shell text), and where to report.
public struct RunnerPayload: Sendable, Equatable, Codable {
    public var jobID: String
    public var attempt: Int
    /// Resolved: each reaches the steps as `SORTIE_ARG_<name>`.
    public var arguments: [String: String]
    public var spec: JobSpec
    /// Where a runner on EC2 reports; `nil` for one that only runs locally.
    public var reporting: ReportingConfiguration?
    /// An array child's place: the steps see `SORTIE_ARRAY_INDEX` and `SORTIE_ARRAY_SIZE`.
    public var arrayIndex: Int?
    public var arraySize: Int?

    public init(
        jobID: String, attempt: Int, arguments: [String: String], spec: JobSpec, reporting: ReportingConfiguration?, arrayChild: ArrayChild? = nil
    ) {
        self.jobID = jobID
        self.attempt = attempt
        self.arguments = arguments
        self.spec = spec
        self.reporting = reporting
        arrayIndex = arrayChild?.index
        arraySize = arrayChild?.size
    }
}

/// The deployment's names the runner reports to: the launcher's configuration, baked in.
public struct ReportingConfiguration: Sendable, Equatable, Codable {
    public var table: String
    public var logGroup: String
    /// Full logs go to `s3://<logBucket>/<logPrefix><job>/<job id>/attempt-<n>.log`.
    public var logBucket: String
    public var logPrefix: String
    /// The region of the table, log group and bucket (instances do not have `AWS_REGION`).
    public var region: String
    public var heartbeatSeconds: Int
    /// The retry reactor's function, told at once when an attempt ends on a kept instance (`AttemptEnded`).
    public var reactorFunction: String?

    public init(
        table: String, logGroup: String, logBucket: String, logPrefix: String, region: String, heartbeatSeconds: Int, reactorFunction: String? = nil
    ) {
        self.table = table
        self.logGroup = logGroup
        self.logBucket = logBucket
        self.logPrefix = logPrefix
        self.region = region
        self.heartbeatSeconds = heartbeatSeconds
        self.reactorFunction = reactorFunction
    }

    public func logKey(job: String, jobID: String, attempt: Int) -> String { "\(logPrefix)\(job)/\(jobID)/attempt-\(attempt).log" }
    public func logStream(job: String, jobID: String, attempt: Int) -> String { "\(job)/\(jobID)/attempt-\(attempt)" }
}
