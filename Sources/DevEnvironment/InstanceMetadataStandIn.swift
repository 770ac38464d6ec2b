import Foundation
import LoopbackHTTP
import Synchronization

/// EC2's instance metadata service (IMDSv2) for one instance `sortie dev` boots, on 127.0.0.1:
/// the runner finds it through `AWS_EC2_METADATA_SERVICE_ENDPOINT` and records the instance's id.
/// It serves no credentials (404, as for an instance without a profile): the runner's credential
/// chain takes moto's from the environment first. No spot interruption is pending (404) until
/// a test's `giveSpotNotice` says EC2 is reclaiming the instance.
public final class InstanceMetadataStandIn: Sendable {
    public struct Identity: Sendable, Equatable {
        public var instanceID: String
        public var instanceType: String
        public var region: String
        public init(instanceID: String, instanceType: String, region: String) {
            self.instanceID = instanceID
            self.instanceType = instanceType
            self.region = region
        }
    }

    private let server: LoopbackHTTPServer
    private let service: Service

    public var endpoint: String { server.endpoint }

    private init(server: LoopbackHTTPServer, service: Service) {
        self.server = server
        self.service = service
    }

    public static func start(_ identity: Identity) async throws -> InstanceMetadataStandIn {
        let service = Service(identity: identity)
        let server = try await LoopbackHTTPServer.start { request in service.respond(to: request) }
        return InstanceMetadataStandIn(server: server, service: service)
    }

    /// From now on `spot/instance-action` answers EC2's notice: the instance is terminated at `time`.
    public func giveSpotNotice(time: String) {
        service.spotNotice.withLock { $0 = #"{"action": "terminate", "time": "\#(time)"}"# }
    }

    /// How many times the notice was asked for, answered or not.
    public var spotNoticeReads: Int { service.spotNoticeReads.withLock { $0 } }

    public func stop() async { await server.stop() }
}

extension InstanceMetadataStandIn {
    /// One instance's answers, and the session tokens it gave out.
    final class Service: Sendable {
        let identity: Identity
        private let tokens = Mutex<Set<String>>([])
        let spotNotice = Mutex<String?>(nil)
        let spotNoticeReads = Mutex(0)

        init(identity: Identity) {
            self.identity = identity
        }

        /// IMDSv2 only: a token from `PUT /latest/api/token` (which needs its TTL header), then that
        /// token on every `GET`; tokens live as long as the stand-in (a `sortie dev` instance is short-lived).
        func respond(to request: LoopbackRequest) -> LoopbackResponse {
            if request.path == "/latest/api/token" {
                guard request.method == "PUT" else { return text(405, "Method Not Allowed") }
                guard let ttl = request.header("X-aws-ec2-metadata-token-ttl-seconds").flatMap(Int.init), (1...21_600).contains(ttl) else {
                    return text(400, "Bad Request")
                }
                let token = UUID().uuidString
                tokens.withLock { _ = $0.insert(token) }
                return LoopbackResponse(status: 200, headers: [("X-aws-ec2-metadata-token-ttl-seconds", String(ttl))], body: Array(token.utf8))
            }
            guard request.method == "GET" else { return text(405, "Method Not Allowed") }
            guard let token = request.header("X-aws-ec2-metadata-token"), tokens.withLock({ $0.contains(token) }) else { return text(401, "Unauthorized") }
            if request.path == "/latest/meta-data/spot/instance-action" {
                spotNoticeReads.withLock { $0 += 1 }
                return spotNotice.withLock { $0 }.map { LoopbackResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array($0.utf8)) }
                    ?? text(404, "Not Found")
            }
            let values = [
                "/latest/meta-data/instance-id": identity.instanceID,
                "/latest/meta-data/instance-type": identity.instanceType,
                "/latest/meta-data/placement/region": identity.region,
                "/latest/meta-data/placement/availability-zone": identity.region + "a",
            ]
            guard let value = values[request.path] else { return text(404, "Not Found") }
            return text(200, value)
        }

        private func text(_ status: Int, _ body: String) -> LoopbackResponse {
            LoopbackResponse(status: status, headers: [("Content-Type", "text/plain")], body: Array(body.utf8))
        }
    }
}
