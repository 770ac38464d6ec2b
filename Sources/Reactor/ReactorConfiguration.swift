import FunctionStartup
import JobLaunch

/// The reactor's settings: the launcher's (it launches retries and waiting jobs with the same
/// table, specs, runner and logs) and its own, from its environment:
///
/// | variable | meaning | default |
/// | --- | --- | --- |
/// | `SORTIE_RETRY_BACKOFF_SECONDS` | the wait before the first retry; it doubles with each further one | `60` |
/// | `SORTIE_RETRY_BACKOFF_MAX_SECONDS` | the longest wait | `3600` |
/// | `SORTIE_START_TIMEOUT_SECONDS` | how long a STARTING job may wait for its runner to report in | `900` |
/// | `SORTIE_HEARTBEAT_TIMEOUT_SECONDS` | how old a RUNNING job's heartbeat may get (and how far past its timeout it may run) | `300` |
public struct ReactorConfiguration: FunctionConfiguration, Equatable {
    public var launcher: LauncherConfiguration
    public var backoff: Backoff
    public var startTimeoutSeconds: Int
    public var heartbeatTimeoutSeconds: Int

    public init(launcher: LauncherConfiguration, backoff: Backoff, startTimeoutSeconds: Int = 900, heartbeatTimeoutSeconds: Int = 300) {
        self.launcher = launcher
        self.backoff = backoff
        self.startTimeoutSeconds = startTimeoutSeconds
        self.heartbeatTimeoutSeconds = heartbeatTimeoutSeconds
    }

    public init(reading environment: inout EnvironmentReader) {
        let launcher = LauncherConfiguration(reading: &environment)
        let base = Int(environment.integer("SORTIE_RETRY_BACKOFF_SECONDS", default: 60, minimum: 0, maximum: 86_400))
        self.init(
            launcher: launcher,
            backoff: Backoff(baseSeconds: base, maxSeconds: Int(environment.integer("SORTIE_RETRY_BACKOFF_MAX_SECONDS", default: 3600, minimum: Int64(base), maximum: 86_400))),
            startTimeoutSeconds: Int(environment.integer("SORTIE_START_TIMEOUT_SECONDS", default: 900, minimum: 0, maximum: 86_400)),
            heartbeatTimeoutSeconds: Int(environment.integer("SORTIE_HEARTBEAT_TIMEOUT_SECONDS", default: 300, minimum: 0, maximum: 86_400)))
    }
}
