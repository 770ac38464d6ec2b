import FlyingFox
import Foundation
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

    private let server: HTTPServer
    private let task: Task<Void, any Error>
    private let log: Log
    let port: Int

    var endpoint: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { log.requests.withLock { $0 } }

    private init(server: HTTPServer, task: Task<Void, any Error>, log: Log, port: Int) {
        self.server = server
        self.task = task
        self.log = log
        self.port = port
    }

    static func start(_ answer: @escaping @Sendable (Request, Int) -> Answer) async throws -> FakeServer {
        let log = Log()
        let handler = ClosureHTTPHandler { request in
            var headers: [String: String] = [:]
            for (name, value) in request.headers { headers[name.rawValue.lowercased()] = value }
            let received = Request(method: request.method.rawValue, path: request.path, headers: headers, body: try await request.bodyData)
            let index = log.requests.withLock { requests in
                requests.append(received)
                return requests.count - 1
            }
            let reply = answer(received, index)
            var replyHeaders = FlyingFox.HTTPHeaders()
            for (name, value) in reply.headers { replyHeaders[FlyingFox.HTTPHeader(name)] = value }
            return FlyingFox.HTTPResponse(statusCode: HTTPStatusCode(reply.status, phrase: "Scripted"), headers: replyHeaders, body: reply.body)
        }
        let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: 0), timeout: 10, logger: .disabled, handler: handler)
        let task = Task { try await server.run() }
        try await server.waitUntilListening(timeout: 10)
        guard case let .ip4(_, port)? = await server.listeningAddress else {
            task.cancel()
            throw CocoaError(.fileNoSuchFile)
        }
        return FakeServer(server: server, task: task, log: log, port: Int(port))
    }

    func stop() async {
        await server.stop(timeout: 0.1)
        task.cancel()
    }
}
