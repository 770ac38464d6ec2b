import AWSServices
import Foundation
import JobModel
import JobStore
import TableSchema
import Testing

@Suite("Arguments, retry rules, states and the job table")
struct ModelTests {
    private let spec = JobSpec(
        name: "demo", instance: InstanceSpec(types: ["t3.micro"], image: "ami-1"),
        arguments: ["date": .init(), "tables": .init(defaultValue: "orders")], steps: [.init(name: "a", run: "true")], timeoutSeconds: 60)

    @Test("arguments: given values win, defaults fill in, the rest are named")
    func arguments() throws {
        #expect(try spec.resolveArguments(["date": "2024-05-01"]) == ["date": "2024-05-01", "tables": "orders"])
        #expect(try spec.resolveArguments(["date": "x", "tables": ""]) == ["date": "x", "tables": ""])
        #expect(throws: ArgumentError("job 'demo' needs the argument date, which has no default")) { try spec.resolveArguments([:]) }
        #expect(throws: ArgumentError("job 'demo' takes no argument 'datum'; it declares date, tables")) { try spec.resolveArguments(["datum": "x"]) }
        #expect(throws: ArgumentError.self) { try spec.resolveArguments(["date": "a\u{0}b"]) }
    }

    @Test("retry rules match as AWS Batch's evaluateOnExit does: exact, or a prefix with a trailing *")
    func retryRules() {
        let strategy = RetryStrategy(attempts: 3, evaluateOnExit: [
            .init(onStatusReason: "Host EC2*", action: .retry),
            .init(onExitCode: "12*", action: .exit),
            .init(onExitCode: "137", onReason: "Step 'load'*", action: .retry),
            .init(onReason: "*", action: .exit),
        ])
        #expect(strategy.shouldRetry(attempt: 1, exitCode: nil, statusReason: "Host EC2 (instance i-1) terminated.", reason: "x"))
        #expect(!strategy.shouldRetry(attempt: 1, exitCode: 123, statusReason: "Step 'a' failed", reason: "Step 'a' exited"))
        #expect(strategy.shouldRetry(attempt: 1, exitCode: 137, statusReason: "Step 'load' failed", reason: "Step 'load' was killed"))
        #expect(!strategy.shouldRetry(attempt: 1, exitCode: 137, statusReason: "Step 'x' failed", reason: "Step 'x' was killed"))
        #expect(!strategy.shouldRetry(attempt: 3, exitCode: nil, statusReason: "Host EC2 (instance i-1) terminated.", reason: nil))
        // No rule matches: retry while attempts remain.
        #expect(RetryStrategy(attempts: 2).shouldRetry(attempt: 1, exitCode: 3, statusReason: nil, reason: nil))
        #expect(!RetryStrategy(attempts: 1).shouldRetry(attempt: 1, exitCode: 3, statusReason: nil, reason: nil))
    }

    @Test("state transitions: forward only, final states are final, slots held while STARTING or RUNNING")
    func states() {
        #expect(JobState.submitted.successors == [.pending, .runnable, .starting, .running, .failed])
        #expect(JobState.runnable.successors == [.starting, .failed])
        #expect(JobState.succeeded.successors.isEmpty && JobState.failed.successors.isEmpty)
        #expect(JobState.starting.predecessors == [.submitted, .runnable])
        #expect(JobState.allCases.filter(\.holdsSlot) == [.starting, .running])
    }

    @Test("a record survives the trip to an item and back; RUNNABLE ones carry the queue keys")
    func recordItems() throws {
        var record = JobRecord(
            id: "0b7c", job: "demo", parameters: ["date": "2024-05-01", "quote": "'; rm -rf / #"], attempt: 2, state: .runnable,
            statusReason: "Waiting for a slot", priority: 7, submittedAt: 1_714_000_000_123, eventID: "evt-1")
        record.history.append(.init(state: .runnable, at: 1_714_000_000_456, reason: "Waiting"))
        let item = JobTable.item(record)
        #expect(item["pk"] == .s("JOB#0b7c") && item["sk"] == .s("JOB"))
        #expect(item["gsi1pk"] == .s("QUEUE#demo") && item["gsi2pk"] == .s("QUEUE"))
        #expect(item["gsi1sk"] == .s("0993#1714000000123#0b7c"))
        #expect(try JobTable.record(item) == record)
        record.state = .running
        #expect(JobTable.item(record)["gsi1pk"] == nil)
        #expect(throws: JobTable.MalformedItem.self) { try JobTable.record(["pk": .s("JOB#x"), "state": .s("LOST")]) }
    }

    @Test("the queue order: higher priority first, then older first")
    func queueOrder() {
        func key(_ priority: Int, _ at: Int64, _ id: String) -> String {
            JobTable.queueKey(JobRecord(id: id, job: "demo", parameters: [:], priority: priority, submittedAt: at))
        }
        let keys = [key(0, 2000, "c"), key(5, 3000, "b"), key(0, 1000, "d"), key(-3, 500, "e"), key(1000, 9000, "a")]
        #expect(keys.sorted() == [key(1000, 9000, "a"), key(5, 3000, "b"), key(0, 1000, "d"), key(0, 2000, "c"), key(-3, 500, "e")])
    }
}
