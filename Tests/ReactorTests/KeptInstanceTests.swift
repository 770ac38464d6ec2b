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

/// `no_shutdown` (the spec's, or a submission's override): the runner's final record frees the
/// slots and the instance stays up; the sweep decides the attempt without waiting for it to end.
@Suite("Kept instances (no_shutdown), against moto", .serialized)
struct KeptInstanceTests {
    @Test("a job kept for debugging by a submission's override: FAILED by its runner, the slot freed at once, decided and notified by the next sweep while the instance runs; its later termination changes nothing")
    func keptAttemptDecided() async throws {
        let deployment = try await ReactorDeployment.create()
        let name = Deployment.uniqueName("keep")
        var spec = try await deployment.publish(name)
        spec.overrides = ["no_shutdown"]
        try await deployment.base.publish(spec)
        let response = try await deployment.launch(LaunchEvent(job: name, eventID: UUID().uuidString, overrides: ["no_shutdown": "true"]))
        let record = try await deployment.record(try #require(response.jobID))
        let instanceID = try #require(record.instanceID)
        let instance = try #require(try await deployment.instances(job: name).first)
        #expect(instance.tag("sortie:keep") == "true")

        try await deployment.runnerReports(record, exitCode: 3)
        #expect(try await deployment.base.slotHolders(job: name).isEmpty)
        #expect(try await deployment.base.item(JobTable.jobKey(record.id))?[.settledAt] == nil)

        let swept = try await deployment.send("retry-reactor-sweep.json")
        #expect(swept.recovered?.contains(record.id) == true)
        let decided = try await deployment.record(record.id)
        #expect(decided.state == .failed && decided.attempt == 1)
        #expect(try await deployment.base.item(JobTable.jobKey(record.id))?[.settledAt] != nil)
        #expect(try await deployment.receivedNotifications().count == 1)
        #expect(try await deployment.instances(job: name).first?.state?.name == "running")

        // Swept again, then the kept instance ended (`sortie cancel`): decided once.
        #expect(try await deployment.send("retry-reactor-sweep.json").recovered?.contains(record.id) != true)
        let ended = try await deployment.endInstance(instanceID)
        #expect(ended.outcome == .duplicate)
        #expect(try await deployment.receivedNotifications().isEmpty)
    }

    @Test("the runner's AttemptEnded event (sent once its final record is written on a kept instance) decides the attempt at once and starts the next waiting job; sent again, or for another attempt, it changes nothing")
    func attemptEndedDecidesAtOnce() async throws {
        let deployment = try await ReactorDeployment.create()
        let name = Deployment.uniqueName("kept")
        var spec = try await deployment.publish(name)
        spec.noShutdown = true
        try await deployment.base.publish(spec)
        let first = try await deployment.record(try #require(try await deployment.submit(name).jobID))
        let waiting = try #require(try await deployment.submit(name).jobID)
        #expect(try await deployment.record(waiting).state == .runnable)
        try await deployment.runnerReports(first, exitCode: 0)

        func send(_ ended: AttemptEnded) async throws -> ReactorResponse {
            let event = try JSONDecoder().decode(ReactorEvent.self, from: try ended.event)
            #expect(event.kind == .attemptEnded(ended))
            let reactor = try deployment.reactor()
            return try await blocking { try reactor.handle(event, logger: ReactorDeployment.logger) }
        }
        let response = try await send(AttemptEnded(jobID: first.id, attempt: 1))
        #expect(response.outcome == .decided && response.decision == .succeeded && response.started == [waiting])
        #expect(try await deployment.base.item(JobTable.jobKey(first.id))?[.settledAt] != nil)
        #expect(try await deployment.record(waiting).state == .starting)
        #expect(try await deployment.instances(job: name).allSatisfy { $0.state?.name == "running" })

        #expect(try await send(AttemptEnded(jobID: first.id, attempt: 1)).outcome == .duplicate)
        #expect(try await send(AttemptEnded(jobID: first.id, attempt: 2)).outcome == .stale)
        #expect(try await send(AttemptEnded(jobID: waiting, attempt: 1)).outcome == .stale)
    }
}
