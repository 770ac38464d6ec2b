#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CurlHTTP

/// The Runtime API as the invocation loop sees it: the seam between the loop's decisions and
/// the HTTP that carries them (`RuntimeAPIClient` on libcurl; a scripted fake in unit tests).
protocol RuntimeAPI {
    associatedtype Stream: ResponseStreamConnection

    /// Blocks until Lambda hands over an event. Anything but an event is the end of the Runtime API.
    func next() throws(RuntimeAPIError) -> Invocation
    func respond(to invocation: InvocationAddress, with body: Data) throws(RuntimeAPIError) -> AnswerStatus
    func reportError(for invocation: InvocationAddress, _ report: ErrorReport) throws(RuntimeAPIError) -> AnswerStatus
    /// A streamed response; nothing is sent before its first write (or its `finish`).
    func openStream(to invocation: InvocationAddress, contentType: String) -> Stream
    func reportInitError(_ report: ErrorReport) throws(RuntimeAPIError)
}

/// One invocation as `next` hands it over.
struct Invocation {
    var payload: Data
    var headers: HTTPHeaders
}

/// Where an invocation's answer goes: its request id, and the per-attempt nonce Lambda sent
/// with it (`Lambda-Runtime-Invocation-Id`), echoed on the answer so a late one can be refused.
struct InvocationAddress: Sendable, Equatable {
    var requestID: String
    var invocationID: String?
}

/// How the Runtime API took one invocation's answer. A refusal is that invocation's problem;
/// only a failing Runtime API (a 5xx, a lost connection) is thrown as `RuntimeAPIError`.
enum AnswerStatus: Sendable, Equatable {
    case accepted
    /// The body was refused as too large (413); the invocation is still open for an error report.
    case tooLarge(String)
    /// Any other 4xx: 410 Gone (`ErrorRuntimeInvokeTimeout`) when the invocation timed out,
    /// 400 when it was already answered or is unknown.
    case refused(status: Int, detail: String)
}

/// The Runtime API failed in a way the process cannot recover from.
struct RuntimeAPIError: Error, CustomStringConvertible {
    var description: String
}

/// One streamed `/response` (`Lambda-Runtime-Function-Response-Mode: streaming`).
protocol ResponseStreamConnection: AnyObject {
    /// Whether any byte has gone out: after that, an error can only travel in the trailers.
    var hasStarted: Bool { get }
    /// Sends `bytes`, returning once the Runtime API has taken them all.
    func write(_ bytes: UnsafeRawBufferPointer) throws(ResponseStreamError)
    /// Ends the body, with `failure` in the error trailers, and returns the Runtime API's answer.
    func finish(failure: ErrorReport?) throws(RuntimeAPIError) -> AnswerStatus
}

/// A write to a streamed response that can no longer be sent: the Runtime API answered early
/// (it refused the response) or the connection is gone. The loop learns which from `finish`.
public struct ResponseStreamError: Error, CustomStringConvertible {
    public let description: String
}
