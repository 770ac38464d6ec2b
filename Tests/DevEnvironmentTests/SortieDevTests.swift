@testable import DevEnvironment
import AWSCore
import AWSServices
import Deployment
import DevTestSupport
import Foundation
import SortieTestSupport
import Synchronization
import Testing

@Suite("sortie dev")
struct SortieDevTests {
    @Test("the demo story holds on sortie dev: a failed attempt is retried to success; five jobs, never more than two at once, all succeed in order; a million-record file is cut, its small chunks processed in Lambda and its big ones in the Batch agent, the file completes with every record accounted for; a scheduled chain of three runs in order, and a failure in it fails its dependent; a clicks file is delivered to Kafka and read back; a submission's override reaches its steps, one its spec does not allow is refused, and a kept instance outlives its failed job; an array of six runs two at a time and its parent succeeds; a job waits out a capacity shortage, then runs; every job's cost is known from the recorded Price List answers, and a second pricing asks none; the report page of it all is written")
    func demoStory() async throws {
        let workspace = DevHarness.workspace()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let environment = try await DevEnvironment.start(
            .init(repository: Repository.root, products: BuiltProducts.directory, workspace: workspace, overrides: try DemoStory.overrides(repository: Repository.root)), logger: DevHarness.quiet)
        let lines = Mutex<[String]>([])
        let checks: [DemoStory.Check]
        do {
            checks = try await DemoStory(environment: environment, patience: .seconds(45)) { line in lines.withLock { $0.append(line) } }.run()
        } catch {
            await environment.stop()
            throw error
        }
        await environment.stop()
        #expect(checks.count == 35)
        for check in checks { #expect(check.passed, "\(check.name): \(check.detail)\n\(lines.withLock { $0.joined(separator: "\n") })") }
        // Each instance ran its UserData in its own sandbox: 2 attempts of story 1, 5 jobs of story 2,
        // story 4's chain of 3, then 2 of its failing one (the load it fails never gets an instance),
        // story 6's overridden job and its kept one (the refused one is never made), story 7's six children and the two its cancelled array had running, story 8's one (launched once capacity returned).
        let sandboxes = try FileManager.default.contentsOfDirectory(atPath: workspace.appendingPathComponent("instances").path)
        #expect(sandboxes.count == 23)
        // The big chunks ran as the three children of one array job.
        #expect(environment.batchAgent?.exitStatuses.count == 3)
        #expect(environment.batchAgent?.exitStatuses.values.allSatisfy { $0 == 0 } == true)
    }

    @Test("the resources come from the functions' definitions")
    func resources() throws {
        let definitions = try FunctionDefinition.load(folder: Repository.root.appendingPathComponent("functions"))
        #expect(definitions.contains { $0.name == "launcher" && $0.isLambda })
        #expect(definitions.contains { $0.name == "sortie-runner" && !$0.isLambda })
        let resources = try DevResources(definitions: definitions)
        #expect(resources.table == "sortie-jobs")
        #expect(Set(resources.buckets) == ["sortie-dev", "sortie-landing", "sortie-rejects"])
        #expect(resources.queues == ["sortie-orders"])
        #expect(resources.logGroup == "/sortie/jobs")
        #expect(resources.chunkJob?.queue == "sortie-chunks" && resources.chunkJob?.name == "sortie-chunk-worker")
        // The job definition runs the program of the function the submitter invokes, with its settings.
        #expect(resources.chunkJob?.program == "chunk-processor")
        #expect(resources.chunkJob?.environment(deployed: false)["SORTIE_FEEDS"] == definitions.first { $0.name == "chunk-processor" }?.environment?["SORTIE_FEEDS"])
    }

    @Test("rate expressions as EventBridge writes them, sped up; the scheduled events for the reactor's sweep and for a job")
    func schedules() throws {
        #expect(DevScheduler.interval("rate(5 minutes)") == .seconds(300))
        #expect(DevScheduler.interval("rate(1 hour)") == .seconds(3600))
        #expect(DevScheduler.interval("rate(2 days)") == .seconds(172_800))
        #expect(DevScheduler.interval("rate(0 minutes)") == nil)
        #expect(DevScheduler.interval("rate(5 fortnights)") == nil)
        #expect(DevScheduler.interval("cron(0 2 * * ? *)") == nil)
        let definitions = try FunctionDefinition.load(folder: Repository.root.appendingPathComponent("functions"))
        let schedules = DevScheduler.schedules(definitions, speedUp: 150)
        #expect(schedules.contains(.init(function: "retry-reactor", expression: "rate(5 minutes)", timing: .every(.seconds(2)))))
        let sweep = try JSONSerialization.jsonObject(with: DevScheduler.event(.init(function: "retry-reactor", expression: "", timing: .every(.seconds(1)))))
        #expect((sweep as? [String: Any])?["detail-type"] as? String == "Scheduled Event")
        #expect((sweep as? [String: Any])?["resources"] as? [String] == ["arn:aws:events:us-east-1:123456789012:rule/sortie-retry-reactor-schedule"])
        // A job's schedule carries the job and its arguments, as the template's rule input does.
        let nightly = DevScheduler.Schedule(function: "launcher", expression: "cron(0 2 * * ? *)", timing: .every(.seconds(1)), job: "nightly-etl", args: ["day": "yesterday"])
        let event = try #require(try JSONSerialization.jsonObject(with: DevScheduler.event(nightly)) as? [String: Any])
        let detail = event["detail"] as? [String: Any]
        #expect(detail?["job"] as? String == "nightly-etl")
        #expect(detail?["args"] as? [String: String] == ["day": "yesterday"])
        #expect(event["resources"] as? [String] == ["arn:aws:events:us-east-1:123456789012:rule/sortie-nightly-etl"])
    }

    @Test("cron expressions as EventBridge writes them, in UTC")
    func cron() throws {
        func date(_ text: String) throws -> Date { try #require(ISO8601DateFormatter().date(from: text)) }
        let nightly = try #require(CronExpression("cron(0 2 * * ? *)"))
        #expect(nightly.matches(try date("2026-11-25T02:00:30Z")))
        #expect(!nightly.matches(try date("2026-11-25T02:01:00Z")))
        let weekdays = try #require(CronExpression("cron(15,45 8-17/3 ? JAN-MAR MON-FRI 2026)"))
        #expect(weekdays.matches(try date("2026-01-05T11:45:00Z")))  // a Monday, 11 = 8 + 3
        #expect(!weekdays.matches(try date("2026-01-04T11:45:00Z")))  // a Sunday
        #expect(!weekdays.matches(try date("2026-01-05T10:45:00Z")))
        #expect(!weekdays.matches(try date("2027-01-04T11:45:00Z")))
        let monthly = try #require(CronExpression("cron(0/30 0 1 * ? *)"))
        #expect(monthly.matches(try date("2026-12-01T00:30:00Z")))
        #expect(!monthly.matches(try date("2026-12-02T00:30:00Z")))
        for unsupported in ["cron(0 2 L * ? *)", "cron(0 2 * * 2#1 *)", "cron(60 2 * * ? *)", "cron(0 2 * *)", "rate(5 minutes)", "cron(0 2 * * MOON *)"] {
            #expect(CronExpression(unsupported) == nil, "\(unsupported)")
        }
        let definitions = try FunctionDefinition.load(folder: Repository.root.appendingPathComponent("functions"))
        let launcher = DevScheduler.schedules(definitions, speedUp: 150).filter { $0.function == "launcher" }
        #expect(launcher.allSatisfy { if case .cron = $0.timing { $0.job != nil } else { false } }, "the launcher's schedules are its jobs' crons")
    }

    @Test("the most jobs running at once, an ending freeing its place for a start at the same instant")
    func overlap() {
        #expect(DemoStory.mostAtOnce([]) == 0)
        #expect(DemoStory.mostAtOnce([(0, 10), (5, 15), (10, 20)]) == 2)
        #expect(DemoStory.mostAtOnce([(0, 10), (1, 9), (2, 8)]) == 3)
        #expect(DemoStory.mostAtOnce([(0, 1000), (500, 2000), (900, 3000)], slack: 250) == 2)
        #expect(DemoStory.mostAtOnce([(0, 1000), (500, 2000), (700, 3000)], slack: 250) == 3)
    }

    @Test("the instance agent runs a tagged instance's UserData in its sandbox with its own metadata service, stops it when the instance is terminated in EC2, and reports the ending")
    func agentStopsTerminatedInstance() async throws {
        // A private server: other suites' instances in the shared one are not this agent's business.
        let server = try await blocking { try MotoServer.start() }
        defer { server.stop() }
        let client = try AWSClient.fromEnvironment(AWSEnvironment(server.environment))
        let sandbox = DevHarness.workspace()
        defer { try? FileManager.default.removeItem(at: sandbox) }
        let delivered = Mutex<[Data]>([])
        let agent = InstanceAgent(client: client, environment: server.environment, sandbox: sandbox, logger: DevHarness.quiet, gracePeriod: .milliseconds(500)) { event in
            delivered.withLock { $0.append(event) }
        }
        let ec2 = EC2(client: client)
        let tagged = EC2.TagSpecification(resourceType: "instance", tags: [.init(key: "sortie:job-id", value: unique("job"))])
        let (instance, untagged) = try await blocking { () throws -> (String, String) in
            let script = #"""
                #!/bin/bash
                echo "$AWS_EC2_METADATA_SERVICE_ENDPOINT ${AWS_EC2_METADATA_DISABLED-enabled}" > "$SORTIE_HOME/metadata"
                echo started > "$SORTIE_HOME/started"
                exec sleep 60
                """#
            let instance = try ec2.runInstances(.init(imageId: "ami-0abcdef1234567890", instanceType: "t3.micro", userData: script, tagSpecifications: [tagged]))
            let untagged = try ec2.runInstances(.init(imageId: "ami-0abcdef1234567890", instanceType: "t3.micro", userData: "#!/bin/bash\ntouch /tmp/never"))
            return (try #require(instance.instances.first?.instanceId), try #require(untagged.instances.first?.instanceId))
        }
        agent.start(interval: .milliseconds(100))
        let started = sandbox.appendingPathComponent("\(instance)/started")
        try await DevHarness.eventually { FileManager.default.fileExists(atPath: started.path) }
        #expect(agent.runningCount == 1)
        #expect(!FileManager.default.fileExists(atPath: sandbox.appendingPathComponent(untagged).path))
        // The instance's metadata service answers with its id while it runs.
        let metadata = try String(contentsOf: sandbox.appendingPathComponent("\(instance)/metadata"), encoding: .utf8).split(separator: " ")
        #expect(metadata.last == "enabled\n")
        let endpoint = String(try #require(metadata.first))
        #expect(try await blocking { try InstanceMetadataClient(endpoint: endpoint, timeout: .seconds(10)).get("/latest/meta-data/instance-id") } == instance)

        try await blocking { try ec2.terminateInstances([instance]) }
        try await DevHarness.eventually { !delivered.withLock(\.isEmpty) }
        let first = delivered.withLock { $0.first }
        let body = try #require(first)
        let event = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(event["detail-type"] as? String == "EC2 Instance State-change Notification")
        #expect(event["detail"] as? [String: String] == ["instance-id": instance, "state": "terminated"])
        try await DevHarness.eventually { agent.runningCount == 0 }
        // ...and its metadata service ended with it.
        try await blocking { () throws -> Void in
            #expect(throws: AWSError.self) { try InstanceMetadataClient(endpoint: endpoint, attempts: 1).get("/latest/meta-data/instance-id") }
        }
        await agent.stop()
    }
}
