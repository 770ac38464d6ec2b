import JobModel
import WallTime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Runs a job's steps in order with bash, each within its own timeout and the job's.
struct StepExecution {
    let payload: RunnerPayload
    let baseEnvironment: [String: String]
    let instanceID: String?

    /// What every step sees: the process's environment, the spec's, Sortie's own variables and
    /// one `SORTIE_ARG_<name>` per argument, byte for byte.
    func environment(step: JobSpec.Step) -> [String: String] {
        var environment = baseEnvironment
        environment.merge(payload.spec.environment) { $1 }
        environment["SORTIE_JOB"] = payload.spec.name
        environment["SORTIE_JOB_ID"] = payload.jobID
        environment["SORTIE_ATTEMPT"] = String(payload.attempt)
        environment["SORTIE_STEP"] = step.name
        environment["SORTIE_ARRAY_INDEX"] = payload.arrayIndex.map { String($0) }
        environment["SORTIE_ARRAY_SIZE"] = payload.arraySize.map { String($0) }
        for (name, value) in payload.arguments { environment["SORTIE_ARG_\(name)"] = value }
        let arguments = (try? JSONEncoder.sorted.encode(payload.arguments)).map { String(decoding: $0, as: UTF8.self) }
        environment["SORTIE_ARGS_JSON"] = arguments ?? "{}"
        return environment
    }

    /// `stop` says why the steps must stop now (SIGTERM, a spot notice); `nil` to go on.
    func run(log: JobLog, stop: () -> String?, tick: () -> Void) -> JobOutcome {
        let spec = payload.spec
        let started = WallClock.unixSeconds()
        let jobDeadline = started + Double(spec.timeoutSeconds)
        var lastExit: Int?
        for (index, step) in spec.steps.enumerated() {
            let stepDeadline = step.timeoutSeconds.map { min(jobDeadline, WallClock.unixSeconds() + Double($0)) } ?? jobDeadline
            log.note("step \(index + 1)/\(spec.steps.count) '\(step.name)' started")
            let stepStart = WallClock.unixSeconds()
            let ending: Subprocess.Ending
            do {
                ending = try Subprocess.run(
                    ["/bin/bash", "-eo", "pipefail", "-c", step.run], environment: environment(step: step), deadline: stepDeadline,
                    stop: { stop() != nil }, output: log.write, tick: { log.tick(); tick() })
            } catch {
                return outcome(started, step: step, exit: nil, status: "Runner error", reason: error.description)
            }
            let took = Self.format(seconds: Int((WallClock.unixSeconds() - stepStart).rounded()))
            switch ending {
            case .exited(0):
                log.note("step '\(step.name)' succeeded in \(took)")
                lastExit = 0
                continue
            case .exited(let code):
                log.note("step '\(step.name)' exited with status \(code) after \(took)")
                return outcome(started, step: step, exit: Int(code), status: "Step '\(step.name)' failed", reason: "Step '\(step.name)' exited with status \(code)")
            case .signaled(let signal):
                log.note("step '\(step.name)' was killed by signal \(signal) after \(took)")
                return outcome(started, step: step, exit: nil, status: "Step '\(step.name)' failed", reason: "Step '\(step.name)' was killed by signal \(signal)")
            case .timedOut where stepDeadline < jobDeadline:
                let limit = Self.format(seconds: step.timeoutSeconds ?? 0)
                log.note("step '\(step.name)' timed out after \(limit)")
                return outcome(started, step: step, exit: nil, status: "Step '\(step.name)' failed", reason: "Step '\(step.name)' timed out after \(limit)")
            case .timedOut:
                let limit = Self.format(seconds: spec.timeoutSeconds)
                log.note("the job timed out after \(limit), during step '\(step.name)'")
                return outcome(started, step: step, exit: nil, status: "Job attempt duration exceeded timeout", reason: "Step '\(step.name)' stopped: the job's \(limit) ran out")
            case .interrupted:
                log.note("interrupted during step '\(step.name)'")
                var result = outcome(
                    started, step: step, exit: nil, status: "Host EC2 (instance \(instanceID ?? "unknown")) terminated.",
                    reason: "Step '\(step.name)' stopped: \(stop() ?? "the runner was told to stop")")
                result.interrupted = true
                return result
            }
        }
        return JobOutcome(
            succeeded: true, exitCode: lastExit, failingStep: nil, statusReason: "All \(spec.steps.count) steps succeeded", reason: nil,
            durationMilliseconds: Int64(((WallClock.unixSeconds() - started) * 1000).rounded()), interrupted: false)
    }

    private func outcome(_ started: Double, step: JobSpec.Step, exit: Int?, status: String, reason: String) -> JobOutcome {
        JobOutcome(
            succeeded: false, exitCode: exit, failingStep: step.name, statusReason: status, reason: reason,
            durationMilliseconds: Int64(((WallClock.unixSeconds() - started) * 1000).rounded()), interrupted: false)
    }

    /// `1h30m`, `45s`: the way specs write durations.
    static func format(seconds: Int) -> String {
        guard seconds > 0 else { return "0s" }
        let parts = [(seconds / 86_400, "d"), (seconds % 86_400 / 3600, "h"), (seconds % 3600 / 60, "m"), (seconds % 60, "s")]
        return parts.filter { $0.0 > 0 }.map { "\($0.0)\($0.1)" }.joined()
    }
}
