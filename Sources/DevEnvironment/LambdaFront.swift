import AWSServices
import Foundation
import LocalAWS
import LocalRuntime
import Logging
import LoopbackHTTP
import Synchronization

/// Lambda's Invoke API on 127.0.0.1 for `sortie dev` (moto's Lambda would need Docker):
/// `POST /2015-03-31/functions/{name}/invocations` reaches the function's local process.
/// `Event` invocations are accepted (202) at once and run behind, as Lambda's queue does: a failed
/// one is tried twice more (after 1 s and 2 s, where Lambda waits about 1 and 2 minutes), then its
/// invocation record goes to the function's dead-letter queue, its OnFailure destination.
final class LambdaFront: Sendable {
    private let server: LoopbackHTTPServer
    private let functions: Mutex<[String: (function: LocalFunction, deadLetterQueue: String?)]>
    private let sqs: SQS

    var endpoint: String { server.endpoint }

    private init(server: LoopbackHTTPServer, sqs: SQS) {
        self.server = server
        self.functions = Mutex([:])
        self.sqs = sqs
    }

    static func start(logger: Logger, sqs: SQS) async throws -> LambdaFront {
        let registry = Registry()
        let server = try await LoopbackHTTPServer.start { request in await registry.respond(to: request, logger: logger) }
        let front = LambdaFront(server: server, sqs: sqs)
        registry.front.withLock { $0 = front }
        return front
    }

    /// Functions are registered once started: they need this front's endpoint in their environment first.
    func register(_ name: String, _ function: LocalFunction, deadLetterQueue: String?) {
        functions.withLock { $0[name] = (function, deadLetterQueue) }
    }

    /// Lambda's asynchronous retries: up to three tries; then the OnFailure record, as AWS documents it.
    fileprivate func runAsynchronously(_ name: String, _ function: LocalFunction, deadLetterQueue: String?, payload: Data, logger: Logger) async {
        var last: InvocationOutcome?
        for attempt in 1...3 {
            if attempt > 1 { try? await Task.sleep(for: .seconds(attempt - 1)) }
            let outcome = await function.invoke(InvocationRequest(payload: payload, timeout: .seconds(900)))
            if case .response = outcome { return }
            logger.warning("\(name) (asynchronous invocation, try \(attempt) of 3): \(outcome)")
            last = outcome
        }
        guard let deadLetterQueue, let last else { return }
        let record = Self.onFailureRecord(function: name, payload: payload, outcome: last)
        let sqs = sqs
        do {
            try await blocking { try sqs.sendMessage(queueURL: deadLetterQueue, body: record) }
        } catch {
            logger.error("\(name): the OnFailure record could not be sent to \(deadLetterQueue): \(error)")
        }
    }

    /// AWS's invocation record for an event Lambda gave up on after three tries.
    static func onFailureRecord(function: String, payload: Data, outcome: InvocationOutcome) -> String {
        var response: [String: Any] = ["statusCode": 200, "executedVersion": "$LATEST"]
        var error: Any = ["errorMessage": "\(outcome)"]
        if case .functionError(_, let type, let body) = outcome {
            response["functionError"] = "Unhandled"
            error = (try? JSONSerialization.jsonObject(with: body)) ?? ["errorType": type ?? "Unhandled", "errorMessage": String(decoding: body, as: UTF8.self)]
        }
        let record: [String: Any] = [
            "version": "1.0", "timestamp": ISO8601DateFormatter().string(from: Date()),
            "requestContext": [
                "requestId": outcome.requestID ?? UUID().uuidString.lowercased(),
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:\(function):$LATEST",
                "condition": "RetriesExhausted", "approximateInvokeCount": 3,
            ] as [String: Any],
            "requestPayload": (try? JSONSerialization.jsonObject(with: payload, options: .fragmentsAllowed)) ?? String(decoding: payload, as: UTF8.self),
            "responseContext": response, "responsePayload": error,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: record, options: .sortedKeys)) ?? Data()
        return String(decoding: data, as: UTF8.self)
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
            guard let front = front.withLock({ $0 }), let (function, deadLetterQueue) = front.functions.withLock({ $0[name] }) else {
                return Self.error(404, "ResourceNotFoundException", "Function not found: \(name)")
            }
            let invocation = InvocationRequest(payload: Data(request.body), timeout: .seconds(900))
            if request.header("X-Amz-Invocation-Type") == "Event" {
                let payload = Data(request.body)
                Task { await front.runAsynchronously(name, function, deadLetterQueue: deadLetterQueue, payload: payload, logger: logger) }
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
