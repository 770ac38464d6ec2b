@testable import LambdaRuntime
import CurlHTTP
import Foundation
import Logging
import Synchronization

/// A Runtime API played from a script, in-process: the events `next` hands out, how each answer
/// is taken, and a record of every call the loop made. Shared by loops on several threads.
final class ScriptedRuntimeAPI: RuntimeAPI, Sendable {
    enum Call: Equatable {
        case respond(InvocationAddress, Data)
        case reportError(InvocationAddress, ErrorReport)
        case stream(InvocationAddress, contentType: String, bytes: Int, failure: ErrorReport?)
    }

    /// How one answer is taken: a status, or a Runtime API that has gone.
    enum Answer {
        case status(AnswerStatus)
        case gone
    }

    private struct State {
        var events: [Invocation]
        var answers: [String: [Answer]]
        var calls: [Call] = []
    }

    private let state: Mutex<State>
    /// A stream stops taking bytes after this many (the Runtime API answered early), when set.
    let streamAcceptsBytes: Int?

    /// `answers[requestID]` are used in order by that invocation's answers; unscripted ones are accepted.
    init(events: [Invocation], answers: [String: [Answer]] = [:], streamAcceptsBytes: Int? = nil) {
        state = Mutex(State(events: events, answers: answers))
        self.streamAcceptsBytes = streamAcceptsBytes
    }

    var calls: [Call] { state.withLock { $0.calls } }

    func next() throws(RuntimeAPIError) -> Invocation {
        let event: Invocation? = state.withLock { $0.events.isEmpty ? nil : $0.events.removeFirst() }
        guard let event else { throw RuntimeAPIError(description: "the script has no more events") }
        return event
    }

    func respond(to invocation: InvocationAddress, with body: Data) throws(RuntimeAPIError) -> AnswerStatus {
        try answer(.respond(invocation, body), invocation)
    }

    func reportError(for invocation: InvocationAddress, _ report: ErrorReport) throws(RuntimeAPIError) -> AnswerStatus {
        try answer(.reportError(invocation, report), invocation)
    }

    func openStream(to invocation: InvocationAddress, contentType: String) -> ScriptedStream {
        ScriptedStream(api: self, invocation: invocation, contentType: contentType, acceptsBytes: streamAcceptsBytes)
    }

    func reportInitError(_ report: ErrorReport) throws(RuntimeAPIError) {}

    fileprivate func answer(_ call: Call, _ invocation: InvocationAddress) throws(RuntimeAPIError) -> AnswerStatus {
        let answer: Answer? = state.withLock {
            $0.calls.append(call)
            guard var queue = $0.answers[invocation.requestID], !queue.isEmpty else { return nil }
            let first = queue.removeFirst()
            $0.answers[invocation.requestID] = queue
            return first
        }
        switch answer {
        case nil: return .accepted
        case .status(let status): return status
        case .gone: throw RuntimeAPIError(description: "the Runtime API is unreachable (scripted)")
        }
    }
}

final class ScriptedStream: ResponseStreamConnection {
    private let api: ScriptedRuntimeAPI
    private let invocation: InvocationAddress
    private let contentType: String
    private let acceptsBytes: Int?
    private(set) var bytes = 0
    private(set) var hasStarted = false

    init(api: ScriptedRuntimeAPI, invocation: InvocationAddress, contentType: String, acceptsBytes: Int?) {
        self.api = api
        self.invocation = invocation
        self.contentType = contentType
        self.acceptsBytes = acceptsBytes
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws(ResponseStreamError) {
        hasStarted = true
        if let acceptsBytes, bytes + chunk.count > acceptsBytes {
            throw ResponseStreamError(description: "the scripted Runtime API stopped taking bytes")
        }
        bytes += chunk.count
    }

    func finish(failure: ErrorReport?) throws(RuntimeAPIError) -> AnswerStatus {
        try api.answer(.stream(invocation, contentType: contentType, bytes: bytes, failure: failure), invocation)
    }
}

extension Invocation {
    static func event(_ requestID: String, invocationID: String? = nil, payload: String = "{}") -> Invocation {
        var headers: HTTPHeaders = ["Lambda-Runtime-Aws-Request-Id": requestID, "Lambda-Runtime-Deadline-Ms": "4102444800000"]
        if let invocationID { headers.add("Lambda-Runtime-Invocation-Id", invocationID) }
        return Invocation(payload: Data(payload.utf8), headers: headers)
    }
}

/// Log lines kept in memory, to check what the loop said.
final class CapturedLog: Sendable {
    private let lines = Mutex<[(level: Logger.Level, message: String)]>([])

    var all: [(level: Logger.Level, message: String)] { lines.withLock { $0 } }

    func logger() -> Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.lines.withLock { $0.append((event.level, "\(event.message)")) }
        }
    }
}
