import AWSCore
import AWSServices
import Foundation
import JobCancel
import JobModel
import JobStore
import SortieTestSupport
import Testing

/// The cancel's table writes against moto; the instances' side runs in the `sortie cancel` tests.
@Suite("An operator's cancel, against moto")
struct JobCancellerTests {
    static func canceller() async throws -> JobCanceller {
        let deployment = try await Deployment.create()
        return JobCanceller(store: deployment.store, ec2: EC2(client: deployment.client), reason: "Cancelled by ops")
    }

    @Test("an array's parent: FAILED at once; a queued child's start after it is refused and the child ended and counted, never STARTING; the cancel ends the other unstarted children; again: already ended")
    func array() async throws {
        let canceller = try await Self.canceller()
        let store = canceller.store
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var parent = JobRecord(id: UUID().uuidString.lowercased(), job: "fan", parameters: [:], submittedAt: now, array: JobArray(size: 6))
        parent.state = .running
        let running = parent
        _ = try await blocking { try store.submit(running, eventID: UUID().uuidString) }
        let made = try await blocking { try store.createChildren(running.id, window: 4) }
        #expect(made.runnable.count == 4)

        // The parent moves first (as a cancel does); a start of a child queued before it is refused in its slot transaction.
        #expect(try await blocking { try store.cancelArray(running, reason: "Cancelled by ops") })
        let queued = made.runnable[3]
        let start = try await blocking { try store.start(queued, maxConcurrency: 10, globalLimit: 100) }
        guard case .moved(let ended?) = start else { Issue.record("started: \(start)"); return }
        #expect(ended.state == .failed && ended.statusReason == "Array \(running.id) ended before this child started: Cancelled by ops", "\(ended)")
        #expect(!ended.history.contains { $0.state == .starting })
        #expect(try await blocking { try store.slotHolders() }.isEmpty, "no slot taken")
        let after = try await blocking { try store.createChildren(running.id, window: 4) }
        #expect(after.runnable.isEmpty && after.failed.isEmpty, "no child made after it")

        // The canceller, on the FAILED parent: the three others, unstarted, FAILED and counted.
        let failed = try #require(try await blocking { try store.record(running.id) })
        guard case .array(let cancel) = try await blocking({ try canceller.cancel(failed) }) else { Issue.record("not an array's cancel"); return }
        #expect(cancel.unstarted == made.runnable.prefix(3).map(\.id) && cancel.terminating.isEmpty)
        let progress = try #require(try await blocking { try store.array(running.id) }?.progress)
        #expect(progress.open.isEmpty && progress.failed == 4 && progress.created == 4, "\(progress)")
        for child in made.runnable.prefix(3) {
            #expect(try await blocking { try store.record(child.id) }?.statusReason == "Cancelled by ops")
        }
        do {
            _ = try await blocking { try canceller.cancel(failed) }
            Issue.record("cancelled twice")
        } catch let error as CancelError {
            #expect(error.description == "job \(running.id) has already ended: FAILED")
        }
    }

    @Test("a job that never started: FAILED and its PENDING dependent with it; a started one without an instance yet: try again")
    func unstarted() async throws {
        let canceller = try await Self.canceller()
        let store = canceller.store
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var first = JobRecord(id: UUID().uuidString.lowercased(), job: "extract", parameters: [:], submittedAt: now)
        first.state = .runnable
        var second = JobRecord(id: UUID().uuidString.lowercased(), job: "load", parameters: [:], submittedAt: now, dependsOn: [first.id])
        second.state = .pending
        let (a, b) = (first, second)
        _ = try await blocking { try store.submit(a, eventID: UUID().uuidString) }
        _ = try await blocking { try store.submit(b, eventID: UUID().uuidString) }
        guard case .unstarted(let dependents) = try await blocking({ try canceller.cancel(a) }) else { Issue.record("not unstarted"); return }
        #expect(dependents.map(\.id) == [b.id] && dependents.first?.statusReason?.hasSuffix("FAILED: Cancelled by ops") == true, "\(dependents)")
        #expect(try await blocking { try store.record(a.id) }?.state == .failed)

        var starting = JobRecord(id: UUID().uuidString.lowercased(), job: "extract", parameters: [:], submittedAt: now)
        starting.state = .starting
        let c = starting
        _ = try await blocking { try store.submit(c, eventID: UUID().uuidString) }
        #expect(throws: CancelError.self) { try canceller.cancel(c) }
    }
}
