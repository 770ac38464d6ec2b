import Foundation
import Reactor
import JobModel
import SortieTestSupport
import Testing

@Suite("The decision table, backoff and event shapes")
struct DecisionTests {
    static func record(_ state: JobState, attempt: Int = 1, exitCode: Int? = nil, statusReason: String? = nil, reason: String? = nil) -> JobRecord {
        JobRecord(id: "j1", job: "etl", parameters: [:], attempt: attempt, state: state, statusReason: statusReason, submittedAt: 1, exitCode: exitCode, reason: reason)
    }

    static func ending(_ code: String?, spotWarned: Bool = false, state: String? = "terminated") -> InstanceEnding {
        InstanceEnding(instanceID: "i-1", state: state, reasonCode: code, reasonMessage: code.map { "\($0): message" }, spotWarned: spotWarned)
    }

    @Test("the runner's success is SUCCEEDED; its failure follows attempts and evaluate_on_exit rules")
    func runnerRecorded() {
        let three = RetryStrategy(attempts: 3)
        #expect(Decision.verdict(Self.record(.succeeded, exitCode: 0), retry: three, ending: nil) == .succeeded)
        #expect(Decision.verdict(Self.record(.failed, attempt: 1, exitCode: 1), retry: three, ending: nil) == .retry)
        #expect(Decision.verdict(Self.record(.failed, attempt: 2, exitCode: 1), retry: three, ending: nil) == .retry)
        #expect(Decision.verdict(Self.record(.failed, attempt: 3, exitCode: 1), retry: three, ending: nil) == .failed)
        #expect(Decision.verdict(Self.record(.failed, exitCode: 1), retry: RetryStrategy(), ending: nil) == .failed)
        let rules = RetryStrategy(attempts: 3, evaluateOnExit: [
            .init(onExitCode: "2", action: .exit), .init(onReason: "Step * timed out*", action: .exit), .init(onStatusReason: "Host EC2*", action: .retry),
            .init(onExitCode: "*", action: .exit),
        ])
        #expect(Decision.verdict(Self.record(.failed, exitCode: 2), retry: rules, ending: nil) == .failed)
        #expect(Decision.verdict(Self.record(.failed, exitCode: 7), retry: rules, ending: nil) == .failed)
        #expect(Decision.verdict(Self.record(.failed, statusReason: "Host EC2 (instance i-1) terminated."), retry: rules, ending: Self.ending("Server.SpotInstanceTermination")) == .retry)
        for state in [JobState.submitted, .runnable, .starting, .running] {
            #expect(Decision.verdict(Self.record(state), retry: rules, ending: nil) == nil)
        }
        // An operator's cancel is never retried, whatever the rules or EC2's reason say.
        let host = Self.record(.failed, statusReason: "Host EC2 (instance i-1) terminated.")
        #expect(Decision.verdict(host, retry: rules, ending: Self.ending("Server.SpotInstanceTermination"), cancelled: true) == .failed)
        #expect(Decision.verdict(Self.record(.failed, exitCode: 1), retry: three, ending: nil, cancelled: true) == .failed)
        #expect(Decision.verdict(Self.record(.succeeded, exitCode: 0), retry: three, ending: nil, cancelled: true) == .succeeded)
    }

    @Test("no final record: EC2's server-side reasons and spot warnings are the host's failure; a person's or the instance's own shutdown is lost")
    func noFinalRecord() {
        for code in ["Server.SpotInstanceTermination", "Server.InternalError", "Server.InsufficientInstanceCapacity", "Server.ScheduledStop"] {
            let failure = Decision.failure(Self.ending(code))
            #expect(!failure.lost && failure.statusReason == "Host EC2 (instance i-1) terminated." && failure.reason == "\(code): message")
        }
        #expect(!Decision.failure(Self.ending("Client.UserInitiatedShutdown", spotWarned: true)).lost)
        let cancelled = Decision.failure(Self.ending("Server.SpotInstanceTermination"), cancelled: "Cancelled by ops")
        #expect(cancelled == AttemptFailure(statusReason: "Cancelled by ops", reason: "Host EC2 (instance i-1) terminated.", lost: true))
        let person = Decision.failure(Self.ending("Client.UserInitiatedShutdown"))
        #expect(person.lost && person.statusReason == "Lost: instance i-1 was terminated through the EC2 API before the runner's final record")
        let stopped = Decision.failure(Self.ending("Client.UserInitiatedShutdown", state: "stopped"))
        #expect(stopped.statusReason == "Lost: instance i-1 was stopped through the EC2 API before the runner's final record")
        let itself = Decision.failure(Self.ending("Client.InstanceInitiatedShutdown"))
        #expect(itself.lost && itself.statusReason == "Lost: instance i-1 shut itself down before the runner's final record")
        let gone = Decision.failure(Self.ending(nil, state: nil))
        #expect(gone.lost && gone.statusReason == "Lost: instance i-1 is no longer known to EC2 before the runner's final record")
    }

    @Test("a runner stopped by SIGTERM is retried only when EC2 (or a spot warning) says the host was taken")
    func interruptedRunner() {
        let interrupted = Self.record(.failed, statusReason: "Host EC2 (instance i-1) terminated.", reason: "Step 'load' stopped: the runner received SIGTERM")
        let three = RetryStrategy(attempts: 3)
        #expect(Decision.verdict(interrupted, retry: three, ending: Self.ending("Server.SpotInstanceTermination")) == .retry)
        #expect(Decision.verdict(interrupted, retry: three, ending: Self.ending("Client.UserInitiatedShutdown", spotWarned: true)) == .retry)
        #expect(Decision.verdict(interrupted, retry: three, ending: Self.ending("Client.UserInitiatedShutdown")) == .failed)
        #expect(Decision.verdict(interrupted, retry: three, ending: Self.ending("Client.InstanceInitiatedShutdown")) == .failed)
    }

    @Test("the backoff doubles with each attempt from its base, up to its maximum")
    func backoffGrows() {
        let backoff = Backoff(baseSeconds: 60, maxSeconds: 600)
        #expect((2...7).map(backoff.seconds(before:)) == [60, 120, 240, 480, 600, 600])
        #expect(Backoff(baseSeconds: 0, maxSeconds: 0).seconds(before: 5) == 0)
        #expect(Backoff(baseSeconds: 1, maxSeconds: 86_400).seconds(before: 1000) == 86_400)
    }

    @Test("the sample events in events/ decode as AWS sends them; other detail types are refused")
    func eventShapes() throws {
        func decode(_ file: String) throws -> ReactorEvent.Kind {
            try JSONDecoder().decode(ReactorEvent.self, from: Data(contentsOf: Repository.root.appendingPathComponent("events/\(file)"))).kind
        }
        #expect(try decode("ec2-state-change-terminated.json") == .stateChange(instanceID: "i-0abcd1234ef567890", state: "terminated"))
        #expect(try decode("ec2-state-change-stopped.json") == .stateChange(instanceID: "i-0abcd1234ef567890", state: "stopped"))
        #expect(try decode("ec2-state-change-shutting-down.json") == .stateChange(instanceID: "i-0abcd1234ef567890", state: "shutting-down"))
        #expect(try decode("ec2-spot-interruption-warning.json") == .interruptionWarning(instanceID: "i-0abcd1234ef567890"))
        #expect(try decode("retry-reactor-sweep.json") == .sweep)
        let other = Data(#"{"detail-type": "AWS API Call via CloudTrail", "detail": {}}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ReactorEvent.self, from: other) }
    }
}
