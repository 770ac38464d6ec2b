import AWSCore
import CurlHTTP
import Foundation
import Launcher
import JobModel
import SortieTestSupport
import Synchronization
import Testing

/// The launcher's requests, counted by DynamoDB operation on their way to moto.
final class CountingTransport: HTTPTransport {
    let operations = Mutex<[String]>([])
    private let upstream = CurlTransport()

    func send(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse {
        if let target = request.headers["X-Amz-Target"], target.hasPrefix("DynamoDB_") {
            operations.withLock { $0.append(String(target.split(separator: ".").last ?? "")) }
        }
        return try upstream.send(request)
    }
}

@Suite("Array submissions through the launcher, against moto")
struct ArrayLaunchTests {
    @Test("an array of 10,000 (the most Batch allows): one parent, the first window of children in one transaction, a handful of DynamoDB requests, not 10,000; the same event again makes nothing more")
    func tenThousand() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("huge")
        try await deployment.publish(testSpec(name, maxConcurrency: 3))
        let transport = CountingTransport()
        let launcher = try deployment.launcher(transport: transport)
        let event = LaunchEvent(job: name, eventID: UUID().uuidString, arraySize: 10_000)
        let response = try await blocking { try launcher.launch(event, requestID: "r", logger: Deployment.quietLogger) }
        #expect(response.outcome == .launched && response.arraySize == 10_000 && response.state == .running)
        let parent = try #require(response.jobID)
        let operations = transport.operations.withLock { $0 }
        // The event and parent; the window's six children; three starts that took a slot and a fourth that found none.
        #expect(operations.filter { $0 == "TransactWriteItems" }.count == 6, "\(operations)")
        #expect(operations.count < 40, "\(operations.count) DynamoDB requests: \(operations)")
        let store = deployment.store
        let records = try await blocking { try store.records(job: name) }
        #expect(records.count == 7 && records.filter { $0.arrayChild != nil }.count == 6)
        #expect(records.filter { $0.state == .starting }.count == 3 && records.filter { $0.state == .runnable }.count == 3)

        let again = try await blocking { try launcher.launch(event, requestID: "r2", logger: Deployment.quietLogger) }
        #expect(again.outcome == .duplicate && again.jobID == parent)
        #expect(try await blocking { try store.records(job: name) }.count == 7)
    }
}
