import AWSCore
import AWSServices
import CurlHTTP
import Foundation
import Launcher
import Logging
import JobModel
import JobStore
import SortieTestSupport
import Synchronization
import TableSchema
import Testing
import WallTime

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

    /// Refuses a RunInstances request with the code `rule` gives for its type, subnet and market
    /// (`nil`: no refusal), recording `type subnet market` for each one refused.
    static func refusing(_ rule: @escaping @Sendable (_ type: String, _ subnet: String, _ market: InstanceSpec.Market) -> String?) -> RefusingEC2 {
        RefusingEC2 { fields in
            func field(_ name: String) -> String {
                fields.first { $0.hasPrefix("\(name)=") }.map { String($0.dropFirst(name.count + 1)) } ?? ""
            }
            let (type, subnet) = (field("InstanceType"), field("SubnetId"))
            let market: InstanceSpec.Market = fields.contains("InstanceMarketOptions.MarketType=spot") ? .spot : .onDemand
            return rule(type, subnet, market).map { Refusal(code: $0, message: "EC2 says \($0) for \(type) in \(subnet)", what: "\(type) \(subnet) \(market.rawValue)") }
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
            // EC2's statuses: its Insufficient*Capacity codes are server errors, the rest client errors.
            let status = refusal.code.hasPrefix("AuthFailure") ? 403 : refusal.code.hasPrefix("Insufficient") ? 500 : 400
            return HTTPResponse(status: status, headers: ["Content-Type": "text/xml"], body: Data(body.utf8))
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
        let jobID = try #require(response.jobID)
        let record = try #require(try await deployment.record(jobID))
        #expect(record.instanceType == "t3.micro" && record.state == .starting)
    }

    @Test("when every type is sold out the job goes back to RUNNABLE with the reason and a backoff, its slot freed; tried again once its shortage outlasts capacity_timeout it is FAILED")
    func allSoldOut() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("soldout")
        var spec = testSpec(name, types: ["c7i.large", "c6i.large"])
        spec.capacityTimeoutSeconds = 1
        try await deployment.publish(spec)
        let metrics = EmittedLines()
        let launcher = try deployment.launcher(transport: RefusingEC2.soldOut(["c7i.large", "c6i.large"]), emit: metrics.emit)
        let before = WallClock.unixMilliseconds()
        let response = try await blocking { try launcher.launch(LaunchEvent(job: name, eventID: "so-\(name)"), requestID: "r", logger: Deployment.quietLogger) }
        #expect(response.outcome == .waiting && response.state == .runnable)
        let jobID = try #require(response.jobID)
        var record = try #require(try await deployment.record(jobID))
        #expect(record.state == .runnable && record.history.map(\.state) == [.submitted, .starting, .runnable])
        #expect(record.statusReason == "No capacity for any instance type (c7i.large: InsufficientInstanceCapacity, c6i.large: InsufficientInstanceCapacity); trying again in 60s, for up to 1s")
        let since = try #require(record.capacityShortSince)
        #expect(since >= before)
        let item = try #require(try await deployment.item(JobTable.jobKey(jobID)))
        #expect(item["gsi2pk"] == .s(JobTable.globalQueue) && item[.notBefore]?.int.map { Int64($0) >= since + 60_000 } == true)
        #expect(try await deployment.slotHolders(job: name).isEmpty)

        // Past its capacity_timeout, the next try (the reactor's, when its backoff has passed) fails it.
        try await Task.sleep(for: .milliseconds(1100))
        let result = try await blocking { () -> Result<LaunchResponse, LaunchError> in
            do throws(LaunchError) {
                return .success(try launcher.starter.start(jobID: jobID, logger: Deployment.quietLogger))
            } catch {
                return .failure(error)
            }
        }
        guard case .failure(.noCapacity(let failedID, let detail)) = result else {
            Issue.record("expected noCapacity, got \(result)")
            return
        }
        #expect(failedID == jobID && detail == "c7i.large: InsufficientInstanceCapacity, c6i.large: InsufficientInstanceCapacity")
        record = try #require(try await deployment.record(jobID))
        #expect(record.state == .failed && record.capacityShortSince == since)
        #expect(record.statusReason?.hasPrefix("No capacity for any instance type for 1s") == true)
        #expect(record.history.map(\.state) == [.submitted, .starting, .runnable, .failed], "the try that found the timeout passed is no entry")
        #expect(try await deployment.slotHolders(job: name).isEmpty)
        #expect(try await deployment.instances(job: name).isEmpty)
        // One ending, FAILED at launch, by the EMF specification's rules: its wait spans the shortage; it never ran.
        let lines = try EmbeddedMetricFormat.documents(in: metrics.log)
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.string("Job") == name && line.string("JobId") == jobID && line.string("Outcome") == "FAILED")
        #expect(line.values("JobsFailed") == [1] && line.values("JobsSucceeded") == [0] && line.values("Attempts") == [1])
        #expect((line.values("QueueWait")?.first ?? 0) >= 1000 && line.values("JobDuration") == nil)
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

    @Test("a job that waits out a capacity shortage: RUNNABLE while every type is sold out, then launched on the first try after capacity returns")
    func waitsOutShortage() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("shortage")
        try await deployment.publish(testSpec(name, types: ["c7i.large", "t3.micro"]))
        let settings = ["SORTIE_CAPACITY_BACKOFF_SECONDS": "0"]
        let soldOut = RefusingEC2.soldOut(["c7i.large", "t3.micro"])
        let short = try deployment.launcher(transport: soldOut, settings: settings)
        let jobID = try #require(try await blocking { try short.launch(LaunchEvent(job: name, eventID: "ws-\(name)"), requestID: "r", logger: Deployment.quietLogger) }.jobID)
        // Two more tries while it lasts: still RUNNABLE, the shortage counted from the first refusal.
        let first = try #require(try await deployment.record(jobID)).capacityShortSince
        for _ in 1...2 {
            let again = try await blocking { try short.starter.start(jobID: jobID, logger: Deployment.quietLogger) }
            #expect(again.outcome == .waiting && again.state == .runnable)
        }
        let waiting = try #require(try await deployment.record(jobID))
        #expect(waiting.history.count == 3 && waiting.statusReason?.hasPrefix("No capacity for any instance type") == true, "\(waiting.history)")
        #expect(try #require(try await deployment.record(jobID)).capacityShortSince == first)
        #expect(soldOut.refused.withLock { Set($0) } == ["c7i.large", "t3.micro"])
        // Capacity is back for t3.micro.
        let recovered = try deployment.launcher(transport: RefusingEC2.soldOut(["c7i.large"]), settings: settings)
        let launched = try await blocking { try recovered.starter.start(jobID: jobID, logger: Deployment.quietLogger) }
        #expect(launched.outcome == .launched && launched.instanceType == "t3.micro")
        // The history holds the first refusal and the launch, not each try (a day's shortage would outgrow the item).
        let record = try #require(try await deployment.record(jobID))
        #expect(record.state == .starting && record.history.map(\.state) == [.submitted, .starting, .runnable, .starting], "\(record.history)")
        #expect(record.history.last?.reason?.hasPrefix("Instance requested: capacity returned after ") == true, "\(record.history)")
        #expect(record.history[2].reason?.hasPrefix("No capacity for any instance type") == true)
        #expect(try await deployment.instances(job: name).map(\.instanceType) == ["t3.micro"])
    }

    /// Two of moto's default subnets, in different Availability Zones.
    private func subnets(_ deployment: Deployment) async throws -> [String] {
        let found = try await blocking {
            try QueryProtocolClient(client: deployment.client, service: .ec2, version: "2016-11-15").call("DescribeSubnets").items("subnetSet")
        }
        var byZone: [String: String] = [:]
        for subnet in found {
            if let zone = subnet.string("availabilityZone"), let id = subnet.string("subnetId"), byZone[zone] == nil { byZone[zone] = id }
        }
        let two = byZone.sorted { $0.key < $1.key }.prefix(2).map(\.value)
        try #require(two.count == 2, "moto lists fewer than two Availability Zones")
        return two
    }

    @Test("spot is tried on every type in every subnet, then on-demand, each capacity error moving on; the instance's market and subnet are recorded on the attempt")
    func subnetsThenFallback() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("fallback")
        let zones = try await subnets(deployment)
        var spec = testSpec(name, types: ["c7i.large", "t3.micro"])
        spec.instance.subnets = zones
        spec.instance.market = .spot
        spec.instance.fallback = .onDemand
        try await deployment.publish(spec)
        let transport = RefusingEC2.refusing { type, subnet, market in
            switch (type, market) {
            case ("c7i.large", .spot): "SpotMaxPriceTooLow"
            case (_, .spot): "MaxSpotInstanceCountExceeded"
            case ("c7i.large", .onDemand): "InsufficientInstanceCapacity"
            case (_, .onDemand): subnet == zones[0] ? "Unsupported" : nil
            }
        }
        let launcher = try deployment.launcher(transport: transport)
        let response = try await blocking { try launcher.launch(LaunchEvent(job: name, eventID: "sf-\(name)"), requestID: "r", logger: Deployment.quietLogger) }
        #expect(response.outcome == .launched && response.instanceType == "t3.micro" && response.market == "on-demand")
        let (a, b) = (zones[0], zones[1])
        #expect(transport.refused.withLock { $0 } == [
            "c7i.large \(a) spot", "c7i.large \(b) spot", "t3.micro \(a) spot", "t3.micro \(b) spot",
            "c7i.large \(a) on-demand", "c7i.large \(b) on-demand", "t3.micro \(a) on-demand",
        ])
        let jobID = try #require(response.jobID)
        let record = try #require(try await deployment.record(jobID))
        #expect(record.state == .starting && record.instanceType == "t3.micro" && record.market == .onDemand && record.subnet == b)
        let instances = try await deployment.instances(job: name)
        #expect(instances.map(\.subnetId) == [b] && instances.first?.instanceLifecycle != "spot")
    }

    @Test("a job waits out a shortage of every type, subnet and market, RUNNABLE with every refusal named, then runs on spot in the subnet that has room")
    func waitsOutShortageAcrossSubnets() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("zones")
        let zones = try await subnets(deployment)
        var spec = testSpec(name, types: ["t3.micro"])
        spec.instance.subnets = zones
        spec.instance.market = .spot
        spec.instance.fallback = .onDemand
        try await deployment.publish(spec)
        let settings = ["SORTIE_CAPACITY_BACKOFF_SECONDS": "0"]
        let short = try deployment.launcher(transport: RefusingEC2.refusing { _, _, market in market == .spot ? "InsufficientInstanceCapacity" : "InstanceLimitExceeded" }, settings: settings)
        let waiting = try await blocking { try short.launch(LaunchEvent(job: name, eventID: "wz-\(name)"), requestID: "r", logger: Deployment.quietLogger) }
        #expect(waiting.outcome == .waiting && waiting.state == .runnable)
        let jobID = try #require(waiting.jobID)
        var record = try #require(try await deployment.record(jobID))
        let (a, b) = (zones[0], zones[1])
        #expect(record.statusReason == "No capacity for any instance type (t3.micro in \(a) spot: InsufficientInstanceCapacity, t3.micro in \(b) spot: InsufficientInstanceCapacity, "
            + "t3.micro in \(a) on-demand: InstanceLimitExceeded, t3.micro in \(b) on-demand: InstanceLimitExceeded); trying again in 0s, for up to 3600s")
        #expect(record.market == nil && record.capacityShortSince != nil)
        #expect(try await deployment.slotHolders(job: name).isEmpty)

        // Spot capacity is back in the second subnet only: the next try (the reactor's walk or sweep) takes it.
        let recovered = try deployment.launcher(transport: RefusingEC2.refusing { _, subnet, market in market == .spot && subnet == b ? nil : "InsufficientInstanceCapacity" }, settings: settings)
        let launched = try await blocking { try recovered.starter.start(jobID: jobID, logger: Deployment.quietLogger) }
        #expect(launched.outcome == .launched && launched.market == "spot")
        record = try #require(try await deployment.record(jobID))
        #expect(record.state == .starting && record.market == .spot && record.subnet == b)
        #expect(record.history.map(\.state) == [.submitted, .starting, .runnable, .starting])
        #expect(try await deployment.instances(job: name).map(\.subnetId) == [b])
    }
}
