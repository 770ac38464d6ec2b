import AWSServices
import Foundation
import JobLaunch
import Launcher
import Reactor
import JobModel
import JobStore
import SortieTestSupport
import Testing

@Suite("Array jobs through the launcher and the reactor, against moto", .serialized)
struct ArrayTests {
    /// Submits an array job of `job` as a manual event would.
    static func submitArray(
        _ deployment: ReactorDeployment, _ job: String, size: Int, sequential: Bool = false, nToN: [String] = [], dependsOn: [String] = []
    ) async throws -> LaunchResponse {
        try await deployment.launch(LaunchEvent(
            job: job, eventID: UUID().uuidString, dependsOn: dependsOn, arraySize: size, sequential: sequential, nToN: nToN))
    }

    /// The child's runner reports `exitCode` and its instance ends; the reactor's answer.
    static func finish(_ deployment: ReactorDeployment, _ id: String, exitCode: Int) async throws -> ReactorResponse {
        let record = try await deployment.record(id)
        #expect(record.state == .starting, "\(id) is \(record.state)")
        try await deployment.runnerReports(record, exitCode: exitCode)
        return try await deployment.endInstance(try #require(record.instanceID))
    }

    static func progress(_ deployment: ReactorDeployment, _ parent: String) async throws -> JobStore.ArrayProgress {
        let store = deployment.store
        return try #require(try await blocking { try store.array(parent) }).progress
    }

    @Test("an array of 5 with max_concurrency 2: one parent RUNNING, children made twice max_concurrency at a time (the rest waiting for slots), never more than two running, each its own instance; all succeed → the parent SUCCEEDED once")
    func drainsWithinItsConcurrency() async throws {
        let deployment = try await ReactorDeployment.create()
        let name = Deployment.uniqueName("fan")
        _ = try await deployment.publish(name, maxConcurrency: 2)
        let response = try await Self.submitArray(deployment, name, size: 5)
        #expect(response.outcome == .launched && response.state == .running && response.arraySize == 5 && response.instanceID == nil)
        let parent = try #require(response.jobID)
        var progress = try await Self.progress(deployment, parent)
        // Twice max_concurrency made: two started, two waiting for their slots.
        #expect(progress.created == 4 && progress.open == [0, 1, 2, 3] && progress.succeeded == 0)
        #expect(try await deployment.record(JobArrays.childID(parent, 3)).state == .runnable)
        let first = try await deployment.record(JobArrays.childID(parent, 0))
        #expect(first.state == .starting && first.arrayChild == ArrayChild(parent: parent, index: 0, size: 5) && first.instanceID != nil)
        #expect(first.job == name && first.parameters == ["date": "2024-04-30"])

        let store = deployment.store
        var finished: [String] = []
        var mostHolders = 0
        for _ in 0..<5 {
            let holders = try await blocking { try store.slotHolders() }
            mostHolders = max(mostHolders, holders.count)
            let next = try #require(holders.first)
            let ended = try await Self.finish(deployment, next, exitCode: 0)
            #expect(ended.decision == .succeeded)
            finished.append(next)
            progress = try await Self.progress(deployment, parent)
            #expect(progress.open.count <= 4 && progress.succeeded == finished.count)
        }
        #expect(mostHolders == 2)
        #expect(Set(finished) == Set((0..<5).map { JobArrays.childID(parent, $0) }))
        #expect(try await deployment.instances(job: name).count == 5)
        let decided = try await deployment.record(parent)
        #expect(decided.state == .succeeded && decided.statusReason == "All 5 children SUCCEEDED")
        #expect(decided.history.map(\.state) == [.submitted, .running, .succeeded])
        #expect(try await blocking { try store.outcome(parent) }?.finished == true)

        // The last ending again, and a sweep: nothing is counted or decided twice.
        let last = try await deployment.record(try #require(finished.last))
        let again = try await deployment.send("ec2-state-change-terminated.json", instanceID: last.instanceID)
        #expect(again.outcome == .duplicate)
        _ = try await deployment.send("retry-reactor-sweep.json")
        progress = try await Self.progress(deployment, parent)
        #expect(progress.succeeded == 5 && progress.failed == 0 && progress.created == 5 && progress.open.isEmpty)
        #expect(try await deployment.record(parent).history.count == 3)
        let endings = try EmbeddedMetricFormat.documents(in: deployment.metrics.log).filter { $0.string("JobId") == parent }
        #expect(endings.map { $0.string("Outcome") } == ["SUCCEEDED"])
    }

    @Test("a child that fails after its retries: the others still run, then the parent is FAILED naming it, notified once (not per child), and a job waiting on the array FAILED in turn")
    func childFailureFailsTheParent() async throws {
        let deployment = try await ReactorDeployment.create()
        let name = Deployment.uniqueName("fanfail")
        _ = try await deployment.publish(name, maxConcurrency: 3, retry: RetryStrategy(attempts: 2))
        let after = Deployment.uniqueName("after")
        _ = try await deployment.publish(after)
        let parent = try #require(try await Self.submitArray(deployment, name, size: 3).jobID)
        let waiting = try #require(try await deployment.submit(after, dependsOn: [parent]).jobID)
        #expect(try await deployment.record(waiting).state == .pending)
        let (c0, c1, c2) = (JobArrays.childID(parent, 0), JobArrays.childID(parent, 1), JobArrays.childID(parent, 2))

        #expect(try await Self.finish(deployment, c1, exitCode: 3).decision == .retry)
        #expect(try await deployment.record(c1).attempt == 2)
        #expect(try await Self.finish(deployment, c1, exitCode: 3).decision == .failed)
        var progress = try await Self.progress(deployment, parent)
        #expect(progress.failed == 1 && progress.open == [0, 2])
        #expect(try await deployment.record(parent).state == .running)
        #expect(try await Self.finish(deployment, c0, exitCode: 0).decision == .succeeded)
        let last = try await Self.finish(deployment, c2, exitCode: 0)
        #expect(last.decision == .succeeded && last.dependentsFailed == [waiting])

        let decided = try await deployment.record(parent)
        #expect(decided.state == .failed)
        #expect(decided.statusReason == "1 of 3 children FAILED; first: child 1 (\(c1)): Step 'load' failed", "\(decided.statusReason ?? "")")
        progress = try await Self.progress(deployment, parent)
        #expect(progress.succeeded == 2 && progress.failed == 1)
        let dependent = try await deployment.record(waiting)
        #expect(dependent.state == .failed && dependent.statusReason?.hasPrefix("Dependency \(name) \(parent) FAILED: 1 of 3 children FAILED") == true)
        let notified = try await deployment.receivedNotifications().compactMap { $0["jobId"] as? String }
        #expect(Set(notified) == [parent, waiting] && notified.count == 2, "\(notified)")
    }

    @Test("SEQUENTIAL: one child at a time, each made once the one before it SUCCEEDED; a failure fails every later child without an instance, and the parent")
    func sequential() async throws {
        let deployment = try await ReactorDeployment.create()
        let name = Deployment.uniqueName("seq")
        _ = try await deployment.publish(name, maxConcurrency: 3)
        let response = try await Self.submitArray(deployment, name, size: 4, sequential: true)
        let parent = try #require(response.jobID)
        #expect(try await Self.progress(deployment, parent).created == 1)
        #expect(try await Self.finish(deployment, JobArrays.childID(parent, 0), exitCode: 0).decision == .succeeded)
        var progress = try await Self.progress(deployment, parent)
        #expect(progress.created == 2 && progress.open == [1])
        let second = try await deployment.record(JobArrays.childID(parent, 1))
        let firstEnd = try #require(try await deployment.record(JobArrays.childID(parent, 0)).history.last?.at)
        #expect(second.state == .starting && second.submittedAt >= firstEnd)

        #expect(try await Self.finish(deployment, second.id, exitCode: 3).decision == .failed)
        progress = try await Self.progress(deployment, parent)
        #expect(progress.created == 4 && progress.succeeded == 1 && progress.failed == 3 && progress.open.isEmpty)
        for index in 2..<4 {
            let later = try await deployment.record(JobArrays.childID(parent, index))
            #expect(later.state == .failed && later.instanceID == nil)
            #expect(later.statusReason?.hasPrefix("Dependency \(name) \(JobArrays.childID(parent, index - 1)) FAILED") == true, "\(later.statusReason ?? "")")
        }
        #expect(try await deployment.instances(job: name).count == 2)
        let decided = try await deployment.record(parent)
        #expect(decided.state == .failed && decided.statusReason?.hasPrefix("3 of 4 children FAILED; first: child 1") == true, "\(decided.statusReason ?? "")")
    }

    @Test("N_TO_N: child i of B waits for child i of A; made in index order as A's succeed, FAILED where A's FAILED")
    func nToN() async throws {
        let deployment = try await ReactorDeployment.create()
        let (a, b) = (Deployment.uniqueName("upstream"), Deployment.uniqueName("downstream"))
        _ = try await deployment.publish(a, maxConcurrency: 3)
        _ = try await deployment.publish(b, maxConcurrency: 3)
        let aID = try #require(try await Self.submitArray(deployment, a, size: 3).jobID)
        let bResponse = try await Self.submitArray(deployment, b, size: 3, nToN: [aID])
        #expect(bResponse.outcome == .waiting && bResponse.state == .running)
        let bID = try #require(bResponse.jobID)
        #expect(try await deployment.record(aID).dependents == [bID])
        #expect(try await Self.progress(deployment, bID).created == 0)

        // A's child 1 first: B's child 1 still waits behind child 0, which waits for A's child 0.
        _ = try await Self.finish(deployment, JobArrays.childID(aID, 1), exitCode: 0)
        #expect(try await Self.progress(deployment, bID).created == 0)
        _ = try await Self.finish(deployment, JobArrays.childID(aID, 0), exitCode: 0)
        var progress = try await Self.progress(deployment, bID)
        #expect(progress.created == 2 && progress.open == [0, 1])
        #expect(try await deployment.record(JobArrays.childID(bID, 1)).state == .starting)
        _ = try await Self.finish(deployment, JobArrays.childID(aID, 2), exitCode: 3)
        progress = try await Self.progress(deployment, bID)
        #expect(progress.created == 3 && progress.failed == 1)
        let failed = try await deployment.record(JobArrays.childID(bID, 2))
        #expect(failed.state == .failed && failed.statusReason?.hasPrefix("Dependency \(a) \(JobArrays.childID(aID, 2)) FAILED") == true)
        _ = try await Self.finish(deployment, JobArrays.childID(bID, 0), exitCode: 0)
        _ = try await Self.finish(deployment, JobArrays.childID(bID, 1), exitCode: 0)
        #expect(try await deployment.record(aID).state == .failed)
        #expect(try await deployment.record(bID).state == .failed)
    }

    @Test("refused with nothing written: sizes outside 2…10,000, SEQUENTIAL without an array, N_TO_N on an unknown job, a plain job or an array of another size")
    func refusals() async throws {
        let deployment = try await ReactorDeployment.create()
        let (name, plain) = (Deployment.uniqueName("sizes"), Deployment.uniqueName("plain"))
        _ = try await deployment.publish(name, maxConcurrency: 2)
        _ = try await deployment.publish(plain)
        let plainID = try #require(try await deployment.submit(plain).jobID)
        let threeID = try #require(try await Self.submitArray(deployment, name, size: 3).jobID)
        let store = deployment.store
        let before = try await blocking { try store.records() }.count
        let cases: [(LaunchEvent, String, String)] = [
            (LaunchEvent(job: name, eventID: UUID().uuidString, arraySize: 1), "Sortie.InvalidArray", "2 to 10,000 children"),
            (LaunchEvent(job: name, eventID: UUID().uuidString, arraySize: 10_001), "Sortie.InvalidArray", "got 10001"),
            (LaunchEvent(job: name, eventID: UUID().uuidString, sequential: true), "Sortie.InvalidDependencies", "for array jobs"),
            (LaunchEvent(job: name, eventID: UUID().uuidString, arraySize: 3, nToN: ["no-such-job"]), "Sortie.InvalidDependencies", "no job no-such-job"),
            (LaunchEvent(job: name, eventID: UUID().uuidString, arraySize: 3, nToN: [plainID]), "Sortie.InvalidDependencies", "not an array job"),
            (LaunchEvent(job: name, eventID: UUID().uuidString, arraySize: 4, nToN: [threeID]), "Sortie.InvalidDependencies", "an array of 3"),
        ]
        for (event, type, message) in cases {
            do {
                _ = try await deployment.launch(event)
                Issue.record("\(event) was accepted")
            } catch let error as LaunchError {
                #expect(error.errorType == type && error.description.contains(message), "\(error)")
            }
        }
        #expect(try await blocking { try store.records() }.count == before)
    }

    @Test("the sweep counts a child whose ending event never came, and makes the next; the late event then counts nothing twice")
    func sweepCountsMissedEndings() async throws {
        let deployment = try await ReactorDeployment.create()
        let name = Deployment.uniqueName("swept")
        _ = try await deployment.publish(name, maxConcurrency: 1)
        let parent = try #require(try await Self.submitArray(deployment, name, size: 3).jobID)
        let first = try await deployment.record(JobArrays.childID(parent, 0))
        try await deployment.runnerReports(first, exitCode: 0)
        #expect(try await Self.progress(deployment, parent).created == 2)
        #expect(try await deployment.record(JobArrays.childID(parent, 1)).state == .runnable)
        _ = try await deployment.send("retry-reactor-sweep.json")
        var progress = try await Self.progress(deployment, parent)
        #expect(progress.succeeded == 1 && progress.created == 3 && progress.open == [1, 2])
        #expect(try await deployment.record(JobArrays.childID(parent, 1)).state == .starting)
        let late = try await deployment.endInstance(try #require(first.instanceID))
        #expect(late.decision == .succeeded)
        progress = try await Self.progress(deployment, parent)
        #expect(progress.succeeded == 1 && progress.created == 3)
        #expect(try await Self.finish(deployment, JobArrays.childID(parent, 1), exitCode: 0).decision == .succeeded)
        #expect(try await Self.finish(deployment, JobArrays.childID(parent, 2), exitCode: 0).decision == .succeeded)
        #expect(try await deployment.record(parent).state == .succeeded)
    }
}
