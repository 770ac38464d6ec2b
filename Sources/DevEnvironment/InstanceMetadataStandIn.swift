import Foundation
import LoopbackHTTP
import Synchronization

/// EC2's instance metadata service (IMDSv2) for one instance `sortie dev` boots, on 127.0.0.1:
/// the runner finds it through `AWS_EC2_METADATA_SERVICE_ENDPOINT` and records the instance's id.
/// It serves no credentials (404, as for an instance without a profile): the runner's credential
/// chain takes moto's from the environment first. No spot interruption is pending (404).
final class InstanceMetadataStandIn: Sendable {
    struct Identity: Sendable, Equatable {
        var instanceID: String
        var instanceType: String
        var region: String
    }

    private let server: LoopbackHTTPServer

    var endpoint: String { server.endpoint }

    private init(server: LoopbackHTTPServer) {
        self.server = server
    }

    static func start(_ identity: Identity) async throws -> InstanceMetadataStandIn {
        let service = Service(identity: identity)
        let server = try await LoopbackHTTPServer.start { request in service.respond(to: request) }
        return InstanceMetadataStandIn(server: server)
    }

    func stop() async { await server.stop() }
}

extension InstanceMetadataStandIn {
    /// One instance's answers, and the session tokens it gave out.
    final class Service: Sendable {
        let identity: Identity
        private let tokens = Mutex<Set<String>>([])

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
