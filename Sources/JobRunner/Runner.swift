import AWSCore
import AWSServices
import JobModel
import Synchronization
import WallTime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Set by SIGTERM (a spot interruption, a shutdown): the running step is stopped and the
/// attempt recorded as interrupted.
private let terminationRequested = Atomic<Bool>(false)

/// How a run is set up: reporting to AWS (on EC2) or not (a developer's machine, a test).
public struct RunnerOptions: Sendable {
    /// `nil`: local, nothing reported anywhere but the terminal and the log folder.
    public var reporting: ReportingConfiguration?
    /// Copy the steps' output to the terminal.
    public var echo: Bool
    /// Where the full log file goes.
    public var logDirectory: String
    /// Run (by `/bin/sh -c`) after the final record; `nil` leaves the machine running.
    public var shutdownCommand: String?
    /// The environment the steps start from.
    public var environment: [String: String]
    /// Off EC2 there is no instance metadata to ask.
    public var askInstanceMetadata: Bool
    /// Where a private repository is cloned (`$SORTIE_HOME/code`, the steps' folder); `nil` for
    /// `--local`, whose steps run where they are.
    public var codeDirectory: String?

    public init(
        reporting: ReportingConfiguration?, echo: Bool, logDirectory: String, shutdownCommand: String?, environment: [String: String],
        askInstanceMetadata: Bool, codeDirectory: String? = nil
    ) {
        self.reporting = reporting
        self.echo = echo
        self.logDirectory = logDirectory
        self.shutdownCommand = shutdownCommand
        self.environment = environment
        self.askInstanceMetadata = askInstanceMetadata
        self.codeDirectory = codeDirectory
    }
}

/// Runs one attempt of a job and reports it; see `RunnerOptions` for where.
public enum Runner {
    /// Exit statuses: 0 the job succeeded, 1 it failed (or was interrupted), 2 the runner could not run it.
    public static func run(_ payload: RunnerPayload, options: RunnerOptions) -> Int32 {
        signal(SIGTERM) { _ in terminationRequested.store(true, ordering: .relaxed) }
        // A parent may have started us with signals blocked (threads of some runtimes block them all).
        var terminate = sigset_t()
        sigemptyset(&terminate)
        sigaddset(&terminate, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &terminate, nil)
        let status = attempt(payload, options: options)
        if terminationRequested.load(ordering: .relaxed) { return status }
        if !payload.spec.noShutdown, let command = options.shutdownCommand { shutDown(command, environment: options.environment) }
        return status
    }

    /// The instance must not outlive its job: this runs whenever the runner is done, whatever happened.
    static func shutDown(_ command: String, environment: [String: String]) {
        complain("shutting down: \(command)")
        _ = try? Subprocess.run(["/bin/sh", "-c", command], environment: environment, deadline: nil, stop: { false }, output: { _ in }, tick: {})
    }

    private static func attempt(_ payload: RunnerPayload, options: RunnerOptions) -> Int32 {
        let logPath = "\(options.logDirectory)/\(payload.spec.name)-\(payload.jobID)-attempt-\(payload.attempt).log"
        do {
            try FileManager.default.createDirectory(atPath: options.logDirectory, withIntermediateDirectories: true)
        } catch {
            complain("cannot create the log folder \(options.logDirectory): \(error)")
            return 2
        }
        let metadata = options.askInstanceMetadata ? InstanceMetadataClient(environment: AWSEnvironment(options.environment)) : nil
        let instanceID = try? metadata?.get("/latest/meta-data/instance-id")
        let execution = StepExecution(payload: payload, baseEnvironment: options.environment, instanceID: instanceID)
        // Spot only: an on-demand fallback's instance just answers 404, which costs nothing.
        var watch = payload.spec.instance.market == .spot ? metadata.map(SpotInterruptionWatch.init) : nil

        guard let configuration = options.reporting else {
            guard let log = try? JobLog(path: logPath, echo: options.echo, shipper: nil) else {
                complain("cannot write the log \(logPath)")
                return 2
            }
            let outcome = checkOut(payload, options: options, environment: options.environment, instanceID: instanceID, log: log, stop: { stopReason(watch) }, tick: {})
                ?? execution.run(log: log, stop: { stopReason(watch) }, tick: {
                    if watch?.poll() == true { log.note("EC2 gave notice of a spot interruption: \(watch?.notice ?? "")") }
                })
            log.note(summary(outcome))
            log.finish()
            complain("full log: \(logPath)")
            return outcome.succeeded ? 0 : 1
        }

        var environment = options.environment
        environment["AWS_REGION"] = environment["AWS_REGION"] ?? configuration.region
        var report: AWSReport
        do {
            report = AWSReport(payload: payload, configuration: configuration, client: try AWSClient.fromEnvironment(AWSEnvironment(environment)))
            guard try report.begin(instanceID: instanceID) else {
                complain("job \(payload.jobID) attempt \(payload.attempt) is not STARTING any more: not running it")
                return 2
            }
        } catch {
            complain("cannot report to AWS: \(error)")
            return 2
        }
        let log: JobLog
        do {
            log = try JobLog(path: logPath, echo: options.echo, shipper: LogShipper(logs: report.logs, group: configuration.logGroup, stream: report.logStream))
        } catch {
            complain(error.description)
            _ = report.finish(JobOutcome(succeeded: false, exitCode: nil, failingStep: nil, statusReason: "Runner error", reason: error.description, durationMilliseconds: 0, interrupted: false), logPath: logPath)
            return 2
        }
        let outcome = checkOut(payload, options: options, environment: environment, instanceID: instanceID, log: log, stop: { stopReason(watch) }, tick: { report.heartbeatIfDue() })
            ?? execution.run(log: log, stop: { stopReason(watch) }, tick: {
                report.heartbeatIfDue()
                if watch?.poll() == true {
                    log.note("EC2 gave notice of a spot interruption: \(watch?.notice ?? "")")
                    report.noteInterruption()
                }
            })
        log.note(summary(outcome))
        log.finish()
        if report.finish(outcome, logPath: logPath), payload.spec.noShutdown { report.announceEnding() }
        return outcome.succeeded ? 0 : 1
    }

    /// A private repository's clone, before the steps: its failure is the attempt's, no step run.
    private static func checkOut(
        _ payload: RunnerPayload, options: RunnerOptions, environment: [String: String], instanceID: String?, log: JobLog,
        stop: () -> String?, tick: () -> Void
    ) -> JobOutcome? {
        guard let folder = options.codeDirectory, let checkout = PrivateCheckout(payload.spec) else { return nil }
        let started = WallClock.unixSeconds()
        do {
            try checkout.run(into: folder, environment: environment, deadline: started + Double(payload.spec.timeoutSeconds), log: log, stop: { stop() != nil }, tick: tick)
            return nil
        } catch {
            log.note(error.description)
            var outcome = JobOutcome(
                succeeded: false, exitCode: nil, failingStep: nil, statusReason: "Code checkout failed", reason: error.description,
                durationMilliseconds: Int64(((WallClock.unixSeconds() - started) * 1000).rounded()), interrupted: false)
            // Stopped by SIGTERM or a spot notice: the host's ending, as during a step, so retry rules on it apply.
            if let why = stop() {
                outcome.statusReason = "Host EC2 (instance \(instanceID ?? "unknown")) terminated."
                outcome.reason = "Code checkout stopped: \(why)"
                outcome.interrupted = true
            }
            return outcome
        }
    }

    /// Why the steps must stop now: SIGTERM, or EC2's spot notice; `nil` to go on.
    static func stopReason(_ watch: SpotInterruptionWatch?) -> String? {
        if terminationRequested.load(ordering: .relaxed) { return "the runner received SIGTERM (spot interruption or shutdown)" }
        return watch?.notice.map { "EC2 gave notice of a spot interruption (\($0))" }
    }

    static func summary(_ outcome: JobOutcome) -> String {
        let took = StepExecution.format(seconds: Int(outcome.durationMilliseconds / 1000))
        return outcome.succeeded ? "SUCCEEDED in \(took): \(outcome.statusReason)" : "FAILED after \(took): \(outcome.statusReason); \(outcome.reason ?? "")"
    }
}
