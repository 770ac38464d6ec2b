import AWSCore
import Foundation
import Launcher
import JobModel
import JobStore
import SortieTestSupport
import TableSchema
import Testing

/// A manual submission's overrides (#17 §3) through the launcher against moto: applied to the
/// instance and the runner's payload, recorded on the job, applied again when a queued job starts,
/// and refused by name when the spec does not allow them.
@Suite("Launch overrides", .serialized)
struct OverrideTests {
    private func spec(_ name: String) -> JobSpec {
        var spec = testSpec(name, types: ["t3.micro"])
        spec.code = .git(repository: "https://example.com/team/etl.git", branch: "main")
        spec.environment = ["LEVEL": "info"]
        spec.overrides = ["no_shutdown", "git_branch", "instance_types", "market", "environment.LEVEL"]
        return spec
    }

    /// The runner's payload inside an instance's UserData.
    private func payload(_ deployment: Deployment, _ instanceID: String) async throws -> RunnerPayload {
        let encoded = try #require(try await deployment.instanceAttribute(instanceID, "userData"))
        let script = String(decoding: try #require(Data(base64Encoded: encoded)), as: UTF8.self)
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasSuffix("<<'SORTIE_PAYLOAD'") })
        let end = try #require(lines.firstIndex(of: "SORTIE_PAYLOAD"))
        return try JSONDecoder().decode(RunnerPayload.self, from: try #require(Data(base64Encoded: lines[(start + 1)..<end].joined())))
    }

    private func launch(_ launcher: Launcher, _ event: LaunchEvent) async throws -> Result<LaunchResponse, LaunchError> {
        try await blocking { () -> Result<LaunchResponse, LaunchError> in
            do throws(LaunchError) {
                return .success(try launcher.launch(event, requestID: "r", logger: Deployment.quietLogger))
            } catch {
                return .failure(error)
            }
        }
    }

    @Test("every allowed override reaches the instance and the runner's payload and is recorded on the job; a queued job started later runs with them too, even once its spec no longer allows them")
    func applied() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("override")
        try await deployment.publish(spec(name))
        let launcher = try deployment.launcher()
        let event = try JSONDecoder().decode(LaunchEvent.self, from: Data(#"""
            {"job": "\#(name)", "id": "ov-\#(name)", "overrides": {"no_shutdown": true, "git_branch": "fix/retry", "instance_types": ["t3.small", "t3.micro"],
             "market": "spot", "environment": {"LEVEL": "debug"}}}
            """#.utf8))
        let expected = ["no_shutdown": "true", "git_branch": "fix/retry", "instance_types": "t3.small,t3.micro", "market": "spot", "environment.LEVEL": "debug"]
        #expect(event.overrides == expected)
        let response = try await launch(launcher, event).get()
        #expect(response.outcome == .launched && response.instanceType == "t3.small" && response.market == "spot")
        let jobID = try #require(response.jobID)
        let record = try #require(try await deployment.record(jobID))
        #expect(record.overrides == expected && record.market == .spot)
        let instance = try #require(try await deployment.instances(job: name).first)
        let sent = try await payload(deployment, instance.instanceId)
        #expect(sent.spec.noShutdown && sent.spec.code == .git(repository: "https://example.com/team/etl.git", branch: "fix/retry"))
        #expect(sent.spec.environment == ["LEVEL": "debug"] && sent.spec.instance.types == ["t3.small", "t3.micro"] && sent.spec.instance.market == .spot)

        // The kind is full (max_concurrency 1): the next job waits, and whoever starts it later applies its own overrides.
        let queued = try await launch(launcher, LaunchEvent(job: name, eventID: "ov2-\(name)", overrides: ["instance_types": "t3.nano"])).get()
        #expect(queued.outcome == .waiting)
        let queuedID = try #require(queued.jobID)
        try await blocking { _ = try deployment.store.transition(jobID, attempt: 1, from: [.starting], to: .failed, reason: "test", freeingSlotsOf: name) }
        // Published again without overrides meanwhile: the job still runs as it was submitted.
        var republished = spec(name)
        republished.overrides = []
        try await deployment.publish(republished)
        let started = try await blocking { try launcher.starter.start(jobID: queuedID, logger: Deployment.quietLogger) }
        #expect(started.outcome == .launched && started.instanceType == "t3.nano" && started.market == "on-demand")
        #expect(try #require(try await deployment.record(queuedID)).overrides == ["instance_types": "t3.nano"])
    }

    @Test("a queued job whose override the spec as published now cannot take is decided FAILED when its turn comes, naming the override, not left RUNNABLE")
    func overrideNoLongerFits() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("override")
        try await deployment.publish(spec(name))
        let launcher = try deployment.launcher()
        let first = try await launch(launcher, LaunchEvent(job: name, eventID: "nf1-\(name)")).get()
        let queued = try await launch(launcher, LaunchEvent(job: name, eventID: "nf2-\(name)", overrides: ["git_branch": "fix/retry"])).get()
        #expect(first.outcome == .launched && queued.outcome == .waiting)
        let (firstID, queuedID) = (try #require(first.jobID), try #require(queued.jobID))
        try await blocking { _ = try deployment.store.transition(firstID, attempt: 1, from: [.starting], to: .failed, reason: "test", freeingSlotsOf: name) }
        // The job's code moved to S3 meanwhile: a branch means nothing to it.
        var republished = spec(name)
        republished.code = .s3("s3://artifacts/etl.tar")
        republished.overrides = ["environment.LEVEL"]
        try await deployment.publish(republished)
        let refused = try await blocking { () -> LaunchError? in
            do throws(LaunchError) {
                _ = try launcher.starter.start(jobID: queuedID, logger: Deployment.quietLogger)
                return nil
            } catch {
                return error
            }
        }
        guard case .invalidOverrides? = refused else {
            Issue.record("expected the overrides refused, got \(String(describing: refused))")
            return
        }
        let record = try #require(try await deployment.record(queuedID))
        #expect(record.state == .failed, "\(record.state)")
        #expect(record.statusReason?.contains("override 'git_branch'") == true && record.statusReason?.contains("does not take its code from git") == true, "\(record.statusReason ?? "")")
        #expect(try await deployment.instances(job: name).count == 1, "no instance for the refused job")
    }

    @Test("an override the spec does not allow, or a value it cannot take, is refused by name before anything is written", arguments: [
        (["priority": "5"], "does not allow the override 'priority'"),
        (["environment.OTHER": "x"], "does not allow the override 'environment.OTHER'"),
        (["no_shutdown": "yes"], "override 'no_shutdown': expected true or false, got 'yes'"),
        (["instance_types": "t3.micro,,t3.small"], "override 'instance_types': expected 1 to 10 instance types"),
        (["market": "reserved"], "override 'market': expected spot or on-demand, got 'reserved'"),
        (["git_branch": "--upload-pack=evil"], "override 'git_branch': expected a branch name"),
    ])
    func refused(overrides: [String: String], message: String) async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("refused")
        try await deployment.publish(spec(name))
        let result = try await launch(try deployment.launcher(), LaunchEvent(job: name, eventID: "rf-\(name)", overrides: overrides))
        guard case .failure(let error) = result, case .invalidOverrides = error else {
            Issue.record("expected invalidOverrides, got \(result)")
            return
        }
        #expect(error.errorType == "Sortie.InvalidOverrides" && error.description.contains(message), "\(error)")
        #expect(try await deployment.instances(job: name).isEmpty)
        #expect(try await deployment.item(JobTable.eventKey("rf-\(name)")) == nil)
    }
}
