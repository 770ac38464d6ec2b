import Foundation
import LoopbackHTTP
import Synchronization

/// A scripted HTTP server on 127.0.0.1: answers each request with what the test's closure
/// returns for it (given the request and its 0-based index), and records every request.
public final class FakeServer: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// What follows `?` in the request's URI; empty without one.
        public var query: String
        /// Lower-cased names.
        public var headers: [String: String]
        public var body: Data
    }

    public struct Answer: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data

        public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public static func json(_ status: Int, _ text: String, headers: [String: String] = [:]) -> Answer {
            Answer(status: status, headers: headers.merging(["Content-Type": "application/x-amz-json-1.0"]) { a, _ in a }, body: Data(text.utf8))
        }

        public static func xml(_ status: Int, _ text: String, headers: [String: String] = [:]) -> Answer {
            Answer(status: status, headers: headers.merging(["Content-Type": "text/xml"]) { a, _ in a }, body: Data(text.utf8))
        }
    }

    private final class Log: Sendable {
        let requests = Mutex<[Request]>([])
    }

    private let server: LoopbackHTTPServer
    private let log: Log

    public var port: Int { server.port }
    public var endpoint: String { server.endpoint }
    public var requests: [Request] { log.requests.withLock { $0 } }

    private init(server: LoopbackHTTPServer, log: Log) {
        self.server = server
        self.log = log
    }

    public static func start(_ answer: @escaping @Sendable (Request, Int) -> Answer) async throws -> FakeServer {
        let log = Log()
        let server = try await LoopbackHTTPServer.start { request in
            var headers: [String: String] = [:]
            for (name, value) in request.headers { headers[name.lowercased()] = value }
            let query = request.uri.firstIndex(of: "?").map { String(request.uri[request.uri.index(after: $0)...]) } ?? ""
            let received = Request(method: request.method, path: request.path, query: query, headers: headers, body: Data(request.body))
            let index = log.requests.withLock { requests in
                requests.append(received)
                return requests.count - 1
            }
            let reply = answer(received, index)
            return LoopbackResponse(status: reply.status, headers: reply.headers.map { ($0.key, $0.value) }, body: Array(reply.body))
        }
        return FakeServer(server: server, log: log)
    }

    public func stop() async {
        await server.stop()
    }
}
