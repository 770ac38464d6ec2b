import AWSCore
import CurlHTTP
import Foundation
import Launcher
import Logging
import SortieModel
import SortieTestSupport
import Synchronization
import Testing

/// EC2 between the launcher and moto, refusing RunInstances for some instance types with
/// `InsufficientInstanceCapacity`, as EC2 does when a type is sold out (moto never does).
final class SoldOutTransport: HTTPTransport {
    let soldOut: Set<String>
    let refused = Mutex<[String]>([])
    private let upstream = CurlTransport()

    init(soldOut: Set<String>) {
        self.soldOut = soldOut
    }

    func send(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse {
        let form = String(decoding: request.body, as: UTF8.self)
        let fields = Set(form.split(separator: "&").map(String.init))
        if fields.contains("Action=RunInstances"), let type = soldOut.first(where: { fields.contains("InstanceType=\($0)") }) {
            refused.withLock { $0.append(type) }
            let body = "<Response><Errors><Error><Code>InsufficientInstanceCapacity</Code><Message>We currently do not have sufficient \(type) capacity.</Message></Error></Errors><RequestID>sold-out</RequestID></Response>"
            return HTTPResponse(status: 500, headers: ["Content-Type": "text/xml"], body: Data(body.utf8))
        }
        return try upstream.send(request)
    }
}

@Suite("Capacity fallback", .serialized)
struct CapacityTests {
    @Test("a sold-out first type falls back to the next listed type")
    func fallsBack() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("fallback")
        try await deployment.publish(testSpec(name, types: ["c7i.large", "t3.micro"]))
        let transport = SoldOutTransport(soldOut: ["c7i.large"])
        let launcher = try deployment.launcher(transport: transport)
        let response = try await blocking { try launcher.launch(LaunchEvent(job: name, eventID: "fb-\(name)"), requestID: "r", logger: Deployment.quietLogger) }
        #expect(response.outcome == .launched && response.instanceType == "t3.micro")
        #expect(transport.refused.withLock { Set($0) } == ["c7i.large"])
        let instances = try await deployment.instances(job: name)
        #expect(instances.map(\.instanceType) == ["t3.micro"])
        let jobID = try #require(response.jobId)
        let record = try #require(try await deployment.record(jobID))
        #expect(record.instanceType == "t3.micro" && record.state == .starting)
    }

    @Test("when every type is sold out the job is FAILED with the reason, its slot is freed, and the error says so")
    func allSoldOut() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("soldout")
        try await deployment.publish(testSpec(name, types: ["c7i.large", "c6i.large"]))
        let launcher = try deployment.launcher(transport: SoldOutTransport(soldOut: ["c7i.large", "c6i.large"]))
        let result = try await blocking { () -> Result<LaunchResponse, LaunchError> in
            do throws(LaunchError) {
                return .success(try launcher.launch(LaunchEvent(job: name, eventID: "so-\(name)"), requestID: "r", logger: Deployment.quietLogger))
            } catch {
                return .failure(error)
            }
        }
        guard case .failure(.noCapacity(let jobID, let detail)) = result else {
            Issue.record("expected noCapacity, got \(result)")
            return
        }
        #expect(detail == "c7i.large: InsufficientInstanceCapacity, c6i.large: InsufficientInstanceCapacity")
        let record = try #require(try await deployment.record(jobID))
        #expect(record.state == .failed)
        #expect(record.statusReason?.contains("No capacity for any instance type") == true)
        #expect(record.history.map(\.state) == [.submitted, .starting, .failed])
        #expect(try await deployment.slotHolders(job: name).isEmpty)
        #expect(try await deployment.instances(job: name).isEmpty)
    }
}
