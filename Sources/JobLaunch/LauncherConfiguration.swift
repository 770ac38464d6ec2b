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
public struct LauncherConfiguration: Sendable, Equatable {
    public var table: String?
    public var specs: SpecSource?
    public var runnerURL: String?
    public var logBucket: String?
    public var logPrefix: String
    public var logGroup: String
    public var globalLimit: Int
    public var heartbeatSeconds: Int
    public var capacityBackoffSeconds: Int
    public var region: String

    public init(
        table: String?, specs: SpecSource?, runnerURL: String?, logBucket: String?, logPrefix: String = "logs/", logGroup: String = "/sortie/jobs",
        globalLimit: Int = 100, heartbeatSeconds: Int = 60, capacityBackoffSeconds: Int = 60, region: String
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
        self.region = region
    }

    /// Malformed values fail here, at start-up; missing required ones only when a launch needs
    /// them (a dry run reports them instead).
    public static func fromEnvironment(_ environment: [String: String], region: String) throws(LaunchError) -> LauncherConfiguration {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func number(_ name: String, _ fallback: Int, _ range: ClosedRange<Int>) throws(LaunchError) -> Int {
            guard let text = value(name) else { return fallback }
            guard let number = Int(text), range.contains(number) else {
                throw .configuration("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            }
            return number
        }
        var specs: SpecSource?
        if let text = value("SORTIE_SPECS") {
            guard let source = SpecSource(text) else {
                throw .configuration("SORTIE_SPECS must be s3://bucket/prefix/ or an absolute folder path, not '\(text)'")
            }
            specs = source
        }
        return LauncherConfiguration(
            table: value("SORTIE_TABLE"), specs: specs, runnerURL: value("SORTIE_RUNNER_URL"), logBucket: value("SORTIE_LOG_BUCKET"),
            logPrefix: value("SORTIE_LOG_PREFIX") ?? "logs/", logGroup: value("SORTIE_LOG_GROUP") ?? "/sortie/jobs",
            globalLimit: try number("SORTIE_MAX_RUNNING", 100, 1...100_000), heartbeatSeconds: try number("SORTIE_HEARTBEAT_SECONDS", 60, 5...3600),
            capacityBackoffSeconds: try number("SORTIE_CAPACITY_BACKOFF_SECONDS", 60, 0...3600), region: region)
    }

    /// The required settings that are not set, by variable name.
    public var missing: [String] {
        [("SORTIE_LOG_BUCKET", logBucket), ("SORTIE_RUNNER_URL", runnerURL), ("SORTIE_SPECS", specs.map { _ in "" }), ("SORTIE_TABLE", table)]
            .filter { $0.1 == nil }.map(\.0)
    }

    /// What runners report to, when everything it needs is set.
    package var reporting: ReportingSettings? {
        guard let table, let logBucket else { return nil }
        return ReportingSettings(table: table, logGroup: logGroup, logBucket: logBucket, logPrefix: logPrefix, region: region, heartbeatSeconds: heartbeatSeconds)
    }
}
