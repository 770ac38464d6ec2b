import AWSCore
import CurlHTTP
import Foundation
import Launcher
import Logging
import SortieModel
import SortieTestSupport
import Synchronization
import Testing

/// EC2 between the launcher and moto, refusing some RunInstances requests as EC2 does and moto
/// never does: a sold-out instance type (`InsufficientInstanceCapacity`), or a spot request in an
/// account without the spot service-linked role.
final class RefusingEC2: HTTPTransport {
    struct Refusal {
        var code: String
        var message: String
        /// What `refused` records.
        var what: String
    }

    let refused = Mutex<[String]>([])
    private let refusal: @Sendable (Set<String>) -> Refusal?
    private let upstream = CurlTransport()

    /// `refusal` sees a RunInstances request's form fields (`InstanceType=t3.micro`).
    init(refusal: @escaping @Sendable (Set<String>) -> Refusal?) {
        self.refusal = refusal
    }

    static func soldOut(_ types: Set<String>) -> RefusingEC2 {
        RefusingEC2 { fields in
            types.first { fields.contains("InstanceType=\($0)") }.map {
                Refusal(code: "InsufficientInstanceCapacity", message: "We currently do not have sufficient \($0) capacity.", what: $0)
            }
        }
    }

    /// EC2's answer to the first spot request in an account whose caller may not create AWSServiceRoleForEC2Spot.
    static func spotRoleMissing() -> RefusingEC2 {
        RefusingEC2 { fields in
            guard fields.contains("InstanceMarketOptions.MarketType=spot") else { return nil }
            return Refusal(
                code: "AuthFailure.ServiceLinkedRoleCreationNotPermitted",
                message: "The provided credentials do not have permission to create the service-linked role for EC2 Spot Instances.", what: "spot")
        }
    }

    func send(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse {
        let form = String(decoding: request.body, as: UTF8.self)
        let fields = Set(form.split(separator: "&").map(String.init))
        if fields.contains("Action=RunInstances"), let refusal = refusal(fields) {
            refused.withLock { $0.append(refusal.what) }
            let body = "<Response><Errors><Error><Code>\(refusal.code)</Code><Message>\(refusal.message)</Message></Error></Errors><RequestID>refused</RequestID></Response>"
            return HTTPResponse(status: refusal.code.hasPrefix("AuthFailure") ? 403 : 500, headers: ["Content-Type": "text/xml"], body: Data(body.utf8))
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
        let transport = RefusingEC2.soldOut(["c7i.large"])
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
        let launcher = try deployment.launcher(transport: RefusingEC2.soldOut(["c7i.large", "c6i.large"]))
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

    @Test("a spot launch in an account that never used spot fails the job with a named error that says what to grant")
    func spotRoleMissing() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("spot")
        var spec = testSpec(name)
        spec.instance.market = .spot
        try await deployment.publish(spec)
        let transport = RefusingEC2.spotRoleMissing()
        let launcher = try deployment.launcher(transport: transport)
        let result = try await blocking { () -> Result<LaunchResponse, LaunchError> in
            do throws(LaunchError) {
                return .success(try launcher.launch(LaunchEvent(job: name, eventID: "spot-\(name)"), requestID: "r", logger: Deployment.quietLogger))
            } catch {
                return .failure(error)
            }
        }
        #expect(transport.refused.withLock { $0 } == ["spot"])
        guard case .failure(let error) = result, case .spotRoleMissing(let jobID, let cause) = error else {
            Issue.record("expected spotRoleMissing, got \(result)")
            return
        }
        #expect(error.errorType == "Sortie.SpotRoleMissing")
        #expect(cause.code == "AuthFailure.ServiceLinkedRoleCreationNotPermitted")
        #expect(error.description.contains("iam:CreateServiceLinkedRole") && error.description.contains("aws iam create-service-linked-role --aws-service-name spot.amazonaws.com"))
        let record = try #require(try await deployment.record(jobID))
        #expect(record.state == .failed)
        #expect(record.statusReason?.contains("AWSServiceRoleForEC2Spot") == true)
        #expect(try await deployment.slotHolders(job: name).isEmpty)
    }
}
