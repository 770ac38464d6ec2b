import AWSServices
import Foundation
import JobModel
import LocalAWS

/// Story 6: a manual submission changes what its spec's `overrides:` allows, for its one job:
/// `environment.LEVEL=debug` reaches the steps and is recorded on the job; an override the spec
/// does not list is refused (`Sortie.InvalidOverrides`), and no job is made; `no_shutdown` keeps
/// a failed job's instance running for debugging, its outcome decided at once, until it is
/// terminated (as `sortie cancel` does), which changes nothing about the job.
extension DemoStory {
    static let debugReport = JobSpec(
        name: "debug-report", instance: demoInstance, environment: ["LEVEL": "info"],
        steps: [.init(name: "report", run: #"echo "reporting at $LEVEL"; [ "$LEVEL" = debug ]"#)], timeoutSeconds: 120,
        overrides: ["environment.LEVEL", "no_shutdown"])

    func overriddenJob() async throws -> [Check] {
        say("== 6. debug-report submitted with --override environment.LEVEL=debug (its spec: overrides: [environment.LEVEL])")
        try await publish(Self.debugReport)
        let event = ["job": Self.debugReport.name, "overrides": ["environment": ["LEVEL": "debug"]]] as [String: Any]
        let record = try await settled(try await launch(try JSONSerialization.data(withJSONObject: event))) { $0.state.isFinal }
        timeline(record)
        let refused: String
        do {
            let body = try JSONSerialization.data(withJSONObject: ["job": Self.debugReport.name, "overrides": ["market": "spot"]])
            refused = "answered \(String(decoding: try await environment.invoke("launcher", body), as: UTF8.self))"
        } catch {
            refused = "\(error)"
        }
        say("  market=spot: \(refused)")
        return try await keptForDebugging() + [
            Check(name: "story 6: the overridden job succeeded with LEVEL=debug", passed: record.state == .succeeded, detail: "state \(record.state.rawValue)"),
            Check(name: "story 6: the override is recorded on the job", passed: record.overrides == ["environment.LEVEL": "debug"], detail: "\(record.overrides)"),
            Check(
                name: "story 6: an override the spec does not allow is refused", passed: refused.contains("Sortie.InvalidOverrides"), detail: refused),
        ]
    }

    /// `no_shutdown` with the step failing: FAILED from the runner's final record while the instance
    /// runs on; its termination later is delivered and decides nothing more.
    private func keptForDebugging() async throws -> [Check] {
        say("  no_shutdown=true with LEVEL left at info, so its step fails:")
        let event = ["job": Self.debugReport.name, "overrides": ["no_shutdown": true]] as [String: Any]
        let record = try await settled(try await launch(try JSONSerialization.data(withJSONObject: event))) { $0.state.isFinal }
        timeline(record)
        guard let instance = record.instanceID else {
            return [Check(name: "story 6: a job kept for debugging ran on an instance", passed: false, detail: "no instance recorded")]
        }
        let agent = environment.agent
        let kept = try await holds(within: patience) { agent.keptInstances.contains(instance) }
        let ec2 = EC2(client: environment.client)
        let stateThen = try await blocking { try ec2.describeInstances(instanceIds: [instance]).instances.first?.state?.name }
        say("  instance \(instance) \(stateThen ?? "unknown") after its job \(record.state.rawValue): its sandbox is instances/\(instance)")
        try await blocking { try ec2.terminateInstances([instance]) }
        let delivered = try await holds(within: patience) { !agent.keptInstances.contains(instance) }
        let after = try await settled(record.id) { _ in true }
        say("  terminated as sortie cancel does: the job stays \(after.state.rawValue) after attempt \(after.attempt)")
        return [
            Check(
                name: "story 6: a job kept for debugging is FAILED while its instance runs on",
                passed: record.state == .failed && kept && stateThen == "running", detail: "\(record.state.rawValue), instance \(stateThen ?? "unknown"), kept: \(kept)"),
            Check(
                name: "story 6: terminating the kept instance changes nothing about the job",
                passed: delivered && after.state == .failed && after.attempt == record.attempt && after.history.count == record.history.count,
                detail: "delivered: \(delivered), \(after.state.rawValue), attempt \(after.attempt), \(after.history.count) transitions"),
        ]
    }

    /// Whether `condition` came to hold within `limit`, polled.
    private func holds(within limit: Duration, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(200))
        }
        return true
    }
}
