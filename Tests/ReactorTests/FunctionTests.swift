import Foundation
import LocalRuntime
import Reactor
import JobModel
import SortieTestSupport
import Testing

@Suite("The retry-reactor function under the local Runtime API, against moto", .serialized)
struct FunctionTests {
    struct Answer: Decodable {
        var outcome: String
        var jobID: String?
        var decision: String?
        var started: [String]?
        var detail: String?

        enum CodingKeys: String, CodingKey {
            case outcome, jobID = "jobId", decision, started, detail
        }
    }

    @Test("real event shapes in: a terminated instance's success is decided and the waiting job started; shutting-down is ignored; a malformed event is an error")
    func function() async throws {
        let deployment = try await ReactorDeployment.create()
        let name = Deployment.uniqueName("fn")
        _ = try await deployment.publish(name)
        let first = try #require(try await deployment.submit(name).jobID)
        let second = try #require(try await deployment.submit(name).jobID)
        let record = try await deployment.record(first)
        let instance = try #require(record.instanceID)
        try await deployment.runnerReports(record, exitCode: 0)
        try await deployment.terminate(instance)

        let function = try await LocalFunction.start(.init(
            executable: try BuiltProducts.executable("retry-reactor"), functionName: "retry-reactor", environment: deployment.environment, logs: .capture))
        func send(_ payload: Data) async throws -> InvocationOutcome {
            await function.invoke(InvocationRequest(payload: payload))
        }
        let ended = try await send(ReactorDeployment.event("ec2-state-change-terminated.json", instanceID: instance))
        let shutting = try await send(ReactorDeployment.event("ec2-state-change-shutting-down.json", instanceID: instance))
        let malformed = try await send(Data(#"{"detail-type": "Something Else", "detail": {}}"#.utf8))
        await function.stop()

        guard case .response(_, let body) = ended, case .response(_, let ignoredBody) = shutting else {
            Issue.record("expected responses, got \(ended) and \(shutting)\n\(function.capturedLog.suffix(3000))")
            return
        }
        let answer = try JSONDecoder().decode(Answer.self, from: body)
        #expect(answer.outcome == "decided" && answer.jobID == first && answer.decision == "SUCCEEDED" && answer.started == [second])
        #expect(try JSONDecoder().decode(Answer.self, from: ignoredBody).outcome == "ignored")
        guard case .functionError = malformed else {
            Issue.record("a malformed event should be an error, got \(malformed)")
            return
        }
        #expect(try await deployment.record(second).state == .starting)
        // The bootstrap's own log: the decision's metrics line, valid by the EMF specification's rules.
        let metrics = try EmbeddedMetricFormat.documents(in: function.capturedLog)
        #expect(metrics.map { $0.string("Outcome") } == ["SUCCEEDED"] && metrics.first?.string("JobId") == first)
        #expect(metrics.first?.values("JobsSucceeded") == [1])
    }
}
