import FlyingFox
import FlyingSocks
import Foundation

/// The Lambda Runtime API (2018-06-01) served on 127.0.0.1 from an `InvocationQueue`.
struct RuntimeAPIRoutes: HTTPHandler {
    /// What Lambda accepts for a synchronous response: 6 MB.
    static let maximumResponseBytes = 6_291_556

    let queue: InvocationQueue
    let functionARN: String

    func handleRequest(_ request: FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse {
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[0] == "2018-06-01", parts[1] == "runtime" else {
            return Self.json(.notFound, ["errorType": "InvalidPath", "errorMessage": "no such Runtime API path: \(request.path)"])
        }
        let route = Array(parts.dropFirst(2))
        switch (request.method, route.count) {
        case (.GET, 2) where route == ["invocation", "next"]:
            return await next()
        case (.POST, 3) where route[0] == "invocation" && route[2] == "response":
            let body = try await request.bodyData
            guard body.count <= Self.maximumResponseBytes else {
                // The invocation stays open: the function may still report an error for it.
                return Self.json(.payloadTooLarge, [
                    "errorType": "RequestEntityTooLarge",
                    "errorMessage": "Exceeded maximum allowed payload size (\(Self.maximumResponseBytes) bytes).",
                ])
            }
            return await complete(route[1], .response(requestID: route[1], body: body))
        case (.POST, 3) where route[0] == "invocation" && route[2] == "error":
            let outcome = InvocationOutcome.functionError(
                requestID: route[1], errorType: request.headers[HTTPHeader("Lambda-Runtime-Function-Error-Type")],
                body: try await request.bodyData)
            return await complete(route[1], outcome)
        case (.POST, 2) where route == ["init", "error"]:
            let outcome = InvocationOutcome.initError(
                errorType: request.headers[HTTPHeader("Lambda-Runtime-Function-Error-Type")], body: try await request.bodyData)
            await queue.end(with: outcome)
            return Self.json(.accepted, ["status": "OK"])
        default:
            return Self.json(.notFound, ["errorType": "InvalidPath", "errorMessage": "no such Runtime API path: \(request.method.rawValue) \(request.path)"])
        }
    }

    private func next() async -> FlyingFox.HTTPResponse {
        guard let pending = await queue.next() else {
            return Self.json(.internalServerError, ["errorType": "Runtime.Unavailable", "errorMessage": "the Runtime API is shutting down"])
        }
        var headers = FlyingFox.HTTPHeaders()
        headers[HTTPHeader("Content-Type")] = "application/json"
        headers[HTTPHeader("Lambda-Runtime-Aws-Request-Id")] = pending.requestID
        headers[HTTPHeader("Lambda-Runtime-Deadline-Ms")] = String(pending.deadlineMilliseconds)
        headers[HTTPHeader("Lambda-Runtime-Invoked-Function-Arn")] = functionARN
        headers[HTTPHeader("Lambda-Runtime-Trace-Id")] = pending.request.traceID ?? Self.traceID()
        let optional: [(String, String?)] = [
            ("Lambda-Runtime-Client-Context", pending.request.clientContext),
            ("Lambda-Runtime-Cognito-Identity", pending.request.cognitoIdentity),
            ("Lambda-Runtime-Aws-Tenant-Id", pending.request.tenantID),
        ]
        for case let (name, value?) in optional { headers[HTTPHeader(name)] = value }
        return FlyingFox.HTTPResponse(statusCode: .ok, headers: headers, body: pending.request.payload)
    }

    private func complete(_ requestID: String, _ outcome: InvocationOutcome) async -> FlyingFox.HTTPResponse {
        switch await queue.complete(requestID, with: outcome) {
        case .accepted:
            return Self.json(.accepted, ["status": "OK"])
        case .unknownRequest:
            return Self.json(.badRequest, ["errorType": "InvalidRequestID", "errorMessage": "unknown request id \(requestID)"])
        case .alreadyCompleted:
            return Self.json(.badRequest, ["errorType": "InvalidStateTransition", "errorMessage": "request \(requestID) has already completed"])
        }
    }

    /// An X-Ray trace header in the shape Lambda sends.
    static func traceID() -> String {
        let epoch = String(Int(Date().timeIntervalSince1970), radix: 16)
        let random = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        return "Root=1-\(epoch)-\(random.prefix(24));Parent=\(random.suffix(16));Sampled=0"
    }

    static func json(_ status: HTTPStatusCode, _ fields: [String: String]) -> FlyingFox.HTTPResponse {
        let body = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data()
        return FlyingFox.HTTPResponse(statusCode: status, headers: [HTTPHeader("Content-Type"): "application/json"], body: body)
    }
}
