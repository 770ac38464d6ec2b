import Foundation
import LoopbackHTTP
import Synchronization

/// A scripted HTTP server on 127.0.0.1: answers each request with what the test's closure
/// returns for it (given the request and its 0-based index), and records every request.
final class FakeServer: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        /// Lower-cased names.
        var headers: [String: String]
        var body: Data
    }

    struct Answer: Sendable {
        var status: Int
        var headers: [String: String] = [:]
        var body: Data = Data()

        static func json(_ status: Int, _ text: String, headers: [String: String] = [:]) -> Answer {
            Answer(status: status, headers: headers.merging(["Content-Type": "application/x-amz-json-1.0"]) { a, _ in a }, body: Data(text.utf8))
        }

        static func xml(_ status: Int, _ text: String, headers: [String: String] = [:]) -> Answer {
            Answer(status: status, headers: headers.merging(["Content-Type": "text/xml"]) { a, _ in a }, body: Data(text.utf8))
        }
    }

    private final class Log: Sendable {
        let requests = Mutex<[Request]>([])
    }

    private let server: LoopbackHTTPServer
    private let log: Log

    var port: Int { server.port }
    var endpoint: String { server.endpoint }
    var requests: [Request] { log.requests.withLock { $0 } }

    private init(server: LoopbackHTTPServer, log: Log) {
        self.server = server
        self.log = log
    }

    static func start(_ answer: @escaping @Sendable (Request, Int) -> Answer) async throws -> FakeServer {
        let log = Log()
        let server = try await LoopbackHTTPServer.start { request in
            var headers: [String: String] = [:]
            for (name, value) in request.headers { headers[name.lowercased()] = value }
            let received = Request(method: request.method, path: request.path, headers: headers, body: Data(request.body))
            let index = log.requests.withLock { requests in
                requests.append(received)
                return requests.count - 1
            }
            let reply = answer(received, index)
            return LoopbackResponse(status: reply.status, headers: reply.headers.map { ($0.key, $0.value) }, body: Array(reply.body))
        }
        return FakeServer(server: server, log: log)
    }

    func stop() async {
        await server.stop()
    }
}
