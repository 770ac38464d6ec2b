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

    public init(payload: Data, timeout: Duration = .seconds(60), traceID: String? = nil, tenantID: String? = nil,
                clientContext: String? = nil, cognitoIdentity: String? = nil) {
        self.payload = payload
        self.timeout = timeout
        self.traceID = traceID
        self.tenantID = tenantID
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
    }
}

/// How an invocation ended.
public enum InvocationOutcome: Sendable, Equatable {
    case response(requestID: String, body: Data)
    /// The function reported an error on `/invocation/{id}/error`.
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
