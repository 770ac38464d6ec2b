import Foundation
import LocalRuntime
import Testing

@Suite("What a handler sees: context, decoding, logs, init errors")
struct ContextTests {
    @Test("every context field arrives, and the trace id is exported while the handler runs")
    func contextFields() async throws {
        let environment = [
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769",
            "AWS_LAMBDA_FUNCTION_VERSION": "7",
        ]
        try await withFunction("RuntimeProbe", environment: environment) { function in
            let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            let clientContext = #"{"client":{"installation_id":"inst-1","app_title":"Sortie","app_version_name":"1.0","app_version_code":"100","app_package_name":"dev.sortie"},"custom":{"team":"data"},"env":{"platform":"linux"}}"#
            let cognito = #"{"cognitoIdentityId":"us-east-1:1234","cognitoIdentityPoolId":"us-east-1:pool"}"#
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            let outcome = await function.invoke(
                Data(#"{"action":"report"}"#.utf8), timeout: .seconds(30), tenantID: "tenant-42", traceID: trace,
                clientContext: clientContext, cognitoIdentity: cognito)
            let report = try JSONSerialization.jsonObject(with: outcome.responseBody()) as? [String: Any] ?? [:]

            #expect(report["requestID"] as? String == outcome.requestID)
            let deadline = try #require(report["deadlineMilliseconds"] as? Int64)
            #expect(deadline >= before + 29_000 && deadline <= before + 31_000)
            let remaining = try #require(report["remainingMilliseconds"] as? Int64)
            #expect(remaining > 25_000 && remaining <= 30_000)
            #expect(report["invokedFunctionARN"] as? String == "arn:aws:lambda:us-east-1:000000000000:function:RuntimeProbe")
            #expect(report["traceID"] as? String == trace)
            #expect(report["traceEnvironment"] as? String == trace)
            #expect(report["tenantID"] as? String == "tenant-42")
            let client = try #require(report["clientContext"] as? [String: Any])
            #expect((client["client"] as? [String: Any])?["installation_id"] as? String == "inst-1")
            #expect((client["custom"] as? [String: String]) == ["team": "data"])
            #expect((client["env"] as? [String: String]) == ["platform": "linux"])
            let identity = try #require(report["cognitoIdentity"] as? [String: Any])
            #expect(identity["cognitoIdentityId"] as? String == "us-east-1:1234")
            #expect(identity["cognitoIdentityPoolId"] as? String == "us-east-1:pool")
            #expect(report["functionName"] as? String == "RuntimeProbe")
            #expect(report["functionVersion"] as? String == "7")
            #expect(report["memoryMegabytes"] as? Int == 1769)
            #expect(report["logGroupName"] as? String == "/aws/lambda/RuntimeProbe")
            #expect((report["logStreamName"] as? String)?.hasPrefix("local/[$LATEST]") == true)

            // The trace variable lives only for the invocation that set it.
            let plain = try JSONSerialization.jsonObject(with: await function.invoke(json: #"{"action":"report"}"#).responseBody()) as? [String: Any]
            #expect(plain?["traceEnvironment"] as? String != trace)
            #expect(plain?["tenantID"] == nil)
            #expect(plain?["clientContext"] == nil)
        }
    }

    @Test("an event that does not decode is answered on /error naming the field, and the loop goes on",
          arguments: [
              (#"{"action": 5}"#, "action"),
              (#"{"milliseconds": 3}"#, "missing field 'action'"),
              (#"{"action": "sleep", "milliseconds": "soon"}"#, "milliseconds"),
              (#"{"action": "report""#, "not valid JSON"),
          ])
    func decodeErrors(payload: String, expected: String) async throws {
        try await withFunction("RuntimeProbe") { function in
            let failure = try await function.invoke(json: payload).functionError()
            #expect(failure.type == "Runtime.UnmarshalError")
            let message = try #require(failure.report["errorMessage"] as? String)
            #expect(message.contains(expected), "message was: \(message)")
            #expect(message.contains("Event"))
            _ = try await function.invoke(json: #"{"action":"report"}"#).responseBody()
        }
    }

    @Test("an init error goes to /init/error and the process exits non-zero")
    func initError() async throws {
        try await withFunction("RuntimeProbe", environment: ["PROBE_FAIL_INIT": "1"]) { function in
            let outcome = await function.invoke(json: #"{"action":"report"}"#)
            guard case .initError(let type, let body) = outcome else {
                Issue.record("expected an init error, got \(outcome)")
                return
            }
            #expect(type == "ProbeInitFailure")
            let report = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            #expect(report?["errorMessage"] as? String == "PROBE_FAIL_INIT is set")
            let status = await function.waitForExit(timeout: .seconds(5))
            #expect(status != nil && status != 0)
        }
    }

    @Test("a Runtime API that fails ends the process with one clear line, within seconds")
    func runtimeAPIFails() async throws {
        try await withFunction("RuntimeProbe") { function in
            _ = try await function.invoke(json: #"{"action":"report"}"#).responseBody()
            await function.failRuntimeAPI()
            // The bound is the wait's: nil (no exit) within 5 s of the API failing fails the test. (A
            // stopwatch around both also counted the stand-in's own shutdown: 9.4 s on a loaded machine.)
            let status = await function.waitForExit(timeout: .seconds(5))
            #expect(status == 1)
            let fatal = function.capturedLog.split(separator: "\n").filter { $0.contains("FATAL") }
            #expect(fatal.count == 1, "log was: \(function.capturedLog)")
            #expect(fatal.first?.contains("Runtime API") == true)
        }
    }

    @Test("a Runtime API whose host goes away (port closed, connections dropped) ends the process")
    func runtimeAPIGoesAway() async throws {
        try await withFunction("RuntimeProbe") { function in
            _ = try await function.invoke(json: #"{"action":"report"}"#).responseBody()
            await function.stopRuntimeAPI()
            #expect(await function.waitForExit(timeout: .seconds(5)) == 1)
            let fatal = function.capturedLog.split(separator: "\n").filter { $0.contains("FATAL") }
            #expect(fatal.count == 1, "log was: \(function.capturedLog)")
            #expect(fatal.first?.contains("the Runtime API is unreachable") == true)
        }
    }

    @Test("a Runtime API that drops the connection, or is not there, ends the process within seconds",
          arguments: [true, false])
    func runtimeAPIDropsConnection(accepts: Bool) async throws {
        let peer = try DroppingPeer(accepts: accepts)
        let started = ContinuousClock.now
        let run = try ProbeRun(runtimeAPI: "127.0.0.1:\(peer.port)")
        #expect(run.status == 1)
        #expect(ContinuousClock.now - started < .seconds(5))
        let fatal = run.log.split(separator: "\n").filter { $0.contains("FATAL") }
        #expect(fatal.count == 1, "log was: \(run.log)")
        #expect(fatal.first?.contains("the Runtime API is unreachable") == true)
    }

    @Test("text logs carry the request id and honour AWS_LAMBDA_LOG_LEVEL")
    func textLogs() async throws {
        try await withFunction("RuntimeProbe", environment: ["AWS_LAMBDA_LOG_LEVEL": "DEBUG"]) { function in
            let outcome = await function.invoke(json: #"{"action":"log","message":"hello text"}"#)
            let requestID = try #require(outcome.requestID)
            let log = await function.capturedLog { $0.contains("hello text") && $0.contains("warning line") }
            let lines = log.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
            let info = try #require(lines.first { $0.last == "hello text" })
            #expect(info.count == 4)
            #expect(info[1] == requestID)
            #expect(info[2] == "INFO")
            #expect(info[0].hasSuffix("Z") && info[0].count == 24)
            #expect(lines.contains { $0.count == 4 && $0[2] == "DEBUG" && $0[1] == requestID })
        }
    }

    @Test("JSON logs have timestamp, level, requestId and message, filtered by level")
    func jsonLogs() async throws {
        let environment = ["AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "WARN"]
        try await withFunction("RuntimeProbe", environment: environment) { function in
            let outcome = await function.invoke(json: #"{"action":"log","message":"quiet \"please\""}"#)
            let requestID = try #require(outcome.requestID)
            _ = try outcome.responseBody()
            let log = await function.capturedLog { $0.contains("warning line") }
            let records = log.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            #expect(records.count == 1, "log was: \(log)")
            let warning = try #require(records.first)
            #expect(warning["level"] as? String == "WARN")
            #expect(warning["message"] as? String == "warning line")
            #expect(warning["requestId"] as? String == requestID)
            #expect((warning["timestamp"] as? String)?.hasSuffix("Z") == true)
        }
    }
}
