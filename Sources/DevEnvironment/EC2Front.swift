import AWSCore
import CurlHTTP
import Foundation
import LocalAWS
import Logging
import LoopbackHTTP
import Synchronization

/// EC2 on 127.0.0.1 for `sortie dev`'s functions: every request goes on to moto as it came, except
/// RunInstances for an instance type staged as sold out, which is refused as EC2 refuses it when it
/// has no capacity (moto always has): `InsufficientInstanceCapacity`, a server error. So a spec's
/// fallback types, `capacity_timeout` and the jobs left RUNNABLE can be tried on a laptop.
/// `GET`/`PUT /sortie-dev/capacity` (`{"soldOut": ["t3.micro"]}`) reads and stages the shortage:
/// what `sortie dev capacity` sends.
public final class EC2Front: Sendable {
    public static let controlPath = "/sortie-dev/capacity"

    private let server: LoopbackHTTPServer
    private let shortage: Shortage

    public var endpoint: String { server.endpoint }

    /// The instance types refused now.
    public var soldOut: Set<String> {
        get { shortage.soldOut.withLock { $0 } }
        set { shortage.soldOut.withLock { $0 = newValue } }
    }

    /// How many RunInstances requests were refused so far.
    public var refusals: Int { shortage.refusals.withLock { $0 } }

    private init(server: LoopbackHTTPServer, shortage: Shortage) {
        self.server = server
        self.shortage = shortage
    }

    static func start(moto: String, soldOut: Set<String>, logger: Logger) async throws -> EC2Front {
        let shortage = Shortage(soldOut: soldOut)
        let server = try await LoopbackHTTPServer.start { request in
            if request.path == Self.controlPath { return shortage.control(request) }
            if let type = shortage.refusedType(request) {
                logger.notice("EC2: RunInstances for \(type) refused: staged as sold out")
                return Self.insufficientCapacity(type)
            }
            return await Self.forward(request, to: moto)
        }
        return EC2Front(server: server, shortage: shortage)
    }

    func stop() async {
        await server.stop()
    }

    /// EC2's answer when a type has no capacity in the zone: a Query-protocol error, HTTP 500.
    static func insufficientCapacity(_ type: String) -> LoopbackResponse {
        let body = "<Response><Errors><Error><Code>InsufficientInstanceCapacity</Code><Message>We currently do not have sufficient \(type) capacity in the "
            + "Availability Zone you requested. Our system will be working on provisioning additional capacity.</Message></Error></Errors>"
            + "<RequestID>\(UUID().uuidString.lowercased())</RequestID></Response>"
        return LoopbackResponse(status: 500, headers: [("Content-Type", "text/xml;charset=UTF-8")], body: Array(body.utf8))
    }

    /// The request as it came, to moto; its answer as moto gave it (framing headers are the server's own).
    private static func forward(_ request: LoopbackRequest, to moto: String) async -> LoopbackResponse {
        let framing: Set<String> = ["host", "content-length", "connection", "transfer-encoding", "expect"]
        let headers = HTTPHeaders(request.headers.filter { !framing.contains($0.name.lowercased()) }.map { ($0.name, $0.value) })
        let onward = HTTPRequest(method: request.method, url: moto + request.uri, headers: headers, body: Data(request.body))
        do {
            let answer = try await blocking { try CurlTransport().send(onward) }
            return LoopbackResponse(
                status: answer.status, headers: answer.headers.filter { !framing.contains($0.name.lowercased()) }.map { ($0.name, $0.value) },
                body: Array(answer.body))
        } catch {
            return LoopbackResponse(status: 502, headers: [("Content-Type", "text/plain")], body: Array("moto did not answer: \(error)".utf8))
        }
    }
}

/// The staged shortage, shared by the front's connections.
private final class Shortage: Sendable {
    let soldOut: Mutex<Set<String>>
    let refusals = Mutex(0)

    init(soldOut: Set<String>) {
        self.soldOut = Mutex(soldOut)
    }

    /// The sold-out type a RunInstances request asks for; `nil` for any other request.
    func refusedType(_ request: LoopbackRequest) -> String? {
        guard request.method == "POST" else { return nil }
        let fields = Dictionary(
            String(decoding: request.body, as: UTF8.self).split(separator: "&").map { field in
                let parts = field.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? "") : "")
            }
        ) { first, _ in first }
        guard fields["Action"] == "RunInstances", let type = fields["InstanceType"], soldOut.withLock({ $0.contains(type) }) else { return nil }
        refusals.withLock { $0 += 1 }
        return type
    }

    func control(_ request: LoopbackRequest) -> LoopbackResponse {
        struct Staged: Codable {
            var soldOut: [String]
        }
        switch request.method {
        case "GET":
            break
        case "PUT":
            guard let staged = try? JSONDecoder().decode(Staged.self, from: Data(request.body)) else {
                return LoopbackResponse(status: 400, headers: [("Content-Type", "text/plain")], body: Array(#"expected {"soldOut": ["instance type", …]}"#.utf8))
            }
            soldOut.withLock { $0 = Set(staged.soldOut) }
        default:
            return LoopbackResponse(status: 405, headers: [("Allow", "GET, PUT")])
        }
        let body = (try? JSONEncoder().encode(Staged(soldOut: soldOut.withLock { $0.sorted() }))) ?? Data()
        return LoopbackResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array(body))
    }
}
