#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// A handler of raw payload bytes.
///
/// Handlers are synchronous: each Runtime API loop owns an OS thread and blocks in libcurl,
/// so a handler may block too (AWS calls, files) without starving anything.
public protocol ByteHandler: Sendable {
    func handle(_ payload: Data, context: LambdaContext) throws -> Data
}

/// A handler of a JSON event, answering with a JSON result.
public protocol LambdaHandler: Sendable {
    associatedtype Event: Decodable
    associatedtype Output: Encodable
    func handle(_ event: Event, context: LambdaContext) throws -> Output
}

/// What a handler's initialisation sees: the function's settings and a logger.
public struct InitContext: Sendable {
    public let function: FunctionInfo
    public let logger: Logger
    /// How many invocations this environment serves at once (`AWS_LAMBDA_MAX_CONCURRENCY`).
    public let concurrency: Int
}

/// Adapts a typed handler to bytes: decoding failures become `Runtime.UnmarshalError`.
struct JSONHandlerAdapter<Handler: LambdaHandler>: ByteHandler {
    let handler: Handler

    func handle(_ payload: Data, context: LambdaContext) throws -> Data {
        let event: Handler.Event
        do {
            event = try JSONDecoder().decode(Handler.Event.self, from: payload)
        } catch let error as DecodingError {
            throw EventDecodingError(eventType: Handler.Event.self, error: error)
        }
        return try JSONEncoder().encode(handler.handle(event, context: context))
    }
}
