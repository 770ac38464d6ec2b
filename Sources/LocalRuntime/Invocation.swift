import Foundation

/// One event to hand to the function, with the context Lambda would attach to it.
public struct InvocationRequest: Sendable {
    public var payload: Data
    /// The function timeout: the deadline header is now + timeout, and the invocation times out after it.
    public var timeout: Duration
    public var traceID: String?
    public var tenantID: String?
    /// Raw JSON, as Lambda puts it in the `Lambda-Runtime-Client-Context` header.
    public var clientContext: String?
    /// Raw JSON, as Lambda puts it in the `Lambda-Runtime-Cognito-Identity` header.
    public var cognitoIdentity: String?
    /// The invocation times out the moment `next` hands it over, as if the function had run out of
    /// time at once: its answer is then refused (410 Gone, or 400 with `lateAnswersGone` off).
    public var expiresOnHandover: Bool
    /// Where a streamed response's bytes go as they arrive; without it they are collected into the
    /// outcome's body. A buffered response always comes back in the outcome.
    public var streamedBytes: (@Sendable (Data) async -> Void)?

    public init(payload: Data, timeout: Duration = .seconds(60), traceID: String? = nil, tenantID: String? = nil,
                clientContext: String? = nil, cognitoIdentity: String? = nil, expiresOnHandover: Bool = false,
                streamedBytes: (@Sendable (Data) async -> Void)? = nil) {
        self.payload = payload
        self.timeout = timeout
        self.traceID = traceID
        self.tenantID = tenantID
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
        self.expiresOnHandover = expiresOnHandover
        self.streamedBytes = streamedBytes
    }
}

/// How an invocation ended.
public enum InvocationOutcome: Sendable, Equatable {
    /// The response; a streamed one's body is empty when its bytes went to `streamedBytes`.
    case response(requestID: String, body: Data)
    /// The function reported an error on `/invocation/{id}/error`, or in the trailers of a streamed
    /// response (the body is then the decoded `Lambda-Runtime-Function-Error-Body`).
    case functionError(requestID: String, errorType: String?, body: Data)
    /// The function reported an error on `/init/error` before serving anything.
    case initError(errorType: String?, body: Data)
    /// The function process ended while the invocation was queued or in flight.
    case processExited(status: Int32)
    case timedOut(requestID: String)

    public var requestID: String? {
        switch self {
        case .response(let id, _), .functionError(let id, _, _), .timedOut(let id): id
        case .initError, .processExited: nil
        }
    }
}
