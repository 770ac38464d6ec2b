import AWSCore
import AWSServices
import Foundation
import LocalRuntime
import Logging
import JobModel
import JobStore
import SortieTestSupport
import TableSchema
import Testing

@Suite("Launching jobs against moto", .serialized)
struct LaunchTests {
    static let hostile: [String: String] = [
        "quote": "'; rm -rf / #", "dollar": "$(id)", "backticks": "`id` and `uname -a`", "newlines": "first\nsecond\n\nlast\n",
        "unicode": "naïve café ✓ 日本語 🚀", "mixed": #"a"b'c\d$e`f"#,
    ]

    @Test("a scheduled event launches one instance with the right type, tags and UserData; that UserData, run under bash with the runner in local mode, runs the steps with the arguments byte for byte")
    func scheduledLaunchRunsSteps() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("nightly")
        let writeArguments = Self.hostile.keys.sorted().map { #"printf '%s' "$SORTIE_ARG_\#($0)" > "$SORTIE_HOME/out/\#($0)""# }
        let spec = testSpec(name, steps: [
            .init(name: "first", run: "mkdir -p \"$SORTIE_HOME/out\"\necho first >> \"$SORTIE_HOME/out/order\"\n" + writeArguments.joined(separator: "\n")),
            .init(name: "second", run: "echo second >> \"$SORTIE_HOME/out/order\"; pwd > \"$SORTIE_HOME/out/pwd\"", timeoutSeconds: 30),
        ], arguments: Dictionary(uniqueKeysWithValues: Self.hostile.keys.map { ($0, JobSpec.ArgumentSpec()) }))
        try await deployment.publish(spec)

        let sample = try JSONSerialization.jsonObject(with: Data(contentsOf: Repository.root.appendingPathComponent("events/launcher-scheduled.json")))
        var event = try #require(sample as? [String: Any])
        event["id"] = UUID().uuidString
        event["resources"] = ["arn:aws:events:us-east-1:123456789012:rule/sortie-\(name)"]
        event["detail"] = ["args": Self.hostile]
        let function = try await deployment.launcherFunction()
        let outcome = await function.invoke(InvocationRequest(payload: try JSONSerialization.data(withJSONObject: event)))
        await function.stop()
        let answer = try #require(try outcome.answer(function))
        #expect(answer.outcome == "launched" && answer.state == "STARTING" && answer.attempt == 1 && answer.instanceType == "t3.micro")
        let jobID = try #require(answer.jobID)

        let instances = try await deployment.instances(job: name)
        #expect(instances.count == 1)
        let instance = try #require(instances.first)
        #expect(instance.instanceId == answer.instanceID)
        #expect(instance.instanceType == "t3.micro")
        #expect(instance.tag("sortie:job-id") == jobID && instance.tag("sortie:job") == name && instance.tag("sortie:attempt") == "1")
        let raw = try await blocking { () throws -> XML.Element in
            var parameters = QueryParameters()
            parameters.add("InstanceId.1", instance.instanceId)
            return try QueryProtocolClient(client: deployment.client, service: .ec2, version: "2016-11-15").call("DescribeInstances", parameters)
        }
        let item = try #require(raw.first(named: "instancesSet")?.child("item"))
        #expect(item["metadataOptions", "httpTokens"]?.text == "required")
        #expect(item.string("clientToken") == "\(jobID)-a1-t0")
        #expect(try await deployment.instanceAttribute(instance.instanceId, "instanceInitiatedShutdownBehavior") == "terminate")
        let record = try #require(try await deployment.record(jobID))
        #expect(record.state == .starting && record.instanceID == instance.instanceId && record.parameters == Self.hostile)
        #expect(try await deployment.slotHolders(job: name) == [jobID])

        // The instance's boot, here: the script fetches the runner and hands it the payload.
        let encoded = try #require(try await deployment.instanceAttribute(instance.instanceId, "userData"))
        let script = String(decoding: try #require(Data(base64Encoded: encoded)), as: UTF8.self)
        #expect(script.hasPrefix("#!/bin/bash\n"))
        for value in Self.hostile.values { #expect(!script.contains(value)) }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-boot-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let scriptFile = home.appendingPathComponent("user-data.sh")
        try Data(script.utf8).write(to: scriptFile)
        let run = try Command.run("/bin/bash", [scriptFile.path], environment: [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home.path, "SORTIE_HOME": home.path, "SORTIE_RUNNER_LOCAL": "1",
            // Never the real `shutdown` off EC2: the stand-in leaves a mark instead.
            "SORTIE_SHUTDOWN_COMMAND": "touch '\(home.path)/shutdown-ran'",
        ], timeout: .seconds(60))
        #expect(run.status == 0, "stdout: \(run.stdout)\nstderr: \(run.stderr)")
        let out = home.appendingPathComponent("out")
        for (name, value) in Self.hostile {
            let written = try Data(contentsOf: out.appendingPathComponent(name))
            #expect(written == Data(value.utf8), "argument \(name): got \(String(decoding: written, as: UTF8.self).debugDescription)")
        }
        #expect(try String(contentsOf: out.appendingPathComponent("order"), encoding: .utf8) == "first\nsecond\n")
        #expect(try String(contentsOf: out.appendingPathComponent("pwd"), encoding: .utf8) == home.appendingPathComponent("code").path + "\n")
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("shutdown-ran").path))
        #expect(run.stdout.contains("first") || run.stderr.contains("step 1/2 'first' started"))
    }

    @Test("the same event five times, one after another and then five at once: one instance each time, the rest answered as duplicates")
    func duplicateEvents() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("dup")
        try await deployment.publish(testSpec(name, maxConcurrency: 5))
        func event(_ id: String) -> InvocationRequest {
            InvocationRequest(payload: Data(#"{"job":"\#(name)","id":"\#(id)","args":{}}"#.utf8))
        }

        let sequential = try await deployment.launcherFunction()
        var answers: [Answer] = []
        for _ in 0..<5 {
            let outcome = await sequential.invoke(event("sequential"))
            if let answer = try outcome.answer(sequential) { answers.append(answer) }
        }
        await sequential.stop()
        #expect(answers.map(\.outcome) == ["launched", "duplicate", "duplicate", "duplicate", "duplicate"])
        #expect(Set(answers.compactMap(\.jobID)).count == 1)
        #expect(answers.dropFirst().allSatisfy { $0.state == "STARTING" && $0.instanceID == answers.first?.instanceID })

        let concurrent = try await deployment.launcherFunction(concurrency: 5)
        let outcomes = await withTaskGroup(of: InvocationOutcome.self) { group in
            for _ in 0..<5 { group.addTask { await concurrent.invoke(event("concurrent")) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let concurrentAnswers = try outcomes.compactMap { try $0.answer(concurrent) }
        await concurrent.stop()
        #expect(concurrentAnswers.count == 5)
        #expect(concurrentAnswers.filter { $0.outcome == "launched" }.count == 1, "\(concurrentAnswers.map(\.outcome))")
        #expect(Set(concurrentAnswers.compactMap(\.jobID)).count == 1)

        let instances = try await deployment.instances(job: name)
        #expect(instances.count == 2, "one instance per event")
        #expect(Set(instances.compactMap { $0.tag("sortie:job-id") }) == Set((answers + concurrentAnswers).compactMap(\.jobID)))
    }

    @Test("50 concurrent launches of a job with max_concurrency 4: exactly 4 instances and 46 RUNNABLE records, none lost; a freed slot starts the oldest waiting job")
    func maxConcurrency() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("wide")
        try await deployment.publish(testSpec(name, maxConcurrency: 4))
        let launcher = try deployment.launcher()
        let logger = Deployment.quietLogger
        let responses = try await withThrowingTaskGroup(of: LaunchResponseSummary.self) { group in
            for index in 0..<50 {
                group.addTask {
                    try await blocking {
                        let response = try launcher.launch(LaunchEvent(job: name, eventID: "burst-\(name)-\(index)"), requestID: "r\(index)", logger: logger)
                        return LaunchResponseSummary(outcome: response.outcome.rawValue, jobID: response.jobID ?? "", position: response.position)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(responses.count == 50)
        #expect(Set(responses.map(\.jobID)).count == 50, "every event has its own job")
        #expect(responses.filter { $0.outcome == "launched" }.count == 4)
        let waiting = responses.filter { $0.outcome == "waiting" }
        #expect(waiting.count == 46)
        #expect(waiting.allSatisfy { (1...46).contains($0.position ?? 0) })

        #expect(try await deployment.instances(job: name).count == 4)
        var states: [JobState: Int] = [:]
        for response in responses {
            let record = try #require(try await deployment.record(response.jobID))
            states[record.state, default: 0] += 1
        }
        #expect(states == [.starting: 4, .runnable: 46])
        let holders = try await deployment.slotHolders(job: name)
        #expect(holders == Set(responses.filter { $0.outcome == "launched" }.map(\.jobID)))
        let queued = try await blocking { try deployment.store.runnable(job: name, limit: 100) }
        #expect(queued.count == 46)

        // The reactor's part: a job finishes and frees its slot; the oldest waiting job starts
        // through `JobStarter.start(jobID:)`, the call the reactor's queue walk makes.
        let finished = try #require(holders.first)
        let freed = try await blocking {
            try deployment.store.transition(finished, attempt: 1, from: [.starting], to: .succeeded, reason: "done", freeingSlotsOf: name)
        }
        #expect(freed)
        let oldest = try #require(queued.first)
        let next = try await blocking { try launcher.starter.start(jobID: oldest, logger: logger) }
        #expect(next.outcome == .launched)
        #expect(next.jobID == oldest)
        #expect(try await deployment.instances(job: name).count == 5)
        #expect(try await deployment.slotHolders(job: name).count == 4)
        let none = try await blocking { try launcher.starter.start(jobID: queued[1], logger: logger) }
        #expect(none.outcome == .waiting, "no slot is free: nothing more starts")
        #expect(try await deployment.instances(job: name).count == 5)

        // A slot frees and a new event arrives before the reactor's walk: the new job queues
        // behind the 45 waiting, and the slot goes to the head of the queue, not to the newcomer.
        let second = try #require(holders.subtracting([finished]).first)
        #expect(try await blocking {
            try deployment.store.transition(second, attempt: 1, from: [.starting], to: .succeeded, reason: "done", freeingSlotsOf: name)
        })
        let late = try await blocking { try launcher.launch(LaunchEvent(job: name, eventID: "late-\(name)"), requestID: "late", logger: logger) }
        #expect(late.outcome == .waiting)
        #expect(late.position == 45, "behind every job that was waiting before it")
        #expect(try await deployment.record(queued[1])?.state == .starting, "the oldest waiting job took the freed slot")
        #expect(try await deployment.slotHolders(job: name).contains(queued[1]))
        #expect(try await deployment.instances(job: name).count == 6)
    }

    @Test("oversize UserData, an unknown job, bad arguments and malformed events fail on /error with a named type; nothing is launched or recorded")
    func refusedEvents() async throws {
        let deployment = try await Deployment.create()
        let name = Deployment.uniqueName("refuse")
        try await deployment.publish(testSpec(name, arguments: ["blob": .init(), "day": .init(defaultValue: "today")]))
        let function = try await deployment.launcherFunction()
        let cases: [(event: String, id: String?, type: String, message: String)] = [
            (#"{"job":"\#(name)","id":"big-\#(name)","args":{"blob":"\#(String(repeating: "x", count: 20_000))"}}"#, "big-\(name)",
             "Sortie.UserDataTooLarge", "over EC2's limit of 16384 bytes"),
            (#"{"job":"no-such-job","id":"unknown-\#(name)"}"#, "unknown-\(name)", "Sortie.UnknownJob", "no job named 'no-such-job'"),
            (#"{"job":"\#(name)","id":"args-\#(name)","args":{"day":"x"}}"#, "args-\(name)", "Sortie.InvalidArguments", "needs the argument blob"),
            (#"{"job":"\#(name)","id":"extra-\#(name)","args":{"blob":"x","colour":"red"}}"#, "extra-\(name)", "Sortie.InvalidArguments", "takes no argument 'colour'"),
            (#"{"job":5}"#, nil, "Runtime.UnmarshalError", "job"),
            (#"{"hello":"world"}"#, nil, "Runtime.UnmarshalError", "expected an EventBridge Scheduled Event or a manual event"),
            ("not json", nil, "Runtime.UnmarshalError", "could not decode the event"),
        ]
        for testCase in cases {
            let outcome = await function.invoke(InvocationRequest(payload: Data(testCase.event.utf8)))
            let error = try #require(outcome.error, "\(testCase.type): \(outcome)")
            #expect(error.type == testCase.type)
            #expect(error.message.contains(testCase.message), "\(error.message)")
            if let id = testCase.id { #expect(try await deployment.item(JobTable.eventKey(id)) == nil, "event \(id) was recorded") }
        }
        await function.stop()
        #expect(try await deployment.instances(job: name).isEmpty)
        #expect(try await deployment.item(JobTable.slotsKey(job: name)) == nil)
        #expect(try await blocking { try deployment.store.runnable(job: name, limit: 10) }.isEmpty)
    }
}

struct LaunchResponseSummary: Sendable {
    var outcome: String
    var jobID: String
    var position: Int?
}
