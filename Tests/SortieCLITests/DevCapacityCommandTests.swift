@testable import DevEnvironment
import DevTestSupport
import Foundation
import JobModel
import SortieTestSupport
import Testing

/// `sortie dev capacity`, run as the `sortie` executable against `sortie dev`: the shortage it
/// stages is what the launcher meets through `sortie dev`'s EC2 front.
@Suite("A capacity shortage staged on sortie dev")
struct DevCapacityCommandTests {
    @Test("dev capacity --sold-out refuses RunInstances for those types (the job RUNNABLE, naming InsufficientInstanceCapacity); --available lets it launch; shown as text and --json; opposite options refused; an EC2 that is not sortie dev's is named")
    func stagedShortage() async throws {
        try await DevHarness.onDev { environment, _ in
            let run = try CommandTests.sortie(environment)
            let json = CommandTests.json
            let story = DemoStory(environment: environment, patience: .seconds(30)) { _ in }
            var spec = DemoStory.shortageReport
            spec.name = "cap-report"
            spec.instance.types = ["c7i.large", "t3.micro"]
            try await story.publish(spec)

            let shown = try await run(["dev", "capacity"])
            #expect(shown.status == 0 && shown.stdout == "EC2 has capacity for every type\n", "\(shown.stdout)\(shown.stderr)")
            let staged = try json(try await run(["dev", "capacity", "--sold-out", "t3.micro, c7i.large", "--json"]))
            #expect(staged["soldOut"] as? [String] == ["c7i.large", "t3.micro"])
            #expect(environment.ec2.soldOut == ["c7i.large", "t3.micro"])

            let id = try #require(try json(try await run(["submit", "cap-report", "--json"]))["jobId"] as? String)
            let waiting = try await story.settled(id) { $0.state == .runnable && environment.ec2.refusals >= 4 }
            #expect(waiting.state == .runnable && waiting.instanceID == nil, "\(waiting)")
            #expect(waiting.statusReason?.contains("c7i.large: InsufficientInstanceCapacity, t3.micro: InsufficientInstanceCapacity") == true, "\(waiting.statusReason ?? "")")

            let partly = try await run(["dev", "capacity", "--sold-out", "c7i.large"])
            #expect(partly.stdout == "EC2 has no capacity for c7i.large\n", "\(partly.stdout)")
            let launched = try await story.settled(id) { $0.state.isFinal }
            #expect(launched.state == .succeeded && launched.instanceType == "t3.micro", "\(launched)")
            #expect(try await run(["dev", "capacity", "--available"]).stdout == "EC2 has capacity for every type\n")
            #expect(environment.ec2.soldOut.isEmpty)

            let both = try await run(["dev", "capacity", "--sold-out", "t3.micro", "--available"])
            #expect(both.status == 64 && both.stderr.contains("--sold-out and --available"), "\(both.stderr)")
        }
    }

    @Test("dev capacity names an EC2 endpoint that is not sortie dev's, and a missing one")
    func notDev() async throws {
        try await DevHarness.onDev { environment, _ in
            let sortie = try BuiltProducts.executable("sortie")
            var settings = environment.environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) { $1 }
            settings["AWS_ENDPOINT_URL_EC2"] = environment.moto.endpoint
            let toMoto = settings
            let moto = try await blocking { try Command.run(sortie, ["dev", "capacity"], environment: toMoto, timeout: .seconds(60)) }
            #expect(moto.status == 1 && moto.stderr.contains("is not sortie dev's EC2") && moto.stderr.contains("only sortie dev can stage a shortage"), "\(moto.stderr)")
            settings["AWS_ENDPOINT_URL_EC2"] = nil
            let unset = settings
            let missing = try await blocking { try Command.run(sortie, ["dev", "capacity"], environment: unset, timeout: .seconds(60)) }
            #expect(missing.status == 1 && missing.stderr.contains("set AWS_ENDPOINT_URL_EC2"), "\(missing.stderr)")
        }
    }
}
