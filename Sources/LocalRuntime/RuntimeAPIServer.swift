import Foundation
import LoopbackHTTP

/// The Lambda Runtime API (2018-06-01), answered from an `InvocationQueue`.
struct RuntimeAPIRoutes: Sendable {
    /// What Lambda accepts for a synchronous response: 6 MB.
    static let maximumResponseBytes = 6_291_556

    /// What Lambda accepts for a streamed response: 200 MB.
    static let maximumStreamedBytes = 200 * 1024 * 1024
    static let invocationIDHeader = "Lambda-Runtime-Invocation-Id"

    let queue: InvocationQueue
    let functionARN: String
    /// A late answer (its invocation timed out) gets 410 Gone, as Lambda answers today; otherwise 400.
    let lateAnswersGone: Bool

    func respond(to request: LoopbackRequest) async -> LoopbackResponse {
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[0] == "2018-06-01", parts[1] == "runtime" else {
            return Self.json(404, ["errorType": "InvalidPath", "errorMessage": "no such Runtime API path: \(request.path)"])
        }
        let route = Array(parts.dropFirst(2))
        let errorType = request.header("Lambda-Runtime-Function-Error-Type")
        let invocationID = request.header(Self.invocationIDHeader)
        switch (request.method, route.count) {
        case ("GET", 2) where route == ["invocation", "next"]:
            return await next()
        case ("POST", 3) where route[0] == "invocation" && route[2] == "response":
            guard request.body.count <= Self.maximumResponseBytes else {
                // The invocation stays open: the function may still report an error for it.
                return Self.json(413, [
                    "errorType": "RequestEntityTooLarge",
                    "errorMessage": "Exceeded maximum allowed payload size (\(Self.maximumResponseBytes) bytes).",
                ])
            }
            return await complete(route[1], invocationID, .response(requestID: route[1], body: Data(request.body)))
        case ("POST", 3) where route[0] == "invocation" && route[2] == "error":
            return await complete(route[1], invocationID, .functionError(requestID: route[1], errorType: errorType, body: Data(request.body)))
        case ("POST", 2) where route == ["init", "error"]:
            await queue.end(with: .initError(errorType: errorType, body: Data(request.body)))
            return Self.json(202, ["status": "OK"])
        default:
            return Self.json(404, ["errorType": "InvalidPath", "errorMessage": "no such Runtime API path: \(request.method) \(request.path)"])
        }
    }

    private func next() async -> LoopbackResponse {
        guard let pending = await queue.next() else {
            return Self.json(500, ["errorType": "Runtime.Unavailable", "errorMessage": "the Runtime API is shutting down"])
        }
        var headers = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", pending.requestID),
            ("Lambda-Runtime-Deadline-Ms", String(pending.deadlineMilliseconds)),
            ("Lambda-Runtime-Invoked-Function-Arn", functionARN),
            ("Lambda-Runtime-Trace-Id", pending.request.traceID ?? Self.traceID()),
        ]
        let optional: [(String, String?)] = [
            ("Lambda-Runtime-Client-Context", pending.request.clientContext),
            ("Lambda-Runtime-Cognito-Identity", pending.request.cognitoIdentity),
            ("Lambda-Runtime-Aws-Tenant-Id", pending.request.tenantID),
        ]
        for case let (name, value?) in optional { headers.append((name, value)) }
        if let invocationID = pending.invocationID { headers.append((Self.invocationIDHeader, invocationID)) }
        return LoopbackResponse(status: 200, headers: headers, body: Array(pending.request.payload))
    }

    private func complete(_ requestID: String, _ invocationID: String?, _ outcome: InvocationOutcome) async -> LoopbackResponse {
        answer(requestID, await queue.complete(requestID, invocationID: invocationID, with: outcome))
    }

    /// The Runtime API's answer to an invocation's `/response` or `/error`.
    func answer(_ requestID: String, _ completion: InvocationQueue.Completion) -> LoopbackResponse {
        switch completion {
        case .accepted:
            Self.json(202, ["status": "OK"])
        case .unknownRequest:
            Self.json(400, ["errorType": "InvalidRequestID", "errorMessage": "unknown request id \(requestID)"])
        case .alreadyCompleted:
            Self.json(400, ["errorType": "InvalidStateTransition", "errorMessage": "request \(requestID) has already completed"])
        case .timedOut where lateAnswersGone:
            Self.json(410, ["errorType": "ErrorRuntimeInvokeTimeout", "errorMessage": "invocation \(requestID) timed out; its answer is refused"])
        case .timedOut:
            Self.json(400, ["errorType": "InvalidStateTransition", "errorMessage": "request \(requestID) has already completed (timed out)"])
        case .wrongInvocationID(let expected, let got):
            Self.json(400, [
                "errorType": "InvalidInvocationId",
                "errorMessage": "request \(requestID) was sent \(Self.invocationIDHeader) \(expected ?? "(none)"), the answer carries \(got ?? "(none)")",
            ])
        }
    }

    /// An X-Ray trace header in the shape Lambda sends.
    static func traceID() -> String {
        let epoch = String(Int(Date().timeIntervalSince1970), radix: 16)
        let random = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        return "Root=1-\(epoch)-\(random.prefix(24));Parent=\(random.suffix(16));Sampled=0"
    }

    static func json(_ status: Int, _ fields: [String: String]) -> LoopbackResponse {
        let body = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data()
        return LoopbackResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(body))
    }
}
