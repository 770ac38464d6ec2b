/// What Lambda sends an asynchronous invocation's `OnFailure` destination once it gives up on an
/// event (its retries spent, or the event too old): AWS's invocation record, with the event as
/// `requestPayload`. `Payload` is the event's type; `sortie dead-letters` reads it as raw JSON.
public struct LambdaInvocationRecord<Payload: Decodable & Sendable>: Decodable, Sendable {
    public struct RequestContext: Decodable, Sendable {
        public var requestId: String
        /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER`.
        public var functionArn: String
        /// `RetriesExhausted` or `EventAgeExceeded`.
        public var condition: String
        public var approximateInvokeCount: Int
    }

    public struct ResponseContext: Decodable, Sendable {
        public var statusCode: Int?
        public var executedVersion: String?
        /// `Handled` or `Unhandled`, when the function failed (absent when Lambda itself did).
        public var functionError: String?
    }

    /// The function's error answer, as the Runtime API passed it on.
    public struct ErrorPayload: Decodable, Sendable {
        public var errorType: String?
        public var errorMessage: String?
    }

    public var version: String
    /// ISO 8601, as Lambda writes it.
    public var timestamp: String
    public var requestContext: RequestContext
    public var requestPayload: Payload
    public var responseContext: ResponseContext?
    public var responsePayload: ErrorPayload?

    /// The conditions Lambda gives up under.
    public static var conditions: [String] { ["RetriesExhausted", "EventAgeExceeded"] }

    /// One line: why Lambda gave up, and the function's last error.
    public var failure: String {
        var text = "Lambda gave up after \(requestContext.approximateInvokeCount) attempt(s) (\(requestContext.condition))"
        let error = [responsePayload?.errorType, responsePayload?.errorMessage].compactMap { $0 }.joined(separator: ": ")
        if !error.isEmpty { text += ": " + error }
        return text
    }
}
