import Foundation
import LocalRuntime
import Logging
import LoopbackHTTP
import Synchronization

/// Lambda's Invoke API on 127.0.0.1 for `sortie dev` (moto's Lambda would need Docker):
/// `POST /2015-03-31/functions/{name}/invocations` reaches the function's local process.
/// `Event` invocations are accepted (202) at once and run behind, as Lambda's queue does.
final class LambdaFront: Sendable {
    private let server: LoopbackHTTPServer
    private let functions: Mutex<[String: LocalFunction]>

    var endpoint: String { server.endpoint }

    private init(server: LoopbackHTTPServer) {
        self.server = server
        self.functions = Mutex([:])
    }

    static func start(logger: Logger) async throws -> LambdaFront {
        let registry = Registry()
        let server = try await LoopbackHTTPServer.start { request in await registry.respond(to: request, logger: logger) }
        let front = LambdaFront(server: server)
        registry.front.withLock { $0 = front }
        return front
    }

    /// Functions are registered once started: they need this front's endpoint in their environment first.
    func register(_ name: String, _ function: LocalFunction) {
        functions.withLock { $0[name] = function }
    }

    func stop() async { await server.stop() }

    /// The function a path names: `/2015-03-31/functions/{name, or ARN with its colons encoded}/invocations`.
    static func functionName(_ path: String) -> String? {
        let parts = path.split(separator: "/")
        guard parts.count == 4, parts[0] == "2015-03-31", parts[1] == "functions", parts[3] == "invocations",
              let decoded = parts[2].removingPercentEncoding
        else { return nil }
        // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
        let fields = decoded.split(separator: ":", omittingEmptySubsequences: false)
        if fields.count >= 7, fields[0] == "arn", fields[5] == "function" { return String(fields[6]) }
        return decoded
    }

    /// Answers requests for the front it was attached to (set right after the server starts).
    private final class Registry: Sendable {
        let front = Mutex<LambdaFront?>(nil)

        func respond(to request: LoopbackRequest, logger: Logger) async -> LoopbackResponse {
            guard request.method == "POST", let name = LambdaFront.functionName(request.path) else {
                return Self.error(400, "InvalidRequestContentException", "not an Invoke request: \(request.method) \(request.path)")
            }
            guard let function = front.withLock({ $0?.functions.withLock { $0[name] } }) else {
                return Self.error(404, "ResourceNotFoundException", "Function not found: \(name)")
            }
            let invocation = InvocationRequest(payload: Data(request.body), timeout: .seconds(900))
            if request.header("X-Amz-Invocation-Type") == "Event" {
                Task {
                    let outcome = await function.invoke(invocation)
                    if case .response = outcome { return }
                    logger.warning("\(name) (asynchronous invocation): \(outcome)")
                }
                return LoopbackResponse(status: 202)
            }
            switch await function.invoke(invocation) {
            case .response(_, let body):
                return LoopbackResponse(status: 200, body: Array(body))
            case .functionError(_, let type, let body):
                return LoopbackResponse(status: 200, headers: [("X-Amz-Function-Error", type ?? "Unhandled")], body: Array(body))
            case let other:
                return Self.error(502, "ServiceException", "\(name): \(other)")
            }
        }

        static func error(_ status: Int, _ type: String, _ message: String) -> LoopbackResponse {
            let body = (try? JSONSerialization.data(withJSONObject: ["message": message])) ?? Data()
            return LoopbackResponse(status: status, headers: [("x-amzn-ErrorType", type), ("Content-Type", "application/json")], body: Array(body))
        }
    }
}
