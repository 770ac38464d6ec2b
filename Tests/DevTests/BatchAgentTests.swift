@testable import DevEnvironment
import AWSCore
import AWSServices
import Foundation
import SortieTestSupport
import Testing

@Suite("sortie dev's Batch agent")
struct BatchAgentTests {
    @Test("an array job's children and a single job each run once, two at a time, with the command's placeholders filled and Batch's variables set")
    func runsEachContainerOnce() async throws {
        // A private server configured as `sortie dev`'s: other suites' jobs are not this agent's business.
        let server = try MotoServer.startConfigured(serialized: false)
        defer { server.stop() }
        let client = try AWSClient.fromEnvironment(AWSEnvironment(server.environment))
        let folder = DevEnvironmentTests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let products = folder.appendingPathComponent("products")
        try FileManager.default.createDirectory(at: products, withIntermediateDirectories: true)
        // The "image's program": records who it is, its arguments and when it ran.
        let probe = products.appendingPathComponent("probe")
        let log = folder.appendingPathComponent("runs.log")
        try """
            #!/bin/bash
            start=$(date +%s%N)
            sleep 0.4
            echo "$AWS_BATCH_JOB_ID|${AWS_BATCH_JOB_ARRAY_INDEX:-none}|$*|$PROBE_SETTING|$start|$(date +%s%N)" >> "\(log.path)"
            """.write(to: probe, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: probe.path)

        let batch = Batch(client: client)
        let queue = unique("dev-chunks")
        let definition = unique("probe")
        try await blocking {
            let role = try IAM(client: client).createRole(name: unique("batch-role"), servicePrincipal: "batch.amazonaws.com")
            let environment = try batch.createComputeEnvironment(name: unique("env"), serviceRole: role)
            _ = try batch.createJobQueue(name: queue, computeEnvironments: [environment])
            _ = try batch.registerJobDefinition(
                name: definition,
                container: .init(image: "probe", vcpus: 1, memory: 512, command: ["probe", "--word", "Ref::word", "--mode", "Ref::mode"], environment: ["PROBE_SETTING": "from-definition"]),
                parameters: ["mode": "default-mode"])
        }
        let agent = BatchAgent(
            client: client, queue: queue, products: products, environment: server.environment, workspace: folder.appendingPathComponent("batch"),
            concurrency: 2, logger: DevEnvironmentTests.quiet)
        agent.start(interval: .milliseconds(50))
        defer { agent.stop() }
        let (array, single) = try await blocking { () throws -> (String, String) in
            let array = try batch.submitJob(.init(
                jobName: "array", jobQueue: queue, jobDefinition: definition, parameters: ["word": "hello world"], arrayProperties: .init(size: 3)))
            let single = try batch.submitJob(.init(jobName: "single", jobQueue: queue, jobDefinition: definition, parameters: ["word": "one", "mode": "fast"]))
            return (array.jobId, single.jobId)
        }
        try await DevEnvironmentTests.eventually { agent.exitStatuses.count == 4 }
        // More polls see the same jobs listed: nothing runs again.
        try await Task.sleep(for: .milliseconds(600))

        #expect(agent.exitStatuses == ["\(array):0": 0, "\(array):1": 0, "\(array):2": 0, single: 0])
        let runs = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        #expect(runs.count == 4, "each container once: \(runs)")
        let byId = Dictionary(runs.map { ($0[0], $0) }) { first, _ in first }
        for index in 0..<3 {
            #expect(byId["\(array):\(index)"]?[1] == String(index))
            #expect(byId["\(array):\(index)"]?[2] == "--word hello world --mode default-mode")
        }
        #expect(byId[single]?[1] == "none")
        #expect(byId[single]?[2] == "--word one --mode fast")
        #expect(runs.allSatisfy { $0[3] == "from-definition" }, "the job definition's environment")
        let intervals = runs.compactMap { run in Int64(run[4]).flatMap { start in Int64(run[5]).map { (start, $0) } } }
        #expect(intervals.count == 4)
        let most = DemoStory.mostAtOnce(intervals)
        #expect(most == 2, "at most two at once, and two did run together: \(most)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("batch/\(array)/2.log").path))
    }
}
