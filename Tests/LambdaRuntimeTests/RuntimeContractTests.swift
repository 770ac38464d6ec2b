@testable import LocalRuntime
import Foundation
import LoopbackHTTP
import SortieTestSupport
import Testing

/// Today's Runtime API contract: the invocation id echoed on every answer, and a refused late
/// answer (410) that is the invocation's end, not the process's.
@Suite("Invocation ids and refused answers")
struct RuntimeContractTests {
    @Test("the local Runtime API sends an invocation id and takes only an answer that echoes it")
    func localRuntimeChecksTheEcho() async throws {
        let queue = InvocationQueue()
        let routes = RuntimeAPIRoutes(queue: queue, functionARN: "arn:test", lateAnswersGone: true)
        let outcome = Task { await queue.submit(InvocationRequest(payload: Data("{}".utf8), timeout: .seconds(10))) }
        let next = await routes.respond(to: LoopbackRequest(method: "GET", uri: "/2018-06-01/runtime/invocation/next", headers: [], body: []))
        let requestID = try #require(next.headers.first { $0.0 == "Lambda-Runtime-Aws-Request-Id" }?.1)
        let invocationID = try #require(next.headers.first { $0.0 == "Lambda-Runtime-Invocation-Id" }?.1)
        func answer(_ id: String?) async -> LoopbackResponse {
            await routes.respond(to: LoopbackRequest(
                method: "POST", uri: "/2018-06-01/runtime/invocation/\(requestID)/response",
                headers: id.map { [("Lambda-Runtime-Invocation-Id", $0)] } ?? [], body: Array("ok".utf8)))
        }
        for wrong in [nil, "another-id"] {
            let refused = await answer(wrong)
            #expect(refused.status == 400)
            #expect(String(decoding: refused.body, as: UTF8.self).contains("InvalidInvocationId"))
        }
        #expect(await answer(invocationID).status == 202)
        #expect(await outcome.value == .response(requestID: requestID, body: Data("ok".utf8)))
    }

    @Test("without invocation ids, an answer carrying one is refused; a late answer gets 410, or 400 when told so")
    func localRuntimeWithoutIDsAndLateAnswers() async throws {
        for gone in [true, false] {
            let queue = InvocationQueue(sendsInvocationIDs: false)
            let routes = RuntimeAPIRoutes(queue: queue, functionARN: "arn:test", lateAnswersGone: gone)
            let first = Task { await queue.submit(InvocationRequest(payload: Data(), timeout: .seconds(10))) }
            let next = await routes.respond(to: LoopbackRequest(method: "GET", uri: "/2018-06-01/runtime/invocation/next", headers: [], body: []))
            #expect(!next.headers.contains { $0.0 == "Lambda-Runtime-Invocation-Id" })
            let requestID = try #require(next.headers.first { $0.0 == "Lambda-Runtime-Aws-Request-Id" }?.1)
            let path = "/2018-06-01/runtime/invocation/\(requestID)/response"
            let carrying = await routes.respond(to: LoopbackRequest(method: "POST", uri: path, headers: [("Lambda-Runtime-Invocation-Id", "x")], body: []))
            #expect(carrying.status == 400)
            #expect(await routes.respond(to: LoopbackRequest(method: "POST", uri: path, headers: [], body: [])).status == 202)
            _ = await first.value

            let late = Task { await queue.submit(InvocationRequest(payload: Data(), timeout: .seconds(10), expiresOnHandover: true)) }
            let expired = await routes.respond(to: LoopbackRequest(method: "GET", uri: "/2018-06-01/runtime/invocation/next", headers: [], body: []))
            let lateID = try #require(expired.headers.first { $0.0 == "Lambda-Runtime-Aws-Request-Id" }?.1)
            #expect(await late.value == .timedOut(requestID: lateID))
            let refused = await routes.respond(to: LoopbackRequest(
                method: "POST", uri: "/2018-06-01/runtime/invocation/\(lateID)/error", headers: [], body: []))
            #expect(refused.status == (gone ? 410 : 400))
            if gone { #expect(String(decoding: refused.body, as: UTF8.self).contains("ErrorRuntimeInvokeTimeout")) }
        }
    }

    @Test("echo under ids and 410s: each refused answer is one log line naming request and invocation, and serving goes on",
          arguments: [true, false])
    func echoThroughRefusals(gone: Bool) async throws {
        try await withFunction("echo", lateAnswersGone: gone) { (function: LocalFunction) async throws in
        var expired: [String] = []
        for index in 0..<30 {
            let payload = Data("{\"n\":\(index)}".utf8)
            let outcome = await function.invoke(InvocationRequest(
                payload: index % 3 == 1 ? Data(#"{"fail": true}"#.utf8) : payload, timeout: .seconds(20),
                expiresOnHandover: index % 3 != 0))
            if index % 3 == 0 {
                #expect(try outcome.responseBody() == payload)
            } else {
                guard case .timedOut(let requestID) = outcome else { Issue.record("\(outcome)"); continue }
                expired.append(requestID)
            }
        }
        #expect(function.exitStatusIfEnded == nil)
        let status = gone ? "HTTP 410" : "HTTP 400"
        let log = await function.capturedLog { text in expired.allSatisfy { text.contains("request \($0) (invocation id ") } }
        for requestID in expired {
            let lines = log.split(separator: "\n").filter { $0.contains("refused") && $0.contains(requestID) }
            #expect(lines.count == 1, "\(log)")
            let line = String(lines.first ?? "")
            #expect(line.contains(status) && !line.contains("invocation id none"), "\(line)")
        }
        }
    }

    @Test("a Runtime API that sends no invocation ids is answered without one")
    func noInvocationIDs() async throws {
        try await withFunction("echo", sendsInvocationIDs: false) { (function: LocalFunction) async throws in
            for index in 0..<3 {
                #expect(try await function.invoke(json: "{\"i\":\(index)}").responseBody() == Data("{\"i\":\(index)}".utf8))
            }
            #expect(try await function.invoke(json: #"{"fail": true}"#).functionError().type == "EchoFailure")
        }
    }
}
