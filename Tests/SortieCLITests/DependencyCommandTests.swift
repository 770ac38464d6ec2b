@testable import DevEnvironment
import DevTestSupport
import Foundation
import JobModel
import SortieTestSupport
import Testing

/// `submit --depends-on`, `jobs --state PENDING`, `describe` and `cancel` on a chain, run as the
/// `sortie` executable against `sortie dev`.
@Suite("Dependencies through sortie's commands against sortie dev")
struct DependencyCommandTests {
    @Test("a chain of three by --depends-on: PENDING while they wait, listed by jobs --state PENDING; the middle one fails, the last FAILED naming it without an instance; describe shows both directions; a cancelled job fails its dependents")
    func chainOfThree() async throws {
        try await DevHarness.onDev { environment, _ in
            let run = try CommandTests.sortie(environment)
            let json = CommandTests.json
            let story = DemoStory(environment: environment, patience: .seconds(30)) { _ in }
            // The first job holds until the test has seen the others PENDING (at most 30 s), however
            // slowly a loaded machine runs the commands in between.
            let gate = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-gate-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: gate) }
            let hold = "for i in $(seq 300); do [ -e \(gate) ] && break; sleep 0.1; done; echo first"
            let first = JobSpec(name: "dep-first", instance: DemoStory.demoInstance, steps: [.init(name: "work", run: hold)], timeoutSeconds: 60)
            let second = JobSpec(name: "dep-second", instance: DemoStory.demoInstance, steps: [.init(name: "work", run: "echo broken >&2; exit 4")], timeoutSeconds: 60)
            let third = JobSpec(name: "dep-third", instance: DemoStory.demoInstance, steps: [.init(name: "work", run: "echo never")], timeoutSeconds: 60)
            for spec in [first, second, third] { try await story.publish(spec) }

            let a = try #require(try json(try await run(["submit", "dep-first", "--json"]))["jobId"] as? String)
            let submittedB = try await run(["submit", "dep-second", "--depends-on", a, "--json"])
            let answerB = try json(submittedB)
            #expect(answerB["outcome"] as? String == "pending" && answerB["state"] as? String == "PENDING", "\(submittedB.stdout)")
            let b = try #require(answerB["jobId"] as? String)
            let c = try #require(try json(try await run(["submit", "dep-third", "--depends-on", b, "--json"]))["jobId"] as? String)

            let pending = try await run(["jobs", "--state", "PENDING", "--json"])
            let listed = try #require(try json(pending)["jobs"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(Set(listed) == [b, c], "\(pending.stdout)")
            let table = try await run(["jobs", "--state", "pending"])
            #expect(table.stdout.contains(b) && table.stdout.contains("PENDING") && !table.stdout.contains(a), "\(table.stdout)")
            FileManager.default.createFile(atPath: gate, contents: nil)

            // The last one is followed to its end: FAILED (status 1), naming the middle one.
            let waited = try await run(["describe", c])
            #expect(waited.stdout.contains("waits for:") && waited.stdout.contains("\(b)  dep-second"), "\(waited.stdout)")
            let record = try await story.settled(c) { $0.state.isFinal }
            #expect(record.state == .failed && record.instanceID == nil)
            #expect(record.statusReason == "Dependency dep-second \(b) FAILED: Essential step failed" || record.statusReason?.hasPrefix("Dependency dep-second \(b) FAILED") == true, "\(record.statusReason ?? "")")
            #expect(try await story.settled(a) { $0.state.isFinal }.state == .succeeded)
            let described = try await run(["describe", b, "--json"])
            let object = try json(described)
            #expect((object["waitsFor"] as? [[String: Any]])?.first?["id"] as? String == a)
            #expect((object["waitsFor"] as? [[String: Any]])?.first?["state"] as? String == "SUCCEEDED")
            #expect((object["waitedOnBy"] as? [[String: Any]])?.first?["id"] as? String == c)
            #expect(object["dependsOn"] as? [String] == [a] && object["dependents"] as? [String] == [c])
            let text = try await run(["describe", b])
            #expect(text.stdout.contains("waited on by:") && text.stdout.contains("\(c)  dep-third") && text.stdout.contains("FAILED"), "\(text.stdout)")

            // An unknown id is refused with the launcher's reason; a cancelled PENDING job fails its dependent at once.
            let unknown = try await run(["submit", "dep-third", "--depends-on", "no-such-job"])
            #expect(unknown.status == 1 && unknown.stderr.contains("no job no-such-job"), "\(unknown.stderr)")
            let slow = JobSpec(name: "dep-slow", instance: DemoStory.demoInstance, steps: [.init(name: "work", run: "exec sleep 60")], timeoutSeconds: 120)
            try await story.publish(slow)
            let s = try #require(try json(try await run(["submit", "dep-slow", "--json"]))["jobId"] as? String)
            let d = try #require(try json(try await run(["submit", "dep-second", "--depends-on", s, "--json"]))["jobId"] as? String)
            let e = try #require(try json(try await run(["submit", "dep-third", "--depends-on", d, "--json"]))["jobId"] as? String)
            let cancelled = try await run(["cancel", d])
            #expect(cancelled.status == 0, "\(cancelled.stderr)")
            let followed = try await story.settled(e) { $0.state.isFinal }
            #expect(followed.state == .failed && followed.statusReason?.contains("Cancelled by tester") == true, "\(followed.statusReason ?? "")")
            _ = try await run(["cancel", s])
        }
    }
}
