import AWSServices
import Foundation
import Launcher
import Reactor
import JobModel
import SortieTestSupport
import Testing

@Suite("Freed slots start waiting jobs, against moto", .serialized)
struct QueueTests {
    @Test("max_concurrency 2 and 5 submitted jobs: success events run all 5, never more than 2 at once, in submission order")
    func drainsInOrder() async throws {
        let deployment = try await ReactorDeployment.create()
        let name = Deployment.uniqueName("batch")
        _ = try await deployment.publish(name, maxConcurrency: 2)
        var submitted: [String] = []
        for day in 1...5 {
            let response = try await deployment.submit(name, arguments: ["date": "2024-05-0\(day)"])
            #expect(response.outcome == (day <= 2 ? .launched : .waiting))
            submitted.append(try #require(response.jobID))
        }
        var started = Array(submitted.prefix(2))
        var finished: [String] = []
        // Each round ends the oldest running job; five rounds end all five.
        for _ in 1...5 {
            let running = started.filter { !finished.contains($0) }
            #expect(running.count <= 2)
            #expect(try await deployment.base.slotHolders(job: name) == Set(running))
            let live = try await deployment.instances(job: name).filter { ["pending", "running"].contains($0.state?.name) }
            #expect(live.count == running.count)
            let oldest = try #require(running.first)
            let record = try await deployment.record(oldest)
            try await deployment.runnerReports(record, exitCode: 0)
            let response = try await deployment.endInstance(try #require(record.instanceID))
            #expect(response.decision == .succeeded && response.jobID == oldest)
            finished.append(oldest)
            started += response.started ?? []
        }
        #expect(started == submitted)
        #expect(finished == submitted)
        for id in submitted {
            let record = try await deployment.record(id)
            #expect(record.state == .succeeded && record.attempt == 1)
        }
        #expect(try await deployment.base.slotHolders(job: name).isEmpty)
        #expect(try await deployment.receivedNotifications().isEmpty)
    }

    @Test("a higher-priority kind waiting for the global limit starts before older jobs of a lower one")
    func priorityFirst() async throws {
        let deployment = try await ReactorDeployment.create(extra: ["SORTIE_MAX_RUNNING": "1"])
        let (low, high) = (Deployment.uniqueName("low"), Deployment.uniqueName("high"))
        _ = try await deployment.publish(low, maxConcurrency: 5)
        _ = try await deployment.publish(high, maxConcurrency: 5, priority: 10)
        let first = try #require(try await deployment.submit(low).jobID)
        let olderLow = try #require(try await deployment.submit(low).jobID)
        let newerHigh = try #require(try await deployment.submit(high).jobID)
        let record = try await deployment.record(first)
        try await deployment.runnerReports(record, exitCode: 0)
        let response = try await deployment.endInstance(try #require(record.instanceID))
        #expect(response.started == [newerHigh])
        #expect(try await deployment.record(olderLow).state == .runnable)
    }
}
