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
public struct ReactorConfiguration: Sendable, Equatable {
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

    public static func fromEnvironment(_ environment: [String: String], region: String) throws(ReactorError) -> ReactorConfiguration {
        func number(_ name: String, _ fallback: Int, _ range: ClosedRange<Int>) throws(ReactorError) -> Int {
            guard let text = environment[name], !text.isEmpty else { return fallback }
            guard let number = Int(text), range.contains(number) else {
                throw .configuration("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            }
            return number
        }
        let launcher: LauncherConfiguration
        do {
            launcher = try LauncherConfiguration.fromEnvironment(environment, region: region)
        } catch {
            throw .launch(error)
        }
        let base = try number("SORTIE_RETRY_BACKOFF_SECONDS", 60, 0...86_400)
        return ReactorConfiguration(
            launcher: launcher, backoff: Backoff(baseSeconds: base, maxSeconds: try number("SORTIE_RETRY_BACKOFF_MAX_SECONDS", 3600, base...86_400)),
            startTimeoutSeconds: try number("SORTIE_START_TIMEOUT_SECONDS", 900, 0...86_400),
            heartbeatTimeoutSeconds: try number("SORTIE_HEARTBEAT_TIMEOUT_SECONDS", 300, 0...86_400))
    }
}
