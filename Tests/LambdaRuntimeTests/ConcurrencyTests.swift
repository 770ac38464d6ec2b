import Foundation
import LocalRuntime
import Testing

@Suite("Several invocations at once (AWS_LAMBDA_MAX_CONCURRENCY)")
struct ConcurrencyTests {
    @Test("with concurrency 4, eight 200 ms invocations run four at a time, and logs name their own request")
    func parallelSleeps() async throws {
        try await withFunction("RuntimeProbe", concurrency: 4) { function in
            let outcomes = await withTaskGroup(of: InvocationOutcome.self) { group in
                for _ in 0..<8 {
                    group.addTask { await function.invoke(json: #"{"action":"sleep","milliseconds":200}"#) }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }

            var ids = Set<String>()
            for outcome in outcomes {
                let report = try JSONSerialization.jsonObject(with: outcome.responseBody()) as? [String: Any]
                let id = try #require(outcome.requestID)
                #expect(report?["requestID"] as? String == id)
                // A process-wide variable cannot hold four trace ids, so it stays unset.
                #expect(report?["traceEnvironment"] == nil)
                ids.insert(id)
            }
            #expect(ids.count == 8)

            let log = await function.capturedLog { $0.components(separatedBy: "\twoke ").count == 9 }
            let lines = log.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
            let sleepLines = lines.filter { $0.count == 4 && ($0[3].hasPrefix("sleeping ") || $0[3].hasPrefix("woke ")) }
            #expect(sleepLines.count == 16)
            // Measured by the log's order, not the clock: four asleep at once, never five.
            #expect(mostAtOnce(sleepLines.map { $0[3] }) == 4)
            for line in sleepLines {
                let named = String(line[3].split(separator: " ")[1])
                #expect(line[1] == named, "line \(line) carries another invocation's request id")
                #expect(ids.contains(named))
            }
        }
    }

    @Test("a failing invocation and a 7 MB response leave the other two untouched, and serving goes on")
    func failuresStayInTheirLoop() async throws {
        try await withFunction("RuntimeProbe", concurrency: 4) { function in
            let payloads = [
                #"{"action":"fail","message":"one of four"}"#,
                #"{"action":"report","bytes":7340032}"#,
                #"{"action":"sleep","milliseconds":150}"#,
                #"{"action":"sleep","milliseconds":150}"#,
            ]
            let outcomes = await withTaskGroup(of: (Int, InvocationOutcome).self) { group in
                for (index, payload) in payloads.enumerated() {
                    group.addTask { (index, await function.invoke(json: payload)) }
                }
                return await group.reduce(into: [Int: InvocationOutcome]()) { $0[$1.0] = $1.1 }
            }
            #expect(try outcomes[0]?.functionError().type == "ProbeFailure")
            #expect(try outcomes[1]?.functionError().type == "Function.ResponseSizeTooLarge")
            for index in [2, 3] {
                let report = try JSONSerialization.jsonObject(with: #require(outcomes[index]).responseBody()) as? [String: Any]
                #expect(report?["requestID"] as? String == outcomes[index]?.requestID)
            }
            _ = try await function.invoke(json: #"{"action":"report"}"#).responseBody()
            #expect(function.exitStatusIfEnded == nil)
        }
    }

    @Test("the tenant id reaches the context under concurrency")
    func tenantID() async throws {
        try await withFunction("RuntimeProbe", concurrency: 2) { function in
            let outcome = await function.invoke(Data(#"{"action":"report"}"#.utf8), tenantID: "acme",
                                                traceID: "Root=1-00000000-000000000000000000000001")
            let report = try JSONSerialization.jsonObject(with: outcome.responseBody()) as? [String: Any]
            #expect(report?["tenantID"] as? String == "acme")
            #expect(report?["traceID"] as? String == "Root=1-00000000-000000000000000000000001")
            #expect(report?["traceEnvironment"] == nil)
        }
    }

    @Test("a Runtime API failure ends every loop with a single log line")
    func fatalEndsAllLoops() async throws {
        try await withFunction("RuntimeProbe", concurrency: 4) { function in
            _ = try await function.invoke(json: #"{"action":"report"}"#).responseBody()
            await function.failRuntimeAPI()
            #expect(await function.waitForExit(timeout: .seconds(5)) == 1)
            let fatal = function.capturedLog.split(separator: "\n").filter { $0.contains("FATAL") }
            #expect(fatal.count == 1, "log was: \(function.capturedLog)")
        }
    }
}

/// The most invocations between their `sleeping <id>` and `woke <id>` lines at any point of a log.
func mostAtOnce(_ messages: some Sequence<String>) -> Int {
    var asleep = 0
    var most = 0
    for message in messages {
        if message.hasPrefix("sleeping ") { asleep += 1 } else if message.hasPrefix("woke ") { asleep -= 1 }
        most = max(most, asleep)
    }
    return most
}
