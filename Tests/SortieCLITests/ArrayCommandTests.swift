@testable import DevEnvironment
import DevTestSupport
import Foundation
import JobModel
import SortieTestSupport
import Testing

/// `submit --array`, `--sequential`, `--n-to-n` and `describe` run as the `sortie` executable
/// against `sortie dev`: the children's steps write what they see to a file outside their
/// sandboxes, so the bounds and orders are observed where the steps ran, and the demo's story 7.
@Suite("Array jobs through sortie's commands against sortie dev")
struct ArrayCommandTests {
    /// One line per step start and end, `start|end <job> <index> <size>`, in the order they happened.
    static func events(_ path: String) throws -> [(edge: String, job: String, index: Int, size: Int)] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 4, let index = Int(fields[2]), let size = Int(fields[3]) else { return nil }
            return (fields[0], fields[1], index, size)
        }
    }

    /// `sortie dev` with the `sortie` command, the demo's story and a trace file for the steps to write to.
    static func onDev(
        _ body: (@Sendable ([String]) async throws -> Command.Result, DemoStory, String) async throws -> Void
    ) async throws {
        try await DevHarness.onDev { environment, _ in
            let trace = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-array-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: trace) }
            try await body(try CommandTests.sortie(environment), DemoStory(environment: environment, patience: .seconds(60)) { _ in }, trace)
        }
    }

    /// A spec whose step notes its start and end in `trace`, failing where `fails` says (a shell test on the index).
    static func spec(_ name: String, trace: String, maxConcurrency: Int, fails: String = "false") -> JobSpec {
        let note = #"echo "$1 $SORTIE_JOB $SORTIE_ARRAY_INDEX $SORTIE_ARRAY_SIZE" >> "# + trace
        let run = "note() { \(note); }; note start; sleep 0.5; note end; if \(fails); then echo 'bad shard' >&2; exit 3; fi"
        return JobSpec(name: name, instance: DemoStory.demoInstance, steps: [.init(name: "shard", run: run)], timeoutSeconds: 60, maxConcurrency: maxConcurrency)
    }

    @Test("an array of 5 with max_concurrency 2 drains with never more than two running, each child seeing its index and the size, describe listing the children; one failing child fails the parent, naming it; out of range is refused; the demo's story 7 holds")
    func drainAndFailure() async throws {
        try await Self.onDev { run, story, trace in
            let json = CommandTests.json
            try await story.publish(Self.spec("arr-fan", trace: trace, maxConcurrency: 2))
            try await story.publish(Self.spec("arr-flaky", trace: trace, maxConcurrency: 3, fails: #"[ "$SORTIE_ARRAY_INDEX" = 1 ]"#))

            let submitted = try await run(["submit", "arr-fan", "--array", "5", "--json"])
            let answer = try json(submitted)
            #expect(answer["arraySize"] as? Int == 5 && answer["state"] as? String == "RUNNING", "\(submitted.stdout)\(submitted.stderr)")
            let parent = try #require(answer["jobId"] as? String)
            let decided = try await story.settled(parent) { $0.state.isFinal }
            #expect(decided.state == .succeeded && decided.statusReason == "All 5 children SUCCEEDED", "\(decided.statusReason ?? "")")
            let fan = try Self.events(trace).filter { $0.job == "arr-fan" }
            #expect(fan.filter { $0.edge == "start" }.map(\.index).sorted() == [0, 1, 2, 3, 4] && fan.allSatisfy { $0.size == 5 }, "\(fan)")
            var running = 0
            var most = 0
            for event in fan {
                running += event.edge == "start" ? 1 : -1
                most = max(most, running)
            }
            #expect(most <= 2 && most >= 1, "at most \(most) at once: \(fan)")

            let described = try json(try await run(["describe", parent, "--json"]))
            let array = try #require(described["array"] as? [String: Any])
            #expect(array["size"] as? Int == 5 && array["succeeded"] as? Int == 5 && array["created"] as? Int == 5)
            let children = try #require(array["children"] as? [[String: Any]])
            #expect(children.map { $0["index"] as? Int } == [0, 1, 2, 3, 4] && children.allSatisfy { $0["state"] as? String == "SUCCEEDED" })
            let text = try await run(["describe", parent])
            #expect(text.stdout.contains("array of 5: 5 created, 5 succeeded, 0 failed") && text.stdout.contains("\(JobArrays.childID(parent, 4))  SUCCEEDED"), "\(text.stdout)")
            let child = try json(try await run(["describe", JobArrays.childID(parent, 3), "--json"]))
            #expect(child["arrayParent"] as? String == parent && child["arrayIndex"] as? Int == 3 && child["arraySize"] as? Int == 5)

            let flaky = try #require(try json(try await run(["submit", "arr-flaky", "--array", "3", "--json"]))["jobId"] as? String)
            let failed = try await story.settled(flaky) { $0.state.isFinal }
            #expect(failed.state == .failed, "\(failed.statusReason ?? "")")
            #expect(failed.statusReason?.hasPrefix("1 of 3 children FAILED; first: child 1 (\(JobArrays.childID(flaky, 1)))") == true, "\(failed.statusReason ?? "")")

            for size in ["1", "10001"] {
                let refused = try await run(["submit", "arr-fan", "--array", size])
                #expect(refused.status == 1 && refused.stderr.contains("2 to 10,000 children"), "\(refused.stderr)")
            }
            let checks = try await story.arrayJob()
            let failedChecks = checks.filter { !$0.passed }
            #expect(failedChecks.isEmpty, "\(failedChecks)")
        }
    }

    @Test("SEQUENTIAL runs each child after the one before it; N_TO_N runs child i of B after child i of A, and a failed child of A fails child i of B")
    func dependencies() async throws {
        try await Self.onDev { run, story, trace in
            let json = CommandTests.json
            try await story.publish(Self.spec("arr-seq", trace: trace, maxConcurrency: 3))
            try await story.publish(Self.spec("arr-up", trace: trace, maxConcurrency: 3, fails: #"[ "$SORTIE_ARRAY_INDEX" = 2 ]"#))
            try await story.publish(Self.spec("arr-down", trace: trace, maxConcurrency: 3))

            let sequential = try #require(try json(try await run(["submit", "arr-seq", "--array", "3", "--sequential", "--json"]))["jobId"] as? String)
            #expect(try await story.settled(sequential) { $0.state.isFinal }.state == .succeeded)
            let order = try Self.events(trace).filter { $0.job == "arr-seq" }.map { "\($0.edge) \($0.index)" }
            #expect(order == ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"], "\(order)")

            let up = try #require(try json(try await run(["submit", "arr-up", "--array", "3", "--json"]))["jobId"] as? String)
            let downAnswer = try await run(["submit", "arr-down", "--array", "3", "--n-to-n", up, "--json"])
            let down = try #require(try json(downAnswer)["jobId"] as? String, "\(downAnswer.stdout)\(downAnswer.stderr)")
            let downDecided = try await story.settled(down) { $0.state.isFinal }
            #expect(try await story.settled(up) { $0.state.isFinal }.state == .failed)
            #expect(downDecided.state == .failed && downDecided.statusReason?.contains("first: child 2") == true, "\(downDecided.statusReason ?? "")")
            let events = try Self.events(trace)
            func at(_ job: String, _ edge: String, _ index: Int) -> Int? { events.firstIndex { $0.job == job && $0.edge == edge && $0.index == index } }
            for index in 0..<2 {
                let (upEnd, downStart) = (try #require(at("arr-up", "end", index)), try #require(at("arr-down", "start", index)))
                #expect(upEnd < downStart, "child \(index): \(events)")
            }
            #expect(at("arr-down", "start", 2) == nil, "\(events)")
            let third = try json(try await run(["describe", JobArrays.childID(down, 2), "--json"]))
            #expect(third["state"] as? String == "FAILED" && (third["statusReason"] as? String)?.hasPrefix("Dependency arr-up \(JobArrays.childID(up, 2)) FAILED") == true, "\(third)")
        }
    }

    @Test("cancel on an array's parent: FAILED at once with the cancel's reason, its running children terminated and recorded FAILED without the retry their rules allow, its unstarted ones FAILED, no child made after it; a job depending on it and an N_TO_N array on it FAILED; cancelled again: refused")
    func cancel() async throws {
        try await Self.onDev { run, story, trace in
            let json = CommandTests.json
            var slow = Self.spec("arr-slow", trace: trace, maxConcurrency: 2)
            slow.steps = [.init(name: "shard", run: "sleep 45")]
            slow.retry = RetryStrategy(attempts: 3)
            try await story.publish(slow)
            try await story.publish(Self.spec("arr-after", trace: trace, maxConcurrency: 2))
            try await story.publish(Self.spec("arr-next", trace: trace, maxConcurrency: 1))

            let parent = try #require(try json(try await run(["submit", "arr-slow", "--array", "6", "--json"]))["jobId"] as? String)
            let down = try #require(try json(try await run(["submit", "arr-after", "--array", "6", "--n-to-n", parent, "--json"]))["jobId"] as? String)
            let next = try #require(try json(try await run(["submit", "arr-next", "--depends-on", parent, "--json"]))["jobId"] as? String)
            for index in 0..<2 { _ = try await story.settled(JobArrays.childID(parent, index)) { $0.state == .running } }

            let cancelled = try await run(["cancel", parent, "--wait", "--json"])
            #expect(cancelled.status == 0, "\(cancelled.stdout)\(cancelled.stderr)")
            let record = try json(cancelled)
            #expect(record["state"] as? String == "FAILED" && record["statusReason"] as? String == "Cancelled by tester", "\(record)")

            // The window (twice max_concurrency) had made four; none after the cancel, none retried.
            let array = try #require(try json(try await run(["describe", parent, "--json"]))["array"] as? [String: Any])
            let children = try #require(array["children"] as? [[String: Any]])
            #expect(array["created"] as? Int == 4 && array["failed"] as? Int == 4, "\(array)")
            #expect(children.allSatisfy { $0["state"] as? String == "FAILED" && $0["attempt"] as? Int == 1 }, "\(children)")
            for index in 0..<4 {
                let child = try await story.settled(JobArrays.childID(parent, index)) { $0.state.isFinal }
                // Ended by the cancel, or (queued, its start refused) when its turn came first.
                #expect(child.statusReason == "Cancelled by tester" || child.statusReason == "Array \(parent) ended before this child started: Cancelled by tester", "child \(index): \(child.statusReason ?? "")")
            }
            let follower = try await story.settled(next) { $0.state.isFinal }
            #expect(follower.state == .failed && follower.statusReason?.contains("Dependency arr-slow \(parent) FAILED: Cancelled by tester") == true, "\(follower.statusReason ?? "")")
            let downstream = try await story.settled(down) { $0.state.isFinal }
            #expect(downstream.state == .failed && downstream.statusReason?.hasPrefix("6 of 6 children FAILED") == true, "\(downstream.statusReason ?? "")")
            let sixth = try json(try await run(["describe", JobArrays.childID(down, 5), "--json"]))
            #expect((sixth["statusReason"] as? String)?.contains("was never created: array \(parent) FAILED: Cancelled by tester") == true, "\(sixth)")

            let again = try await run(["cancel", parent])
            #expect(again.status == 1 && again.stderr.contains("has already ended"), "\(again.stderr)")
            #expect(!FileManager.default.fileExists(atPath: trace), "no N_TO_N child ran")
        }
    }
}
