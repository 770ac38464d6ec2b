import AWSCore
import AWSServices
import Foundation
import JobModel
import JobStore
import SortieTestSupport
import Testing

/// The array's conditional writes on their own, against moto: creators and counters racing.
@Suite("Array jobs in the job table, against moto")
struct ArrayStoreTests {
    static func table() async throws -> JobStore {
        let server = try await MotoServer.serialized()
        let client = try AWSClient.fromEnvironment(AWSEnvironment(server.environment))
        let name = Deployment.uniqueName("arrays")
        try await blocking { try createJobTable(client, name) }
        return JobStore(dynamoDB: DynamoDB(client: client), table: name)
    }

    /// A RUNNING parent, as the launcher records it.
    static func parent(_ store: JobStore, size: Int, sequential: Bool = false) async throws -> JobRecord {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var record = JobRecord(
            id: UUID().uuidString.lowercased(), job: "fan", parameters: ["date": "2024-05-01"], submittedAt: now,
            array: JobArray(size: size, sequential: sequential))
        record.state = .running
        record.history.append(.init(state: .running, at: now, reason: "Array"))
        let submitted = record
        let outcome = try await blocking { try store.submit(submitted, eventID: UUID().uuidString) }
        #expect(outcome == .created(submitted))
        return record
    }

    @Test("eight creators racing make each child once, no more open than the window; the parent's item keeps only the open indexes")
    func racingCreators() async throws {
        let store = try await Self.table()
        let parent = try await Self.parent(store, size: 100)
        let made = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<8 {
                group.addTask { try await blocking { try store.createChildren(parent.id, window: 30).runnable.map(\.id) } }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(made.count == 30 && Set(made).count == 30)
        let progress = try #require(try await blocking { try store.array(parent.id) }).progress
        #expect(progress.created == 30 && progress.open == Array(0..<30))
        let child = try #require(try await blocking { try store.record(JobArrays.childID(parent.id, 7)) })
        #expect(child.state == .runnable && child.arrayChild == ArrayChild(parent: parent.id, index: 7, size: 100) && child.parameters == parent.parameters)
        #expect(try await blocking { try store.runnable(job: "fan", limit: 100) }.count == 30)
    }

    @Test("a child's ending counted twice, or before it ended, counts once; the parent is decided once, when the last is counted")
    func countingOnce() async throws {
        let store = try await Self.table()
        let parent = try await Self.parent(store, size: 2)
        _ = try await blocking { try store.createChildren(parent.id, window: 2) }
        let runnable = try #require(try await blocking { try store.record(JobArrays.childID(parent.id, 0)) })
        #expect(try await blocking { try store.countChild(runnable) } == false)  // RUNNABLE: not ended
        var ended = runnable
        ended.state = .succeeded
        let counts = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 { group.addTask { [ended] in try await blocking { try store.countChild(ended) } } }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(counts == 1)
        #expect(try await blocking { try store.decideArray(parent.id) } == nil)
        var second = try #require(try await blocking { try store.record(JobArrays.childID(parent.id, 1)) })
        second.state = .failed
        second.statusReason = "Essential step failed"
        let failed = second
        #expect(try await blocking { try store.countChild(failed) })
        let progress = try #require(try await blocking { try store.array(parent.id) }).progress
        #expect(progress.succeeded == 1 && progress.failed == 1 && progress.open.isEmpty)
        let decisions = try await withThrowingTaskGroup(of: JobRecord?.self) { group in
            for _ in 0..<4 { group.addTask { try await blocking { try store.decideArray(parent.id) } } }
            return try await group.reduce(into: []) { $0.append($1) }.compactMap { $0 }
        }
        #expect(decisions.count == 1 && decisions.first?.state == .failed)
        #expect(decisions.first?.statusReason == "1 of 2 children FAILED; first: child 1 (\(failed.id)): Essential step failed")
        #expect(try await blocking { try store.outcome(parent.id) }?.finished == true)
        #expect(try await blocking { try store.activeArrays(limit: 10, after: nil) }.ids.contains(parent.id) == false)
    }
}
