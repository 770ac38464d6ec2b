import AWSServices
import Foundation
import Launcher
import Reactor
import JobModel
import JobStore
import SortieTestSupport
import Testing

@Suite("Jobs that wait for other jobs, against moto", .serialized)
struct DependencyTests {
    @Test("a chain of three: B waits for A, C for B; A succeeds → B is released and launched; B fails → C FAILED naming B, never launched, notified")
    func chainWithFailure() async throws {
        let deployment = try await ReactorDeployment.create()
        let (a, b, c) = (Deployment.uniqueName("extract"), Deployment.uniqueName("transform"), Deployment.uniqueName("load"))
        for name in [a, b, c] { _ = try await deployment.publish(name) }
        let first = try await deployment.submit(a)
        #expect(first.outcome == .launched)
        let aID = try #require(first.jobID)
        let second = try await deployment.submit(b, dependsOn: [aID])
        #expect(second.outcome == .pending && second.state == .pending && second.dependsOn == [aID])
        let bID = try #require(second.jobID)
        let third = try await deployment.submit(c, dependsOn: [bID])
        #expect(third.outcome == .pending)
        let cID = try #require(third.jobID)
        #expect(try await deployment.record(aID).dependents == [bID])
        #expect(try await deployment.record(bID).dependsOn == [aID])
        #expect(try await deployment.record(bID).statusReason == "Waiting for job to succeed: \(aID)")
        let store = deployment.store
        #expect(Set(try await blocking { try store.pending(limit: 10, after: nil).ids }) == [bID, cID])
        #expect(try await deployment.instances(job: b).isEmpty)

        // A succeeds: its ending releases B, which takes a slot at once.
        let aRecord = try await deployment.record(aID)
        try await deployment.runnerReports(aRecord, exitCode: 0)
        let aEnded = try await deployment.endInstance(try #require(aRecord.instanceID))
        #expect(aEnded.decision == .succeeded && aEnded.released == [bID] && aEnded.started == [bID])
        let bRecord = try await deployment.record(bID)
        #expect(bRecord.history.map(\.state) == [.submitted, .pending, .runnable, .starting])
        #expect(try await deployment.record(cID).state == .pending)

        // B fails for good: C fails without launching, naming B.
        try await deployment.runnerReports(bRecord, exitCode: 3)
        let bEnded = try await deployment.endInstance(try #require(bRecord.instanceID))
        #expect(bEnded.decision == .failed && bEnded.dependentsFailed == [cID] && bEnded.started == [])
        let cRecord = try await deployment.record(cID)
        #expect(cRecord.state == .failed && cRecord.instanceID == nil)
        #expect(cRecord.statusReason == "Dependency \(b) \(bID) FAILED: Step 'load' failed")
        #expect(cRecord.history.map(\.state) == [.submitted, .pending, .failed])
        #expect(try await deployment.instances(job: c).isEmpty)
        #expect(try await blocking { try store.outcome(cID) }?.finished == true)
        #expect(try await blocking { try store.pending(limit: 10, after: nil).ids }.isEmpty)
        let notified = try await deployment.receivedNotifications().compactMap { $0["jobId"] as? String }
        #expect(Set(notified) == [bID, cID])
        // Each ending's metrics line, C's too: FAILED by its dependency, it neither waited for a slot nor ran.
        let endings = try EmbeddedMetricFormat.documents(in: deployment.metrics.log).filter { $0.string("Outcome") != nil }
        #expect(endings.map { [$0.string("JobId"), $0.string("Outcome")] } == [[aID, "SUCCEEDED"], [bID, "FAILED"], [cID, "FAILED"]])
        #expect(endings.last?.values("QueueWait") == nil && endings.last?.values("JobDuration") == nil && endings.last?.values("JobsFailed") == [1])

        // B's ending delivered again, and a sweep: nothing moves twice.
        let again = try await deployment.send("ec2-state-change-terminated.json", instanceID: bRecord.instanceID)
        #expect(again.outcome == .duplicate && again.dependentsFailed == nil)
        _ = try await deployment.send("retry-reactor-sweep.json")
        #expect(try await deployment.record(cID).history.count == 3)
    }

    @Test("a dependency that is retried keeps its dependents PENDING until its last attempt; their release comes once, however the events arrive")
    func retriedDependency() async throws {
        let deployment = try await ReactorDeployment.create()
        let (a, b) = (Deployment.uniqueName("flaky"), Deployment.uniqueName("after"))
        _ = try await deployment.publish(a, retry: RetryStrategy(attempts: 2))
        _ = try await deployment.publish(b)
        let aID = try #require(try await deployment.submit(a).jobID)
        let bID = try #require(try await deployment.submit(b, dependsOn: [aID]).jobID)
        let attempt1 = try await deployment.record(aID)
        try await deployment.runnerReports(attempt1, exitCode: 3)
        // Before the reactor decides attempt 1, the sweep finds A FAILED but not decided: B waits.
        let swept = try await deployment.send("retry-reactor-sweep.json")
        #expect(swept.dependentsFailed == nil)
        let retried = try await deployment.endInstance(try #require(attempt1.instanceID))
        #expect(retried.decision == .retry && retried.dependentsFailed == nil && retried.released == nil)
        #expect(try await deployment.record(bID).state == .pending)

        let attempt2 = try await deployment.record(aID)
        #expect(attempt2.attempt == 2 && attempt2.state == .starting)
        try await deployment.runnerReports(attempt2, exitCode: 0)
        // The sweep sees A SUCCEEDED before its ending event arrives: it releases B.
        let release = try await deployment.send("retry-reactor-sweep.json")
        #expect(release.released == [bID] && release.started?.contains(bID) == true)
        // Then the ending itself, twice: A is decided once, B is not moved again.
        let ended = try await deployment.endInstance(try #require(attempt2.instanceID))
        #expect(ended.decision == .succeeded && ended.released == nil)
        let repeated = try await deployment.send("ec2-state-change-terminated.json", instanceID: attempt2.instanceID)
        #expect(repeated.outcome == .duplicate && repeated.released == nil)
        let bRecord = try await deployment.record(bID)
        #expect(bRecord.history.filter { $0.state == .runnable }.count == 1 && bRecord.state == .starting)
    }

    @Test("submitted after its dependency ended: SUCCEEDED launches it at once, FAILED fails it at once; unknown ids and more than 20 are refused with nothing written")
    func dependencyAlreadyEnded() async throws {
        let deployment = try await ReactorDeployment.create()
        let (a, b) = (Deployment.uniqueName("early"), Deployment.uniqueName("late"))
        _ = try await deployment.publish(a, maxConcurrency: 2)
        _ = try await deployment.publish(b, maxConcurrency: 2)
        let good = try await deployment.record(try #require(try await deployment.submit(a).jobID))
        let bad = try await deployment.record(try #require(try await deployment.submit(a).jobID))
        try await deployment.runnerReports(good, exitCode: 0)
        try await deployment.runnerReports(bad, exitCode: 3)
        _ = try await deployment.endInstance(try #require(good.instanceID))
        _ = try await deployment.endInstance(try #require(bad.instanceID))

        let afterGood = try await deployment.submit(b, dependsOn: [good.id])
        #expect(afterGood.outcome == .launched && afterGood.state == .starting)
        #expect(try await deployment.record(good.id).dependents == [try #require(afterGood.jobID)])
        let afterBad = try await deployment.submit(b, dependsOn: [good.id, bad.id])
        #expect(afterBad.outcome == .failed && afterBad.state == .failed)
        #expect(afterBad.statusReason == "Dependency \(a) \(bad.id) FAILED: Step 'load' failed")
        #expect(try await deployment.instances(job: b).count == 1)

        let before = try await deployment.store.records(job: b).count
        for dependsOn in [[good.id, "no-such-job"], (0...20).map { "job-\($0)" }] {
            do {
                _ = try await deployment.submit(b, dependsOn: dependsOn)
                Issue.record("depends_on \(dependsOn) was accepted")
            } catch let error as LaunchError {
                #expect(error.errorType == "Sortie.InvalidDependencies")
                #expect(error.description.contains(dependsOn.count > 20 ? "at most 20" : "no job no-such-job"), "\(error)")
            }
        }
        #expect(try await deployment.store.records(job: b).count == before)
        #expect(try await deployment.record(good.id).dependents.count == 2)
    }

    @Test("a job cancelled by hand while PENDING: its dependents FAILED, naming it, at the next sweep")
    func cancelledDependency() async throws {
        let deployment = try await ReactorDeployment.create()
        let (a, b, c) = (Deployment.uniqueName("first"), Deployment.uniqueName("second"), Deployment.uniqueName("third"))
        for name in [a, b, c] { _ = try await deployment.publish(name) }
        let aID = try #require(try await deployment.submit(a).jobID)
        let bID = try #require(try await deployment.submit(b, dependsOn: [aID]).jobID)
        let cID = try #require(try await deployment.submit(c, dependsOn: [bID]).jobID)
        // As `sortie cancel` writes it, without resolving the dependents itself.
        let store = deployment.store
        let cancelled = try await blocking {
            try store.cancelUnstarted(bID, attempt: 1, reason: "Cancelled by tester")
        }
        #expect(cancelled)
        let swept = try await deployment.send("retry-reactor-sweep.json")
        #expect(swept.dependentsFailed == [cID])
        #expect(try await deployment.record(cID).statusReason == "Dependency \(b) \(bID) FAILED: Cancelled by tester")
        #expect(try await deployment.record(aID).state == .starting)
    }

    @Test("a scheduled job whose spec depends_on names submits its chain once per event, dependencies first; a cycle or an unknown name refuses it with nothing written")
    func scheduledChain() async throws {
        let deployment = try await ReactorDeployment.create()
        let suffix = UUID().uuidString.prefix(6).lowercased()
        let (extract, transform, load) = ("extract-\(suffix)", "transform-\(suffix)", "load-\(suffix)")
        _ = try await deployment.publish(extract)
        _ = try await deployment.publish(transform, dependsOn: [extract])
        _ = try await deployment.publish(load, dependsOn: [transform, extract])
        let event = LaunchEvent(
            job: load, arguments: ["date": "2024-05-02"], eventID: UUID().uuidString,
            trigger: .schedule(rule: "arn:aws:events:us-east-1:123456789012:rule/sortie-\(load)", time: "2024-05-02T02:00:00Z"))
        let response = try await deployment.launch(event)
        #expect(response.outcome == .pending)
        let store = deployment.store
        let records = try await blocking { try store.records() }
        let byName = Dictionary(grouping: records, by: \.job)
        #expect(byName.mapValues(\.count) == [extract: 1, transform: 1, load: 1])
        let (e, t, l) = (try #require(byName[extract]?.first), try #require(byName[transform]?.first), try #require(byName[load]?.first))
        #expect(e.state == .starting && t.state == .pending && l.state == .pending)
        #expect(t.dependsOn == [e.id] && l.dependsOn == [t.id, e.id] && l.id == response.jobID)
        #expect(e.parameters == ["date": "2024-05-02"] && t.parameters == ["date": "2024-05-02"])
        #expect(e.dependents == [l.id, t.id].sorted())
        // The same event again: the same three jobs.
        let again = try await deployment.launch(event)
        #expect(again.outcome == .duplicate && again.jobID == l.id)
        #expect(try await blocking { try store.records() }.count == 3)

        let (x, y) = ("cycle-x-\(suffix)", "cycle-y-\(suffix)")
        _ = try await deployment.publish(x, dependsOn: [y])
        _ = try await deployment.publish(y, dependsOn: [x])
        let (orphan, missing) = ("orphan-\(suffix)", "missing-\(suffix)")
        _ = try await deployment.publish(orphan, dependsOn: [missing])
        for (job, expected) in [(x, "\(x) → \(y) → \(x)"), (orphan, "'\(orphan)' depends on '\(missing)', which is not published")] {
            do {
                _ = try await deployment.launch(LaunchEvent(job: job, eventID: UUID().uuidString, trigger: .schedule(rule: "rule/sortie-\(job)", time: nil)))
                Issue.record("the chain of \(job) was accepted")
            } catch let error as LaunchError {
                #expect(error.errorType == "Sortie.InvalidDependencies" && error.description.contains(expected), "\(error)")
            }
        }
        #expect(try await blocking { try store.records() }.count == 3)
    }

    @Test("a scheduled chain of arrays: a spec's depends_on entry {job, type: N_TO_N} makes the member wait child by child on that array's run in the same chain, the plain names whole; an N_TO_N on an array of another size refuses the chain")
    func scheduledArrayChain() async throws {
        let deployment = try await ReactorDeployment.create()
        let suffix = UUID().uuidString.prefix(6).lowercased()
        let (shards, merge, report) = ("shards-\(suffix)", "merge-\(suffix)", "report-\(suffix)")
        _ = try await deployment.publish(shards, maxConcurrency: 2, array: .init(size: 3))
        _ = try await deployment.publish(merge, maxConcurrency: 2, dependsOn: [shards], array: .init(size: 3), nToN: [shards])
        _ = try await deployment.publish(report, dependsOn: [merge])
        let event = LaunchEvent(job: report, eventID: UUID().uuidString, trigger: .schedule(rule: "rule/sortie-\(report)", time: "2024-05-02T02:00:00Z"))
        #expect(try await deployment.launch(event).outcome == .pending)
        let byName = Dictionary(grouping: try await blocking { try deployment.store.records() }.filter { $0.arrayChild == nil }, by: \.job)
        let (s, m, r) = (try #require(byName[shards]?.first), try #require(byName[merge]?.first), try #require(byName[report]?.first))
        #expect(s.state == .running && s.array == JobArray(size: 3))
        #expect(m.state == .running && m.dependsOn.isEmpty && m.array == JobArray(size: 3, nToN: [s.id]), "\(m)")
        #expect(r.state == .pending && r.dependsOn == [m.id])
        #expect(s.dependents == [m.id], "the N_TO_N array is among the dependents its children's endings advance")
        // No child of merge before its shard has ended.
        let store = deployment.store
        #expect(try await blocking { try store.record(JobArrays.childID(m.id, 0)) } == nil)

        let (small, big) = ("small-\(suffix)", "big-\(suffix)")
        _ = try await deployment.publish(small, array: .init(size: 2))
        _ = try await deployment.publish(big, dependsOn: [small], array: .init(size: 3), nToN: [small])
        do {
            _ = try await deployment.launch(LaunchEvent(job: big, eventID: UUID().uuidString, trigger: .schedule(rule: "rule/sortie-\(big)", time: nil)))
            Issue.record("an N_TO_N chain of unequal sizes was accepted")
        } catch let error as LaunchError {
            #expect(error.errorType == "Sortie.InvalidDependencies" && error.description.contains("'\(big)' waits N_TO_N on '\(small)', which is an array of 2"), "\(error)")
        }
    }
}
