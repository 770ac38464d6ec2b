import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import JobModel
import JobStore
import SortieTestSupport
import Testing

/// A job's transition whose answer is lost after DynamoDB carried it out: the SDK's retry sends the
/// same write again, which then fails its own condition. It must count as done, not as moved by
/// another writer (the caller would skip the notification, metrics and the next step).
@Suite("Job transitions whose answers are lost, against moto")
struct LostAnswerTests {
    @Test("a transition carried out whose answer is lost is done (true) with one history entry; a real conflict is still false")
    func lostAnswer() async throws {
        let server = try await MotoServer.serialized()
        let limits = try DynamoDBLimits()
        let client = AWSClient(try AWSConfiguration.fromEnvironment(AWSEnvironment(server.environment), transport: limits))
        let name = Deployment.uniqueName("lost")
        try await blocking { try createJobTable(client, name) }
        let store = JobStore(dynamoDB: DynamoDB(client: client), table: name)
        let record = JobRecord(id: UUID().uuidString.lowercased(), job: "lost", parameters: [:], submittedAt: Int64(Date().timeIntervalSince1970 * 1000))
        #expect(try await blocking { try store.submit(record, eventID: UUID().uuidString) } == .created(record))

        limits.loseAnswer(next: 1, of: "UpdateItem")
        let moved = try await blocking { try store.transition(record.id, attempt: 1, from: [.submitted], to: .runnable, reason: "Waiting for a slot") }
        #expect(moved, "its own landed write is not another writer's")
        #expect(limits.sent.filter { $0.operation == "UpdateItem" }.count == 2, "sent again after the lost answer")
        let after = try #require(try await blocking { try store.record(record.id) })
        #expect(after.state == .runnable && after.history.filter { $0.state == .runnable }.count == 1, "\(after.history)")

        // Another writer's move: the same transition, written again by someone else, is refused.
        let again = try await blocking { try store.transition(record.id, attempt: 1, from: [.submitted], to: .runnable, reason: "Waiting for a slot") }
        #expect(!again)
    }
}
