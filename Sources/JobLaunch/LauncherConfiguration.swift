import FunctionStartup
import JobModel

/// The launcher's settings, from its environment:
///
/// | variable | meaning | default |
/// | --- | --- | --- |
/// | `SORTIE_TABLE` | the job table | required |
/// | `SORTIE_SPECS` | published specs: `s3://bucket/prefix/` (`<prefix><job>.json`) or a local folder (development) | required |
/// | `SORTIE_RUNNER_URL` | where instances fetch `sortie-runner`: `s3://…`, `https://…` or a path | required |
/// | `SORTIE_LOG_BUCKET` | the bucket for full job logs | required |
/// | `SORTIE_LOG_PREFIX` | their key prefix | `logs/` |
/// | `SORTIE_LOG_GROUP` | the CloudWatch Logs group for step output | `/sortie/jobs` |
/// | `SORTIE_MAX_RUNNING` | the global limit on STARTING and RUNNING jobs | `100` |
/// | `SORTIE_HEARTBEAT_SECONDS` | how often runners touch their record | `60` |
/// | `SORTIE_CAPACITY_BACKOFF_SECONDS` | how long a job EC2 had no capacity for waits before it is tried again | `60` |
/// | `SORTIE_REACTOR_FUNCTION` | the retry reactor, which runners on kept (`no_shutdown`) instances tell when they end | none |
public struct LauncherConfiguration: FunctionConfiguration, Equatable {
    public var table: String?
    public var specs: SpecSource?
    public var runnerURL: String?
    public var logBucket: String?
    public var logPrefix: String
    public var logGroup: String
    public var globalLimit: Int
    public var heartbeatSeconds: Int
    public var capacityBackoffSeconds: Int
    public var reactorFunction: String?

    public init(
        table: String?, specs: SpecSource?, runnerURL: String?, logBucket: String?, logPrefix: String = "logs/", logGroup: String = "/sortie/jobs",
        globalLimit: Int = 100, heartbeatSeconds: Int = 60, capacityBackoffSeconds: Int = 60, reactorFunction: String? = nil
    ) {
        self.table = table
        self.specs = specs
        self.runnerURL = runnerURL
        self.logBucket = logBucket
        self.logPrefix = logPrefix
        self.logGroup = logGroup
        self.globalLimit = globalLimit
        self.heartbeatSeconds = heartbeatSeconds
        self.capacityBackoffSeconds = capacityBackoffSeconds
        self.reactorFunction = reactorFunction
    }

    /// Malformed values fail at start-up; missing required ones only when a launch needs them
    /// (a dry run reports them instead).
    public init(reading environment: inout EnvironmentReader) {
        var specs: SpecSource?
        if let text = environment["SORTIE_SPECS"] {
            specs = SpecSource(text)
            if specs == nil { environment.report("SORTIE_SPECS must be s3://bucket/prefix/ or an absolute folder path, not '\(text)'") }
        }
        self.init(
            table: environment["SORTIE_TABLE"], specs: specs, runnerURL: environment["SORTIE_RUNNER_URL"], logBucket: environment["SORTIE_LOG_BUCKET"],
            logPrefix: environment["SORTIE_LOG_PREFIX"] ?? "logs/", logGroup: environment["SORTIE_LOG_GROUP"] ?? "/sortie/jobs",
            globalLimit: Int(environment.integer("SORTIE_MAX_RUNNING", default: 100, minimum: 1, maximum: 100_000)),
            heartbeatSeconds: Int(environment.integer("SORTIE_HEARTBEAT_SECONDS", default: 60, minimum: 5, maximum: 3600)),
            capacityBackoffSeconds: Int(environment.integer("SORTIE_CAPACITY_BACKOFF_SECONDS", default: 60, minimum: 0, maximum: 3600)),
            reactorFunction: environment["SORTIE_REACTOR_FUNCTION"])
    }

    /// The required settings that are not set, by variable name.
    public var missing: [String] {
        [("SORTIE_LOG_BUCKET", logBucket), ("SORTIE_RUNNER_URL", runnerURL), ("SORTIE_SPECS", specs.map { _ in "" }), ("SORTIE_TABLE", table)]
            .filter { $0.1 == nil }.map(\.0)
    }

    /// What runners in `region` (the launcher's own) report to, when everything it needs is set.
    package func reporting(region: String) -> ReportingConfiguration? {
        guard let table, let logBucket else { return nil }
        return ReportingConfiguration(
            table: table, logGroup: logGroup, logBucket: logBucket, logPrefix: logPrefix, region: region, heartbeatSeconds: heartbeatSeconds,
            reactorFunction: reactorFunction)
    }
}
