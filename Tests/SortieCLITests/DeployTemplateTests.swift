import Foundation
import JobModel
import SortieTestSupport
import TableSchema
import Testing
import Yams

/// `sortie template` and the committed `functions/template.yaml` (CI runs cfn-lint on it).
@Suite("sortie template")
struct DeployTemplateTests {
    private let committed = Repository.root.appendingPathComponent("functions/template.yaml")

    private func template(_ functions: URL) throws -> Command.Result {
        try Command.run(try BuiltProducts.executable("sortie"), ["template", "--functions", functions.path])
    }

    private func resources(_ yaml: String) throws -> [String: [String: Any]] {
        let document = try #require(try Yams.load(yaml: yaml) as? [String: Any])
        return try #require(document["Resources"] as? [String: [String: Any]])
    }

    private func properties(_ resource: [String: Any]?) throws -> [String: Any] {
        try #require(resource?["Properties"] as? [String: Any])
    }

    /// Every policy statement of a role, as plain dictionaries.
    private func statements(_ role: [String: Any]?) throws -> [[String: Any]] {
        let policies = try properties(role)["Policies"] as? [[String: Any]] ?? []
        return policies.flatMap { (($0["PolicyDocument"] as? [String: Any])?["Statement"] as? [[String: Any]]) ?? [] }
    }

    @Test("the committed template is what the generator writes from functions/")
    func noDrift() throws {
        let result = try template(Repository.root.appendingPathComponent("functions"))
        #expect(result.status == 0, "\(result.stderr)")
        let onDisk = try String(contentsOf: committed, encoding: .utf8)
        #expect(result.stdout == onDisk, "functions/template.yaml is stale: run `sortie template --output functions/template.yaml`")
    }

    @Test("the job table has the model's keys, queue indexes and TTL")
    func jobTable() throws {
        let table = try properties(try resources(try String(contentsOf: committed, encoding: .utf8))["JobTable"])
        #expect((table["TimeToLiveSpecification"] as? [String: Any])?["AttributeName"] as? String == "expiresAt")
        let indexes = (table["GlobalSecondaryIndexes"] as? [[String: Any]] ?? []).compactMap { $0["IndexName"] as? String }
        #expect(indexes == ["gsi1", "gsi2"])
        #expect(table["BillingMode"] as? String == "PAY_PER_REQUEST")
    }

    @Test("roles: iam:PassRole only for the job role, no action wildcards, '*' resources only where the action allows nothing else")
    func leastPrivilege() throws {
        let all = try resources(try String(contentsOf: committed, encoding: .utf8))
        let roles = all.filter { $0.value["Type"] as? String == "AWS::IAM::Role" }
        // Six for the functions and the runner, three for the Batch side (the job, Fargate's execution, EC2's instances).
        #expect(roles.count == 9)
        var passers: [String] = []
        for (name, role) in roles {
            for statement in try statements(role) {
                let actions = statement["Action"] as? [String] ?? []
                let resources = statement["Resource"] as? [Any] ?? []
                #expect(!actions.contains { $0.contains("*") }, "\(name): \(actions)")
                if resources.contains(where: { $0 as? String == "*" }) {
                    // Actions without resource-level permissions in AWS's service authorization reference.
                    #expect([["ec2:DescribeInstances"], ["ecr:GetAuthorizationToken"], ["ecs:DiscoverPollEndpoint"], ["batch:DescribeJobs"], ["cloudwatch:PutMetricData"]].contains(actions), "\(name): \(actions) on *")
                }
                if actions.contains("iam:PassRole") {
                    passers.append(name)
                    #expect(resources.count == 1)
                    #expect((resources.first as? [String: String])?["Fn::Sub"] == "${SortieRunnerRole.Arn}")
                }
            }
        }
        #expect(passers.sorted() == ["LauncherRole", "RetryReactorRole"])
    }

    /// A scratch folder of definitions, removed afterwards.
    private func scratch(_ body: (URL) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-template-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try body(folder)
    }

    @Test("schedules, EventBridge rules and a shared bucket from definitions in a scratch folder")
    func triggers() throws { try scratch { folder in
        func write(_ name: String, triggers: String) throws {
            let json = #"{"name": "\#(name)", "kind": "lambda", "product": "\#(name)", "architecture": "arm64", "memory": 256, "timeout": 30, "#
                + #""permissions": [{"actions": ["s3:GetObject"], "resources": ["arn:${AWS::Partition}:s3:::${DropBucketName}/*"]}], "#
                + #""triggers": \#(triggers)}"#
            try Data(json.utf8).write(to: folder.appendingPathComponent("\(name).json"))
        }
        try write("starter", triggers: #"""
            [{"type": "schedule", "job": "daily-sums", "expression": "cron(0 3 * * ? *)", "args": {"limit": 5}},
             {"type": "eventbridge", "pattern": {"source": ["aws.ec2"]}},
             {"type": "bucket", "bucket": "drop", "prefix": "in/"}]
            """#)
        try write("second", triggers: #"[{"type": "bucket", "bucket": "drop", "suffix": ".gz"}]"#)

        let result = try template(folder)
        #expect(result.status == 0, "\(result.stderr)")
        let all = try resources(result.stdout)
        let schedule = try properties(all["StarterScheduleDailySums"])
        #expect(schedule["ScheduleExpression"] as? String == "cron(0 3 * * ? *)")
        let target = try #require((schedule["Targets"] as? [[String: Any]])?.first)
        let transformer = try #require(target["InputTransformer"] as? [String: Any])
        let input = try #require(transformer["InputTemplate"] as? String)
        #expect(input.contains(#""detail-type": "Scheduled Event""#))
        // What EventBridge delivers once it fills the placeholders is a launch the launcher reads.
        let delivered = input.replacingOccurrences(of: "<id>", with: #""e-1""#)
            .replacingOccurrences(of: "<time>", with: #""2026-11-25T03:00:00Z""#)
            .replacingOccurrences(of: "<resources>", with: #"["arn:aws:events:us-east-1:123456789012:rule/x-StarterScheduleDailySums-1"]"#)
        let launch = try JSONDecoder().decode(LaunchEvent.self, from: Data(delivered.utf8))
        #expect(launch.job == "daily-sums")
        #expect(launch.arguments == ["limit": "5"])
        #expect(launch.eventID == "e-1")
        #expect(launch.trigger == .schedule(rule: "arn:aws:events:us-east-1:123456789012:rule/x-StarterScheduleDailySums-1", time: "2026-11-25T03:00:00Z"))
        #expect(try properties(all["StarterScheduleDailySumsPermission"])["Principal"] as? String == "events.amazonaws.com")
        #expect(try properties(all["StarterRule2"])["EventPattern"] != nil)

        let bucket = try #require(all["DropBucket"])
        #expect(bucket["DependsOn"] as? [String] == ["SecondDropPermission", "StarterDropPermission"])
        let notifications = try #require((try properties(bucket)["NotificationConfiguration"] as? [String: Any])?["LambdaConfigurations"] as? [[String: Any]])
        #expect(notifications.count == 2)
        #expect(try properties(all["StarterFunction"])["Architectures"] as? [String] == ["arm64"])
        let granted = try statements(all["StarterRole"]).compactMap { $0["Action"] as? [String] }
        #expect(granted == [["logs:CreateLogStream", "logs:PutLogEvents"], ["sqs:SendMessage"], ["s3:GetObject"]])
        // Its dead-letter queue: the OnFailure destination after two retries, and its rules' DeadLetterConfig.
        let invokeConfig = try properties(all["StarterEventInvokeConfig"])
        #expect(invokeConfig["MaximumRetryAttempts"] as? Int == 2)
        #expect(((invokeConfig["DestinationConfig"] as? [String: Any])?["OnFailure"] as? [String: Any])?["Destination"] != nil)
        #expect(all["StarterDeadLetterQueue"]?["Type"] as? String == "AWS::SQS::Queue")
        let ruleTarget = try #require((try properties(all["StarterRule2"])["Targets"] as? [[String: Any]])?.first)
        #expect(ruleTarget["DeadLetterConfig"] != nil)
    } }

    @Test("an unknown trigger type fails instead of deploying a function nothing invokes")
    func unknownTrigger() throws { try scratch { folder in
        let json = #"{"name": "odd", "kind": "lambda", "product": "odd", "architecture": "x86_64", "triggers": [{"type": "queue"}], "permissions": []}"#
        try Data(json.utf8).write(to: folder.appendingPathComponent("odd.json"))
        let result = try template(folder)
        #expect(result.status != 0)
        #expect(result.stderr.contains("unknown trigger type queue"))
    } }

    @Test("scripts/functions.py refuses wildcard actions, schedules without an expression and unknown trigger settings", arguments: [
        (#"[{"actions": ["s3:*"], "resources": ["*"]}]"#, #"[]"#, "without wildcards"),
        (#"[]"#, #"[{"type": "schedule", "job": "x"}]"#, "needs \"expression\""),
        (#"[]"#, #"[{"type": "invoke", "bucket": "b"}]"#, "takes no bucket"),
    ])
    func definitionChecks(permissions: String, triggers: String, message: String) throws { try scratch { folder in
        let json = #"{"name": "odd", "kind": "lambda", "product": "odd", "architecture": "x86_64", "memory": 128, "timeout": 3, "#
            + #""permissions": \#(permissions), "triggers": \#(triggers)}"#
        try Data(json.utf8).write(to: folder.appendingPathComponent("odd.json"))
        var environment = ProcessInfo.processInfo.environment
        environment["SORTIE_FUNCTIONS_DIR"] = folder.path
        let script = Repository.root.appendingPathComponent("scripts/functions.py").path
        let result = try Command.run("/usr/bin/env", ["python3", script, "check"], environment: environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    } }
}
