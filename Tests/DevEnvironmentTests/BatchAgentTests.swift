@testable import DevEnvironment
import AWSCore
import AWSServices
import Deployment
import DevTestSupport
import Foundation
import SortieTestSupport
import Testing

@Suite("sortie dev's Batch agent")
struct BatchAgentTests {
    /// A moto configured as `sortie dev`'s, with the repository's chunk job definition registered
    /// and its program replaced by `probe`, a script that records each run and exits as its
    /// `--fileId` says: `fails` 1, `bad` 2, `slow` sleeps, anything else 0.
    struct World: Sendable {
        let server: MotoServer
        let client: AWSClient
        let folder: URL
        let log: URL
        var definition: ChunkJobDefinition

        init() throws {
            // A private server: other suites' jobs are not this agent's business.
            server = try MotoServer.startConfigured(serialized: false)
            client = try AWSClient.fromEnvironment(AWSEnvironment(server.environment))
            folder = DevHarness.workspace()
            log = folder.appendingPathComponent("runs.log")
            let products = folder.appendingPathComponent("products")
            try FileManager.default.createDirectory(at: products, withIntermediateDirectories: true)
            let probe = products.appendingPathComponent("probe")
            try """
                #!/bin/bash
                start=$(date +%s%N)
                [ "$3" = slow ] && exec sleep 30
                sleep 0.4
                echo "$AWS_BATCH_JOB_ID|${AWS_BATCH_JOB_ARRAY_INDEX:-none}|$AWS_BATCH_JOB_ATTEMPT|$*|$SORTIE_TABLE|$start|$(date +%s%N)" >> "\(log.path)"
                case "$3" in fails) exit 1;; bad) exit 2;; esac
                """.write(to: probe, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: probe.path)

            let definitions = try FunctionDefinition.load(folder: Repository.root.appendingPathComponent("functions"))
            definition = try #require(try ChunkJobDefinition(definitions: definitions))
            definition.worker.product = "probe"
            definition.queue = unique("dev-chunks")
            definition.name = unique("chunk-worker")
            let (client, definition) = (client, definition)
            let batch = Batch(client: client)
            let role = try IAM(client: client).createRole(name: unique("batch-role"), servicePrincipal: "batch.amazonaws.com")
            let environment = try batch.createComputeEnvironment(name: unique("env"), serviceRole: role)
            _ = try batch.createJobQueue(name: definition.queue, computeEnvironments: [environment])
            _ = try batch.registerJobDefinition(
                name: definition.name,
                container: .init(image: "probe", vcpus: definition.vcpus, memory: definition.memory, command: definition.command),
                retryStrategy: definition.retryStrategy, timeout: definition.timeout)
        }

        func agent(_ definition: ChunkJobDefinition? = nil) -> BatchAgent {
            BatchAgent(
                client: client, definition: definition ?? self.definition, products: folder.appendingPathComponent("products"),
                environment: server.environment, workspace: folder.appendingPathComponent("batch"), concurrency: 2,
                stopGrace: .milliseconds(500), logger: DevHarness.quiet)
        }

        func submit(_ name: String, fileID: String, size: Int? = nil) throws -> String {
            try Batch(client: client).submitJob(.init(
                jobName: name, jobQueue: definition.queue, jobDefinition: definition.name,
                parameters: ["fileId": fileID, "chunkId": "\(fileID)-c00000"], arrayProperties: size.map { .init(size: $0) })).jobId
        }

        /// Each recorded run's fields, split.
        func runs() throws -> [[String]] {
            guard FileManager.default.fileExists(atPath: log.path) else { return [] }
            return try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        }

        func stop() {
            server.stop()
            try? FileManager.default.removeItem(at: folder)
        }
    }

    @Test("an array job's children and a single job each run once, two at a time, with the definition's command filled from the job's parameters and its environment")
    func runsEachContainerOnce() async throws {
        let world = try await blocking { try World() }
        defer { world.stop() }
        let agent = world.agent()
        agent.start(interval: .milliseconds(50))
        defer { agent.stop() }
        let (array, single) = try await blocking { (try world.submit("array", fileID: "many", size: 3), try world.submit("single", fileID: "one")) }
        try await DevHarness.eventually { agent.exitStatuses.count == 4 }
        // More polls see the same jobs listed: nothing runs again.
        try await Task.sleep(for: .milliseconds(600))

        #expect(agent.exitStatuses == ["\(array):0": 0, "\(array):1": 0, "\(array):2": 0, single: 0])
        let runs = try world.runs()
        #expect(runs.count == 4, "each container once: \(runs)")
        let byID = Dictionary(runs.map { ($0[0], $0) }) { first, _ in first }
        let expected = Batch.resolve(
            command: world.definition.command, parameters: ["fileId": "many", "chunkId": "many-c00000"])
        for index in 0..<3 {
            #expect(byID["\(array):\(index)"]?[1] == String(index))
            #expect(byID["\(array):\(index)"]?[3] == expected.joined(separator: " "))
        }
        #expect(byID[single]?[1] == "none" && byID[single]?[2] == "1")
        #expect(byID[single]?[3].hasPrefix("batch --fileId one --bucket Ref::bucket") == true, "\(byID[single]?[3] ?? "")")
        #expect(byID[single]?[3].hasSuffix("--chunkId one-c00000") == true, "\(byID[single]?[3] ?? "")")
        #expect(runs.allSatisfy { $0[4] == world.definition.worker.environment?["SORTIE_TABLE"] }, "the worker's environment")
        let intervals = runs.compactMap { run in Int64(run[5]).flatMap { start in Int64(run[6]).map { (start, $0) } } }
        #expect(intervals.count == 4)
        let most = DemoStory.mostAtOnce(intervals)
        #expect(most == 2, "at most two at once, and two did run together: \(most)")
        #expect(FileManager.default.fileExists(atPath: world.folder.appendingPathComponent("batch/\(array)/2.log").path))
    }

    @Test("the retry strategy as Batch applies it: exit 1 is tried again up to the attempts, exit 2 ends the job, an attempt past its timeout is stopped and not retried")
    func retriesAndTimeouts() async throws {
        var made = try await blocking { try World() }
        made.definition.timeout = Batch.JobTimeout(attemptDurationSeconds: 1)
        let world = made
        defer { world.stop() }
        let agent = world.agent()
        agent.start(interval: .milliseconds(50))
        defer { agent.stop() }
        let (fails, bad, slow) = try await blocking {
            (try world.submit("fails", fileID: "fails"), try world.submit("bad", fileID: "bad"), try world.submit("slow", fileID: "slow"))
        }
        try await DevHarness.eventually(timeout: .seconds(30)) { agent.exitStatuses.count == 3 }

        let attempts = try #require(world.definition.retryStrategy.attempts)
        #expect(attempts == 3)
        #expect(agent.exitStatuses[fails] == 1 && agent.attempts[fails] == attempts, "\(agent.exitStatuses) \(agent.attempts)")
        #expect(agent.exitStatuses[bad] == 2 && agent.attempts[bad] == 1, "EXIT on exit code 2")
        #expect(agent.exitStatuses[slow] != 0 && agent.attempts[slow] == 1, "stopped at its timeout, not retried")
        let runs = try world.runs()
        #expect(runs.filter { $0[0] == fails }.map { $0[2] } == ["1", "2", "3"], "AWS_BATCH_JOB_ATTEMPT counts: \(runs)")
        #expect(FileManager.default.fileExists(atPath: world.folder.appendingPathComponent("batch/\(fails)/0.3.log").path))

        #expect(BatchAgent.retries(world.definition.retryStrategy, exitCode: 1, attempt: 1))
        #expect(!BatchAgent.retries(world.definition.retryStrategy, exitCode: 1, attempt: 3))
        #expect(!BatchAgent.retries(world.definition.retryStrategy, exitCode: 2, attempt: 1))
        #expect(BatchAgent.retries(Batch.RetryStrategy(attempts: 2, evaluateOnExit: [.init(action: "EXIT", onExitCode: "1*")]), exitCode: 3, attempt: 1))
        #expect(!BatchAgent.retries(Batch.RetryStrategy(attempts: 2, evaluateOnExit: [.init(action: "EXIT", onExitCode: "1*")]), exitCode: 137, attempt: 1))
        #expect(!BatchAgent.retries(Batch.RetryStrategy(), exitCode: 1, attempt: 1), "no strategy: one attempt")
    }
}
