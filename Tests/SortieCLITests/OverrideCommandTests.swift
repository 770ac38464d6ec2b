@testable import DevEnvironment
import DevTestSupport
import Foundation
import JobModel
import SortieTestSupport
import Testing

/// `submit --override` and `describe` run as the `sortie` executable against `sortie dev`, and the
/// demo's story 6.
@Suite("Overrides through sortie's commands against sortie dev")
struct OverrideCommandTests {
    @Test("submit --override changes what the spec allows for that job (the steps see it on a spot instance), describe shows it, text and --json; an override the spec does not list is refused by name; the demo's story 6 holds")
    func overrides() async throws {
        try await DevHarness.onDev { environment, _ in
            let run = try CommandTests.sortie(environment)
            let json = CommandTests.json
            let story = DemoStory(environment: environment, patience: .seconds(30)) { _ in }
            var spec = DemoStory.debugReport
            spec.name = "ovr-report"
            spec.overrides = ["environment.LEVEL", "market"]
            try await story.publish(spec)

            let submitted = try await run(["submit", "ovr-report", "--override", "environment.LEVEL=debug", "--override", "market=spot", "--json"])
            let id = try #require(try json(submitted)["jobId"] as? String, "\(submitted.stdout)\(submitted.stderr)")
            let record = try await story.settled(id) { $0.state.isFinal }
            #expect(record.state == .succeeded && record.market == .spot, "\(record.statusReason ?? "")")
            let text = try await run(["describe", id])
            #expect(text.stdout.contains("overrides: environment.LEVEL=debug, market=spot") && text.stdout.contains("t3.micro, spot"), "\(text.stdout)")
            let object = try json(try await run(["describe", id, "--json"]))
            #expect(object["overrides"] as? [String: String] == ["environment.LEVEL": "debug", "market": "spot"])
            #expect(object["market"] as? String == "spot" && object["instanceType"] as? String == "t3.micro")

            let refused = try await run(["submit", "ovr-report", "--override", "git_branch=feature"])
            #expect(refused.status == 1 && refused.stderr.contains("does not allow the override 'git_branch'"), "\(refused.stderr)")
            let malformed = try await run(["submit", "ovr-report", "--override", "market"])
            #expect(malformed.status != 0 && malformed.stderr.contains("--override takes NAME=VALUE"), "\(malformed.stderr)")

            let failed = try await story.overriddenJob().filter { !$0.passed }
            #expect(failed.isEmpty, "\(failed)")
        }
    }
}
