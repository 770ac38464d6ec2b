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

/// A handler that streams its response (`Lambda-Runtime-Function-Response-Mode: streaming`):
/// it writes chunks as it produces them, up to Lambda's 200 MB, and each write waits until the
/// Runtime API has taken the bytes, so memory stays bounded whatever the response's size.
///
/// An error thrown before the first write is reported on `/error`, as for a buffered handler;
/// one thrown after it ends the stream with the error in its trailers.
public protocol StreamingHandler: Sendable {
    /// The response's `Content-Type`.
    var contentType: String { get }
    func handle(_ payload: Data, response: ResponseStream, context: LambdaContext) throws
}

extension StreamingHandler {
    public var contentType: String { "application/octet-stream" }
}

/// Where a `StreamingHandler` writes its response.
public struct ResponseStream {
    let connection: any ResponseStreamConnection

    /// Sends `bytes`; returns once the Runtime API has taken them. Throws when it no longer takes
    /// this response (it refused it, or the connection is gone): the handler should stop.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(ResponseStreamError) {
        try connection.write(bytes)
    }

    public func write(_ data: Data) throws(ResponseStreamError) {
        // withUnsafeBytes rethrows untyped errors; carry ours out as a value.
        let failure: ResponseStreamError? = data.withUnsafeBytes { bytes in
            do throws(ResponseStreamError) { try write(bytes) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    public func write(_ text: String) throws(ResponseStreamError) {
        try write(Data(text.utf8))
    }
}
