import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import Launcher
import Reactor
import JobModel
import JobStore
import SortieTestSupport
import Testing
import WallTime

@Suite("Endings without a final record, duplicates and the sweep, against moto", .serialized)
struct EndingTests {
    @Test("a spot reclaim (interruption warning, then terminated) with no final record is retried")
    func spotReclaimRetried() async throws {
        let deployment = try await ReactorDeployment.create()
        let (_, record, instance) = try await deployment.startedJob("spot", retry: RetryStrategy(attempts: 2))
        let jobID = record.id
        try await deployment.runnerBegins(record, heartbeatAt: WallClock.unixMilliseconds())
        let warned = try await deployment.send("ec2-spot-interruption-warning.json", instanceID: instance)
        #expect(warned.outcome == .noted && warned.jobID == jobID)

        let response = try await deployment.endInstance(instance)
        #expect(response.decision == .retry && response.started == [jobID])
        let retried = try await deployment.record(jobID)
        #expect(retried.state == .starting && retried.attempt == 2 && retried.instanceID != instance)
        #expect(retried.history.contains { $0.state == .failed && $0.reason == "Host EC2 (instance \(instance)) terminated." })
        #expect(try await deployment.receivedNotifications().isEmpty)
    }

    @Test("a job terminated by hand, with no final record, is FAILED as lost with EC2's reason, not retried, and notified")
    func handTerminationNotRetried() async throws {
        let deployment = try await ReactorDeployment.create()
        let (name, record, instance) = try await deployment.startedJob("manual", retry: RetryStrategy(attempts: 3))
        let jobID = record.id
        try await deployment.runnerBegins(record, heartbeatAt: WallClock.unixMilliseconds())

        let response = try await deployment.endInstance(instance)
        #expect(response.decision == .failed && response.started == [])
        let failed = try await deployment.record(jobID)
        #expect(failed.state == .failed && failed.attempt == 1)
        #expect(failed.statusReason == "Lost: instance \(instance) was terminated through the EC2 API before the runner's final record")
        #expect(failed.reason?.hasPrefix("Client.UserInitiatedShutdown") == true)
        #expect(try await deployment.base.slotHolders(job: name).isEmpty)
        #expect(try await deployment.instances(job: name).count == 1)
        #expect(try await deployment.receivedNotifications().count == 1)
        // Delivered again: nothing more.
        let again = try await deployment.send("ec2-state-change-terminated.json", instanceID: instance)
        #expect(again.outcome == .duplicate)
        #expect(try await deployment.receivedNotifications().isEmpty)
    }

    @Test("duplicate and out-of-order events (terminated twice at once, again later, then shutting-down and stopped) make one decision and one relaunch")
    func duplicatesRelaunchOnce() async throws {
        let deployment = try await ReactorDeployment.create()
        let (name, record, instance) = try await deployment.startedJob("dup", retry: RetryStrategy(attempts: 3))
        let jobID = record.id
        try await deployment.runnerReports(record, exitCode: 1)
        try await deployment.terminate(instance)

        async let first = deployment.send("ec2-state-change-terminated.json", instanceID: instance)
        async let second = deployment.send("ec2-state-change-terminated.json", instanceID: instance)
        let together = try await [first, second]
        #expect(together.filter { $0.outcome == .decided }.count == 1)
        #expect(together.flatMap { $0.started ?? [] } == [jobID])
        let later = [
            try await deployment.send("ec2-state-change-terminated.json", instanceID: instance),
            try await deployment.send("ec2-state-change-shutting-down.json", instanceID: instance),
            try await deployment.send("ec2-state-change-stopped.json", instanceID: instance),
        ]
        #expect(later.map(\.outcome) == [.stale, .ignored, .stale])
        #expect(later.allSatisfy { ($0.started ?? []).isEmpty })
        let retried = try await deployment.record(jobID)
        #expect(retried.state == .starting && retried.attempt == 2)
        #expect(try await deployment.instances(job: name).count == 2)
    }

    @Test("the sweep recovers a job whose terminated event was never delivered: decided, retried and relaunched")
    func sweepRecoversMissedEvent() async throws {
        let deployment = try await ReactorDeployment.create()
        let (_, record, instance) = try await deployment.startedJob("missed", retry: RetryStrategy(attempts: 2))
        let jobID = record.id
        try await deployment.runnerReports(record, exitCode: 1)
        try await deployment.terminate(instance)

        let swept = try await deployment.send("retry-reactor-sweep.json")
        #expect(swept.outcome == .swept && swept.recovered == [jobID] && swept.started == [jobID])
        let retried = try await deployment.record(jobID)
        #expect(retried.state == .starting && retried.attempt == 2)
        let again = try await deployment.send("retry-reactor-sweep.json")
        #expect(again.recovered == [] && again.started == [])
        // The recovered decision's line, and each sweep's queue age (nothing left waiting: 0).
        let lines = try EmbeddedMetricFormat.documents(in: deployment.metrics.log)
        #expect(lines.compactMap { $0.string("Outcome") } == ["RETRY"])
        #expect(lines.compactMap { $0.values("OldestRunnableAge") } == [[0], [0]])
        // Jobs by state as the second sweep found them: the relaunched attempt holds its slot, none waits.
        #expect(lines.compactMap { $0.values("ActiveJobs") }.last == [1] && lines.compactMap { $0.values("RunnableJobs") }.last == [0])
        #expect(lines.compactMap { $0.values("PendingJobs") }.last == [0])
    }

    @Test("the sweep reads the attempts of the ended instances EC2 still lists a hundred to a request, and reacts only to the undecided: a decided job's instance costs no read of its own")
    func sweepSkipsDecided() async throws {
        let deployment = try await ReactorDeployment.create()
        var decided: [String] = []
        for _ in 0..<3 {
            let (_, record, instance) = try await deployment.startedJob("decided", retry: RetryStrategy(attempts: 1))
            try await deployment.runnerReports(record, exitCode: 0)
            #expect(try await deployment.endInstance(instance).outcome == .decided)
            decided.append(record.id)
        }
        let (_, missed, instance) = try await deployment.startedJob("missed", retry: RetryStrategy(attempts: 1))
        try await deployment.runnerReports(missed, exitCode: 0)
        try await deployment.terminate(instance)

        let limits = try DynamoDBLimits()
        let reactor = Reactor(
            configuration: try ReactorConfiguration.fromEnvironment(deployment.environment),
            client: AWSClient(try AWSConfiguration.fromEnvironment(AWSEnvironment(deployment.environment), transport: limits)), emit: { _ in })
        let event = try JSONDecoder().decode(ReactorEvent.self, from: ReactorDeployment.event("retry-reactor-sweep.json", instanceID: nil))
        let swept = try await blocking { try reactor.handle(event, logger: ReactorDeployment.logger) }
        #expect(swept.recovered == [missed.id])
        #expect(try await deployment.record(missed.id).state == .succeeded)
        let reads = limits.sent.filter { $0.operation == "GetItem" }.compactMap(\.key)
        #expect(!reads.contains { key in decided.contains { key.contains($0) } }, "\(reads)")
        #expect(reads.contains { $0.contains(missed.id) })
        #expect(limits.sent.filter { $0.operation == "BatchGetItem" }.count >= 1)
    }

    @Test("the sweep goes on past a waiting job whose spec cannot be read: the job queued behind it starts")
    func sweepSkipsUnreadableSpec() async throws {
        let deployment = try await ReactorDeployment.create(extra: ["SORTIE_MAX_RUNNING": "1"])
        let (first, gone, next) = (Deployment.uniqueName("first"), Deployment.uniqueName("gone"), Deployment.uniqueName("next"))
        for name in [first, gone, next] { _ = try await deployment.publish(name) }
        let running = try await deployment.record(try #require(try await deployment.submit(first).jobID))
        let stuck = try #require(try await deployment.submit(gone).jobID)
        let behind = try #require(try await deployment.submit(next).jobID)
        // Republished broken while it waits: starting it fails, as an unpublished (404) or unreadable (403) one does.
        let (client, bucket) = (deployment.client, deployment.bucket)
        try await blocking { try S3(client: client).putObject(bucket: bucket, key: "specs/\(gone).json", body: Data("not json".utf8)) }
        try await deployment.runnerReports(running, exitCode: 0)
        try await deployment.terminate(try #require(running.instanceID))

        let swept = try await deployment.send("retry-reactor-sweep.json")
        #expect(swept.outcome == .swept && swept.recovered == [running.id] && swept.started == [behind])
        #expect(try await deployment.record(stuck).state == .runnable)
        #expect(try await deployment.record(behind).state == .starting)
    }

    @Test("the sweep ends a RUNNING job whose heartbeat stopped: its instance is terminated and the job retried")
    func sweepEndsSilentJob() async throws {
        let deployment = try await ReactorDeployment.create(extra: ["SORTIE_HEARTBEAT_TIMEOUT_SECONDS": "60"])
        let (name, record, instance) = try await deployment.startedJob("silent", retry: RetryStrategy(attempts: 2))
        let jobID = record.id
        try await deployment.runnerBegins(record, heartbeatAt: WallClock.unixMilliseconds() - 120_000)

        let swept = try await deployment.send("retry-reactor-sweep.json")
        #expect(swept.recovered == [jobID] && swept.started == [jobID])
        let retried = try await deployment.record(jobID)
        #expect(retried.attempt == 2 && retried.state == .starting)
        #expect(retried.history.contains { $0.state == .failed && $0.reason == "Heartbeat stopped" })
        let old = try await deployment.instances(job: name).first { $0.instanceId == instance }
        #expect(old?.state?.name == "terminated")
        // The terminated event that follows is about an attempt already decided.
        let late = try await deployment.send("ec2-state-change-terminated.json", instanceID: instance)
        #expect(late.outcome == .stale)
    }

    @Test("the sweep ends a RUNNING job past its timeout, heartbeat or not: its instance is terminated and the job FAILED once attempts run out")
    func sweepEndsOverdueJob() async throws {
        let deployment = try await ReactorDeployment.create(extra: ["SORTIE_HEARTBEAT_TIMEOUT_SECONDS": "0"])
        let name = Deployment.uniqueName("overdue")
        _ = try await deployment.publish(name, timeoutSeconds: 1)
        let record = try await deployment.record(try #require(try await deployment.submit(name).jobID))
        try await deployment.runnerBegins(record, heartbeatAt: WallClock.unixMilliseconds() + 60_000)
        try await Task.sleep(for: .milliseconds(1100))

        let swept = try await deployment.send("retry-reactor-sweep.json")
        #expect(swept.recovered == [record.id] && swept.started == [])
        let failed = try await deployment.record(record.id)
        #expect(failed.state == .failed && failed.attempt == 1 && failed.statusReason == "Job attempt duration exceeded timeout")
        #expect(try await deployment.instances(job: name).first?.state?.name == "terminated")
        #expect(try await deployment.receivedNotifications().count == 1)
        #expect(try await deployment.base.slotHolders(job: name).isEmpty)
    }

    @Test("the sweep ends a STARTING job whose runner never reported in: its instance is terminated and the job retried; one still within its time is left alone")
    func sweepEndsJobThatNeverStarted() async throws {
        let patient = try await ReactorDeployment.create()
        let (_, waiting, _) = try await patient.startedJob("patient", retry: RetryStrategy(attempts: 2))
        let untouched = try await patient.send("retry-reactor-sweep.json")
        #expect(untouched.recovered == [] && untouched.started == [])
        #expect(try await patient.record(waiting.id).state == .starting)

        let deployment = try await ReactorDeployment.create(extra: ["SORTIE_START_TIMEOUT_SECONDS": "0"])
        let (name, record, instance) = try await deployment.startedJob("stuck", retry: RetryStrategy(attempts: 2))
        try await Task.sleep(for: .milliseconds(5))
        let swept = try await deployment.send("retry-reactor-sweep.json")
        #expect(swept.recovered == [record.id] && swept.started == [record.id])
        let retried = try await deployment.record(record.id)
        #expect(retried.attempt == 2 && retried.state == .starting)
        #expect(retried.history.contains { $0.state == .failed && $0.reason == "Instance \(instance) did not start the runner within 0s" })
        let old = try await deployment.instances(job: name).first { $0.instanceId == instance }
        #expect(old?.state?.name == "terminated")
    }

    @Test("events for instances that are not Sortie's are acknowledged and ignored")
    func foreignInstancesIgnored() async throws {
        let deployment = try await ReactorDeployment.create()
        let ec2 = deployment.ec2
        let foreign = try await blocking {
            try ec2.runInstances(.init(imageId: "ami-0abcdef1234567890", instanceType: "t3.micro", clientToken: UUID().uuidString)).instances.first?.instanceId
        }
        let instance = try #require(foreign)
        try await deployment.terminate(instance)
        #expect(try await deployment.send("ec2-state-change-terminated.json", instanceID: instance).outcome == .ignored)
        #expect(try await deployment.send("ec2-spot-interruption-warning.json", instanceID: instance).outcome == .ignored)
        #expect(try await deployment.send("ec2-state-change-terminated.json", instanceID: "i-0123456789abcdef0").outcome == .ignored)
    }
}
