import AWSServices
import Foundation
import Launcher
import Reactor
import JobModel
import JobStore
import SortieTestSupport
import TableSchema
import Testing
import WallTime

@Suite("Retries against moto", .serialized)
struct RetryTests {
    @Test("a runner's exit 1 with attempts: 3 is relaunched twice with identical parameters and new ClientTokens, then FAILED with one notification naming the attempts, exit code, step and log")
    func exhaustsAttempts() async throws {
        let deployment = try await ReactorDeployment.create()
        let name = Deployment.uniqueName("etl")
        _ = try await deployment.publish(name, retry: RetryStrategy(attempts: 3))
        let submitted = try await deployment.submit(name, arguments: ["date": "2024-05-01"])
        #expect(submitted.outcome == .launched)
        let jobID = try #require(submitted.jobID)

        var decisions: [Verdict?] = []
        for attempt in 1...3 {
            let record = try await deployment.record(jobID)
            #expect(record.attempt == attempt && record.state == .starting)
            try await deployment.runnerReports(record, exitCode: 1)
            let response = try await deployment.endInstance(try #require(record.instanceID))
            decisions.append(response.decision)
            #expect(response.outcome == .decided && response.attempt == attempt)
            #expect(response.started == (attempt < 3 ? [jobID] : []))
        }
        #expect(decisions == [.retry, .retry, .failed])
        // Each decision as a metrics line, by the EMF specification's rules.
        let lines = try EmbeddedMetricFormat.documents(in: deployment.metrics.log)
        #expect(lines.map { $0.string("Outcome") } == ["RETRY", "RETRY", "FAILED"])
        #expect(lines.allSatisfy { $0.string("Job") == name && $0.string("JobId") == jobID && $0.directives.first?.dimensionSets == [["Job"], []] })
        #expect(lines.map { $0.values("Attempts") } == [[1], [2], [3]])
        #expect(lines.map { $0.values("JobsRetried") } == [[1], [1], [0]] && lines.map { $0.values("JobsFailed") } == [[0], [0], [1]])
        #expect(lines.allSatisfy { ($0.values("QueueWait")?.first ?? -1) >= 0 })

        let final = try await deployment.record(jobID)
        #expect(final.state == .failed && final.attempt == 3 && final.exitCode == 1 && final.failingStep == "load")
        #expect(try await deployment.base.slotHolders(job: name).isEmpty)
        let instances = try await deployment.instances(job: name)
        #expect(instances.map { $0.tag("sortie:attempt") } == ["1", "2", "3"])
        var tokens: [String?] = []
        for instance in instances {
            let payload = try await deployment.payload(instance.instanceId)
            #expect(payload.jobID == jobID && payload.arguments == ["date": "2024-05-01"])
            #expect(payload.attempt == Int(instance.tag("sortie:attempt") ?? ""))
            tokens.append(try await deployment.clientToken(instance.instanceId))
        }
        #expect(tokens == ["\(jobID)-a1-t0", "\(jobID)-a2-t0", "\(jobID)-a3-t0"])

        let notifications = try await deployment.receivedNotifications()
        #expect(notifications.count == 1)
        let notice = try #require(notifications.first)
        #expect(notice["job"] as? String == name && notice["jobId"] as? String == jobID && notice["state"] as? String == "FAILED")
        #expect(notice["attempt"] as? Int == 3 && notice["exitCode"] as? Int == 1 && notice["failingStep"] as? String == "load")
        #expect(notice["log"] as? String == "s3://\(deployment.bucket)/logs/\(name)/\(jobID)/attempt-3.log")

        // Each earlier attempt's outcome is kept on the record.
        let item = try #require(try await deployment.base.item(JobTable.jobKey(jobID)))
        guard case .l(let earlier)? = item["attempts"] else {
            Issue.record("no earlier attempts on the record")
            return
        }
        #expect(earlier.count == 2)
    }

    @Test("an exit code an EXIT rule matches fails at once: one attempt, one notification")
    func exitRuleStops() async throws {
        let deployment = try await ReactorDeployment.create()
        let rules = [RetryStrategy.ExitRule(onExitCode: "2", action: .exit), RetryStrategy.ExitRule(onExitCode: "*", action: .retry)]
        let (name, record, instance) = try await deployment.startedJob("strict", retry: RetryStrategy(attempts: 3, evaluateOnExit: rules))
        let jobID = record.id
        try await deployment.runnerReports(record, exitCode: 2)
        let response = try await deployment.endInstance(instance)
        #expect(response.decision == .failed && response.started == [])
        let final = try await deployment.record(jobID)
        #expect(final.state == .failed && final.attempt == 1)
        #expect(try await deployment.instances(job: name).count == 1)
        #expect(try await deployment.receivedNotifications().count == 1)
    }

    @Test("a retry waits out its backoff: nothing relaunches it early, the sweep relaunches it once it is due")
    func backoffIsHonoured() async throws {
        // A backoff long enough that the early sweep lands inside it on a loaded machine.
        let backoff: Int64 = 8
        let deployment = try await ReactorDeployment.create(backoffSeconds: Int(backoff))
        let (name, record, instance) = try await deployment.startedJob("later", retry: RetryStrategy(attempts: 2))
        let jobID = record.id
        try await deployment.runnerReports(record, exitCode: 1)
        let before = WallClock.unixMilliseconds()
        let response = try await deployment.endInstance(instance)
        #expect(response.decision == .retry && response.started == [])
        let notBefore = try #require(response.notBefore)
        #expect(notBefore >= before + backoff * 1000 && notBefore <= WallClock.unixMilliseconds() + backoff * 1000)
        let waiting = try await deployment.record(jobID)
        #expect(waiting.state == .runnable && waiting.attempt == 2)

        let early = try await deployment.send("retry-reactor-sweep.json")
        #expect(early.outcome == .swept && early.started == [])
        #expect(try await deployment.instances(job: name).count == 1)

        let wait = max(0, notBefore - WallClock.unixMilliseconds()) + 50
        try await Task.sleep(for: .milliseconds(wait))
        let due = try await deployment.send("retry-reactor-sweep.json")
        #expect(due.started == [jobID])
        let restarted = try await deployment.record(jobID)
        #expect(restarted.state == .starting && restarted.attempt == 2)
        #expect(try await deployment.instances(job: name).count == 2)
    }
}
