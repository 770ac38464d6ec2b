@testable import LambdaRuntime
import Foundation
import Logging
import Synchronization
import Testing

/// The invocation loop's decisions, in-process against a scripted Runtime API: what it answers,
/// where, with which invocation id, and what it does when an answer is refused or the API fails.
@Suite("The loop's decisions against a scripted Runtime API")
struct LoopDecisionTests {
    struct Echo: ByteHandler {
        struct Failure: LambdaFunctionError { let errorType = "Asked" }
        func handle(_ payload: Data, context: LambdaContext) throws -> Data {
            if payload == Data("fail".utf8) { throw Failure() }
            return payload
        }
    }

    /// Streams `bytes` in 1,000-byte writes, then fails when `fail` is set; fails at once for "before".
    struct Streamer: StreamingHandler {
        struct Failure: LambdaFunctionError { let errorType = "StreamFailure" }
        var contentType: String { "text/plain" }
        func handle(_ payload: Data, response: ResponseStream, context: LambdaContext) throws {
            let command = String(decoding: payload, as: UTF8.self).split(separator: " ")
            if command.first == "before" { throw Failure() }
            let total = Int(command.first ?? "") ?? 0
            let chunk = Data(repeating: 0x61, count: 1_000)
            for _ in 0..<(total / 1_000) { try response.write(chunk) }
            if command.last == "fail" { throw Failure() }
        }
    }

    let function = FunctionInfo(name: "test", version: "$LATEST", memoryMegabytes: 128, logGroupName: "", logStreamName: "")

    func loop(_ api: ScriptedRuntimeAPI, _ handler: FunctionHandler, _ log: CapturedLog = CapturedLog()) -> InvocationLoop<ScriptedRuntimeAPI> {
        InvocationLoop(api: api, handler: handler, function: function, logger: log.logger(), exportsTraceID: false)
    }

    @Test("the invocation id from next is echoed on the response and the error report, and is absent when next had none")
    func invocationIDs() throws {
        let api = ScriptedRuntimeAPI(events: [
            .event("r1", invocationID: "n1", payload: "hello"),
            .event("r2", invocationID: "n2", payload: "fail"),
            .event("r3", payload: "plain"),
        ])
        let loop = loop(api, .buffered(Echo()))
        for _ in 0..<3 { try loop.serveNext() }
        let calls = api.calls
        #expect(calls.count == 3)
        #expect(calls[0] == .respond(InvocationAddress(requestID: "r1", invocationID: "n1"), Data("hello".utf8)))
        guard case .reportError(let address, let report) = calls[1] else { Issue.record("\(calls[1])"); return }
        #expect(address == InvocationAddress(requestID: "r2", invocationID: "n2"))
        #expect(report.errorType == "Asked")
        #expect(calls[2] == .respond(InvocationAddress(requestID: "r3", invocationID: nil), Data("plain".utf8)))
        #expect(RuntimeAPIClient.headers(for: InvocationAddress(requestID: "r3"))["Lambda-Runtime-Invocation-Id"] == nil)
        #expect(RuntimeAPIClient.headers(for: InvocationAddress(requestID: "r1", invocationID: "n1"))["Lambda-Runtime-Invocation-Id"] == "n1")
    }

    @Test("the context exposes the invocation id")
    func contextInvocationID() throws {
        struct Recorder: ByteHandler {
            func handle(_ payload: Data, context: LambdaContext) throws -> Data { Data((context.invocationID ?? "-").utf8) }
        }
        let api = ScriptedRuntimeAPI(events: [.event("r1", invocationID: "nonce-1"), .event("r2")])
        let loop = loop(api, .buffered(Recorder()))
        try loop.serveNext()
        try loop.serveNext()
        #expect(api.calls == [
            .respond(InvocationAddress(requestID: "r1", invocationID: "nonce-1"), Data("nonce-1".utf8)),
            .respond(InvocationAddress(requestID: "r2"), Data("-".utf8)),
        ])
    }

    @Test("a 410 on the response or a 400 on the error report logs one line naming both ids, and the loop goes on",
          arguments: [("hello", 410, "ErrorRuntimeInvokeTimeout"), ("fail", 400, "InvalidStateTransition"), ("hello", 403, "Forbidden")])
    func refusedAnswers(payload: String, status: Int, errorType: String) throws {
        let api = ScriptedRuntimeAPI(
            events: [.event("late", invocationID: "n-late", payload: payload), .event("next", invocationID: "n-next", payload: "after")],
            answers: ["late": [.status(.refused(status: status, detail: "{\"errorType\":\"\(errorType)\",\n\"errorMessage\":\"x\"}"))]])
        let log = CapturedLog()
        let loop = loop(api, .buffered(Echo()), log)
        try loop.serveNext()
        try loop.serveNext()
        #expect(api.calls.last == .respond(InvocationAddress(requestID: "next", invocationID: "n-next"), Data("after".utf8)))
        let warnings = log.all.filter { $0.level == .warning }
        #expect(warnings.count == 1)
        let line = try #require(warnings.first?.message)
        #expect(line.contains("late") && line.contains("n-late") && line.contains("HTTP \(status)") && line.contains(errorType), "\(line)")
        #expect(!line.contains("\n"))
    }

    @Test("a 413 on the response becomes an error report for the same invocation")
    func tooLarge() throws {
        let api = ScriptedRuntimeAPI(events: [.event("big", invocationID: "n1", payload: "large body")],
                                     answers: ["big": [.status(.tooLarge("Exceeded maximum allowed payload size"))]])
        try loop(api, .buffered(Echo())).serveNext()
        let calls = api.calls
        #expect(calls.count == 2)
        guard case .reportError(let address, let report) = calls.last else { Issue.record("\(calls)"); return }
        #expect(address == InvocationAddress(requestID: "big", invocationID: "n1"))
        #expect(report.errorType == "Function.ResponseSizeTooLarge")
        #expect(report.errorMessage.contains("10 bytes") && report.errorMessage.contains("Exceeded maximum"))
    }

    @Test("a Runtime API that is gone, on an answer or on next, ends the loop")
    func runtimeAPIGone() throws {
        let api = ScriptedRuntimeAPI(events: [.event("r1", invocationID: "n1")], answers: ["r1": [.gone]])
        let loop = loop(api, .buffered(Echo()))
        #expect(throws: RuntimeAPIError.self) { try loop.serveNext() }
        #expect(throws: RuntimeAPIError.self) { try loop.serveNext() }
    }

    @Test("streaming: the whole body, then no trailers; content type and invocation id go with it")
    func streamed() throws {
        let api = ScriptedRuntimeAPI(events: [.event("s1", invocationID: "n1", payload: "5000")])
        try loop(api, .streaming(Streamer())).serveNext()
        #expect(api.calls == [.stream(InvocationAddress(requestID: "s1", invocationID: "n1"), contentType: "text/plain", bytes: 5_000, failure: nil)])
    }

    @Test("streaming: an error before the first byte goes to /error, one after it into the trailers")
    func streamErrors() throws {
        let api = ScriptedRuntimeAPI(events: [.event("before", invocationID: "n1", payload: "before"), .event("after", payload: "3000 fail")])
        let loop = loop(api, .streaming(Streamer()))
        try loop.serveNext()
        try loop.serveNext()
        let calls = api.calls
        #expect(calls.count == 2)
        guard case .reportError(let address, let report) = calls.first else { Issue.record("\(calls)"); return }
        #expect(address == InvocationAddress(requestID: "before", invocationID: "n1"))
        #expect(report.errorType == "StreamFailure")
        guard case .stream(let streamed, _, let bytes, let failure) = calls.last else { Issue.record("\(calls)"); return }
        #expect(streamed.requestID == "after" && bytes == 3_000)
        #expect(failure?.errorType == "StreamFailure")
        let trailers = try #require(failure?.trailers())
        #expect(trailers["Lambda-Runtime-Function-Error-Type"] == "StreamFailure")
        let body = try #require(trailers["Lambda-Runtime-Function-Error-Body"].flatMap { Data(base64Encoded: $0) })
        #expect(try JSONDecoder().decode(ErrorReport.self, from: body) == failure)
    }

    @Test("streaming: when the Runtime API stops taking the stream (410), the handler's write fails, one line is logged, and the loop goes on")
    func streamRefused() throws {
        let api = ScriptedRuntimeAPI(
            events: [.event("s1", invocationID: "n1", payload: "9000"), .event("s2", invocationID: "n2", payload: "2000")],
            answers: ["s1": [.status(.refused(status: 410, detail: "ErrorRuntimeInvokeTimeout"))]],
            streamAcceptsBytes: 4_000)
        let log = CapturedLog()
        let loop = loop(api, .streaming(Streamer()), log)
        try loop.serveNext()
        try loop.serveNext()
        #expect(api.calls == [
            .stream(InvocationAddress(requestID: "s1", invocationID: "n1"), contentType: "text/plain", bytes: 4_000, failure: nil),
            .stream(InvocationAddress(requestID: "s2", invocationID: "n2"), contentType: "text/plain", bytes: 2_000, failure: nil),
        ])
        let lines = log.all.map(\.message)
        #expect(lines.count == 1 && lines[0].contains("HTTP 410") && lines[0].contains("n1"), "\(lines)")
    }

    @Test("four loops on four threads answer 400 invocations, each once, to its own address")
    func concurrentLoops() throws {
        let events = (0..<400).map { Invocation.event("r\($0)", invocationID: "n\($0)", payload: $0 % 7 == 0 ? "fail" : "p\($0)") }
        let api = ScriptedRuntimeAPI(events: events, answers: ["r5": [.status(.refused(status: 410, detail: "gone"))]])
        let finished = Mutex(0)
        let threads = (0..<4).map { _ in
            Thread {
                let loop = loop(api, .buffered(Echo()))
                while (try? loop.serveNext()) != nil {}
                finished.withLock { $0 += 1 }
            }
        }
        threads.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(10)
        while finished.withLock({ $0 }) < 4 && Date() < deadline { usleep(1_000) }
        #expect(finished.withLock { $0 } == 4)
        var answered: [String: Int] = [:]
        for call in api.calls {
            switch call {
            case .respond(let address, let body):
                #expect(body == Data("p\(address.requestID.dropFirst())".utf8))
                #expect(address.invocationID == "n\(address.requestID.dropFirst())")
                answered[address.requestID, default: 0] += 1
            case .reportError(let address, _):
                #expect(address.invocationID == "n\(address.requestID.dropFirst())")
                answered[address.requestID, default: 0] += 1
            case .stream:
                Issue.record("no stream expected")
            }
        }
        #expect(answered.count == 400 && answered.values.allSatisfy { $0 == 1 })
    }
}
