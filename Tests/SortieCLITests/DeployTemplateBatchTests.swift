import AWSServices
import ChunkStore
import Foundation
import S3Submitter
import SortieTestSupport
import TableSchema
import Testing
import Yams

/// The Batch side of the committed `functions/template.yaml`: compute, queue, job definition,
/// image repository and roles, each checked for what makes it work (CI runs cfn-lint on the file).
@Suite("sortie template: the Batch side")
struct DeployTemplateBatchTests {
    let document: [String: Any]
    let resources: [String: [String: Any]]
    let submitter: SubmitterConfiguration

    init() throws {
        let text = try String(contentsOf: Repository.root.appendingPathComponent("functions/template.yaml"), encoding: .utf8)
        document = try #require(try Yams.load(yaml: text) as? [String: Any])
        resources = try #require(document["Resources"] as? [String: [String: Any]])
        let definition = try JSONSerialization.jsonObject(with: Data(contentsOf: Repository.root.appendingPathComponent("functions/s3-submitter.json")))
        let environment = try #require((definition as? [String: Any])?["environment"] as? [String: String])
        submitter = try SubmitterConfiguration.fromEnvironment(environment)
    }

    func properties(_ name: String) throws -> [String: Any] {
        try #require(resources[name]?["Properties"] as? [String: Any], "no \(name)")
    }

    func condition(_ name: String) -> String? { resources[name]?["Condition"] as? String }

    /// A role's trusted service and its statements.
    func role(_ name: String) throws -> (service: String?, statements: [[String: Any]]) {
        let role = try properties(name)
        let trust = (role["AssumeRolePolicyDocument"] as? [String: Any])?["Statement"] as? [[String: Any]]
        let service = (trust?.first?["Principal"] as? [String: Any])?["Service"] as? String
        let policies = role["Policies"] as? [[String: Any]] ?? []
        let statements = policies.flatMap { (($0["PolicyDocument"] as? [String: Any])?["Statement"] as? [[String: Any]]) ?? [] }
        return (service, statements)
    }

    @Test("one parameter chooses EC2 (default), FARGATE or EXISTING; the network parameters are required when creating")
    func choice() throws {
        let parameters = try #require(document["Parameters"] as? [String: [String: Any]])
        #expect(parameters["BatchCompute"]?["Default"] as? String == "EC2")
        #expect(parameters["BatchCompute"]?["AllowedValues"] as? [String] == ["EC2", "FARGATE", "EXISTING"])
        for name in ["BatchSubnets", "BatchSecurityGroups", "BatchInstanceTypes"] {
            #expect(parameters[name]?["Type"] as? String == "CommaDelimitedList", "\(name)")
        }
        #expect(parameters["BatchMaxVCpus"]?["Type"] as? String == "Number")
        #expect(parameters["ChunkWorkerImageTag"] != nil && parameters["ChunkJobQueue"] != nil && parameters["ChunkJobDefinition"] != nil)
        let conditions = try #require(document["Conditions"] as? [String: Any])
        let created = try #require(conditions["ChunkBatchCreated"] as? [String: Any])
        let equals = ((created["Fn::Not"] as? [Any])?.first as? [String: Any])?["Fn::Equals"] as? [Any]
        #expect((equals?.first as? [String: String])?["Ref"] == "BatchCompute" && equals?.last as? String == "EXISTING")
        let rules = try #require(document["Rules"] as? [String: [String: Any]])
        let assertions = rules["ChunkBatchNetwork"]?["Assertions"] as? [[String: Any]] ?? []
        #expect(assertions.count == 2)
        // Every Batch-side resource exists only when chosen.
        let expected: [String: String] = [
            "ChunkSpotCompute": "ChunkBatchOnEC2", "ChunkOnDemandCompute": "ChunkBatchOnEC2", "ChunkComputeInstanceRole": "ChunkBatchOnEC2",
            "ChunkComputeInstanceProfile": "ChunkBatchOnEC2", "ChunkFargateSpotCompute": "ChunkBatchOnFargate", "ChunkFargateCompute": "ChunkBatchOnFargate",
            "ChunkWorkerExecutionRole": "ChunkBatchOnFargate", "ChunkQueue": "ChunkBatchCreated", "ChunkWorkerJobDefinition": "ChunkBatchCreated",
            "ChunkWorkerRepository": "ChunkBatchCreated", "ChunkWorkerLogGroup": "ChunkBatchCreated", "ChunkWorkerRole": "ChunkBatchCreated",
        ]
        for (name, want) in expected { #expect(condition(name) == want, "\(name): \(condition(name) ?? "always")") }
        // The submitter names the queue and definition by the same parameters, created or not.
        let variables = ((try properties("S3SubmitterFunction")["Environment"] as? [String: Any])?["Variables"] as? [String: Any]) ?? [:]
        #expect((variables["BATCH_JOB_QUEUE"] as? [String: String])?["Fn::Sub"] == "${ChunkJobQueue}")
        #expect((variables["BATCH_JOB_DEFINITION"] as? [String: String])?["Fn::Sub"] == "${ChunkJobDefinition}")
    }

    @Test("managed compute: Spot with SPOT_PRICE_CAPACITY_OPTIMIZED and on-demand on EC2, Fargate Spot and Fargate; Batch's service-linked role; a queue that tries Spot first")
    func compute() throws {
        for (name, type) in [("ChunkSpotCompute", "SPOT"), ("ChunkOnDemandCompute", "EC2"), ("ChunkFargateSpotCompute", "FARGATE_SPOT"), ("ChunkFargateCompute", "FARGATE")] {
            #expect(resources[name]?["Type"] as? String == "AWS::Batch::ComputeEnvironment")
            let environment = try properties(name)
            #expect(environment["Type"] as? String == "MANAGED")
            #expect(environment["ServiceRole"] == nil, "\(name): Batch's service-linked role")
            let compute = try #require(environment["ComputeResources"] as? [String: Any])
            #expect(compute["Type"] as? String == type)
            #expect((compute["MaxvCpus"] as? [String: String])?["Ref"] == "BatchMaxVCpus")
            #expect((compute["Subnets"] as? [String: String])?["Ref"] == "BatchSubnets")
            #expect((compute["SecurityGroupIds"] as? [String: String])?["Ref"] == "BatchSecurityGroups")
            if type.hasPrefix("FARGATE") {
                #expect(compute["InstanceRole"] == nil && compute["InstanceTypes"] == nil && compute["AllocationStrategy"] == nil, "\(name)")
            } else {
                #expect((compute["InstanceTypes"] as? [String: String])?["Ref"] == "BatchInstanceTypes")
                #expect((compute["InstanceRole"] as? [String: [String]])?["Fn::GetAtt"] == ["ChunkComputeInstanceProfile", "Arn"])
                #expect(compute["AllocationStrategy"] as? String == (type == "SPOT" ? "SPOT_PRICE_CAPACITY_OPTIMIZED" : "BEST_FIT_PROGRESSIVE"))
            }
        }
        let queue = try properties("ChunkQueue")
        #expect((queue["JobQueueName"] as? [String: String])?["Ref"] == "ChunkJobQueue")
        let order = try #require(queue["ComputeEnvironmentOrder"] as? [[String: Any]])
        func choices(_ entry: [String: Any]) -> [String] {
            (((entry["ComputeEnvironment"] as? [String: Any])?["Fn::If"] as? [Any]) ?? []).dropFirst().compactMap { ($0 as? [String: String])?["Ref"] }
        }
        #expect(order.map { $0["Order"] as? Int } == [1, 2])
        #expect(choices(order[0]) == ["ChunkFargateSpotCompute", "ChunkSpotCompute"])
        #expect(choices(order[1]) == ["ChunkFargateCompute", "ChunkOnDemandCompute"])
    }

    @Test("the job definition: BatchParameters' command, the submitter's retry strategy and timeout, AWS_REGION, the job role, logs to the stack's group")
    func jobDefinition() throws {
        let definition = try properties("ChunkWorkerJobDefinition")
        #expect((definition["JobDefinitionName"] as? [String: String])?["Ref"] == "ChunkJobDefinition")
        #expect(definition["Parameters"] == nil, "every parameter comes with each job")
        let timeout = try #require(submitter.batchTimeoutSeconds)
        #expect((definition["Timeout"] as? [String: Int])?["AttemptDurationSeconds"] == timeout)
        let retry = try #require(definition["RetryStrategy"] as? [String: Any])
        #expect(retry["Attempts"] as? Int == submitter.batchAttempts)
        let rules = (retry["EvaluateOnExit"] as? [[String: String]] ?? []).map {
            Batch.EvaluateOnExit(action: $0["Action"] ?? "", onExitCode: $0["OnExitCode"], onReason: $0["OnReason"], onStatusReason: $0["OnStatusReason"])
        }
        #expect(rules == submitter.batchRetryStrategy.evaluateOnExit)
        let container = try #require(definition["ContainerProperties"] as? [String: Any])
        #expect(container["Command"] as? [String] == BatchParameters.command)
        let environment = Dictionary(((container["Environment"] as? [[String: Any]]) ?? []).compactMap { entry in
            (entry["Name"] as? String).map { ($0, entry["Value"] as Any) }
        }) { first, _ in first }
        #expect((environment["AWS_REGION"] as? [String: String])?["Fn::Sub"] == "${AWS::Region}")
        #expect((environment["SORTIE_TABLE"] as? [String: String])?["Fn::Sub"] == "${JobTable}")
        #expect(environment["SORTIE_FEEDS_URI"] != nil && environment["SORTIE_FEEDS"] == nil)
        #expect((container["JobRoleArn"] as? [String: [String]])?["Fn::GetAtt"] == ["ChunkWorkerRole", "Arn"])
        #expect((container["Image"] as? [String: String])?["Fn::Sub"] == "${ChunkWorkerRepository.RepositoryUri}:${ChunkWorkerImageTag}")
        let log = try #require(container["LogConfiguration"] as? [String: Any])
        #expect(log["LogDriver"] as? String == "awslogs")
        #expect(((log["Options"] as? [String: Any])?["awslogs-group"] as? [String: String])?["Ref"] == "ChunkWorkerLogGroup")
        #expect((try properties("ChunkWorkerLogGroup")["RetentionInDays"] as? [String: String])?["Ref"] == "LogRetentionDays")
        let requirements = container["ResourceRequirements"] as? [[String: String]] ?? []
        #expect(Set(requirements.compactMap { $0["Type"] }) == ["VCPU", "MEMORY"])
        // Fargate's own settings only on Fargate.
        for key in ["ExecutionRoleArn", "NetworkConfiguration", "FargatePlatformConfiguration"] {
            #expect(((container[key] as? [String: Any])?["Fn::If"] as? [Any])?.first as? String == "ChunkBatchOnFargate", "\(key)")
        }
        #expect(((definition["PlatformCapabilities"] as? [String: Any])?["Fn::If"] as? [Any])?.first as? String == "ChunkBatchOnFargate")
    }

    @Test("roles: the job role holds exactly the chunk-processor function's permissions; pulling and logging are scoped to the stack's repository and group; an ECR repository with a lifecycle policy")
    func roles() throws {
        let worker = try role("ChunkWorkerRole")
        #expect(worker.service == "ecs-tasks.amazonaws.com")
        // The function's role less its own log group and dead-letter queue: the same statements, in the same order.
        let function = try role("ChunkProcessorRole").statements.filter {
            ($0["Action"] as? [String])?.first?.hasPrefix("logs:") != true && !"\($0["Resource"] ?? "")".contains("DeadLetterQueue")
        }
        #expect(!worker.statements.isEmpty)
        #expect(NSArray(array: worker.statements).isEqual(to: function), "\(worker.statements) vs \(function)")

        let execution = try role("ChunkWorkerExecutionRole")
        let instance = try role("ChunkComputeInstanceRole")
        #expect(execution.service == "ecs-tasks.amazonaws.com" && instance.service == "ec2.amazonaws.com")
        #expect((try properties("ChunkComputeInstanceProfile")["Roles"] as? [[String: String]])?.first?["Ref"] == "ChunkComputeInstanceRole")
        for (name, statements) in [("execution", execution.statements), ("instance", instance.statements)] {
            for statement in statements {
                let actions = statement["Action"] as? [String] ?? []
                let resources = (statement["Resource"] as? [Any] ?? []).map { ($0 as? String) ?? (($0 as? [String: String])?["Fn::Sub"] ?? "") }
                if resources.contains("*") {
                    // Neither takes a resource: IAM accepts only "*".
                    #expect(actions == ["ecr:GetAuthorizationToken"] || actions == ["ecs:DiscoverPollEndpoint"], "\(name): \(actions) on *")
                }
                if actions.contains("ecr:BatchGetImage") { #expect(resources == ["${ChunkWorkerRepository.Arn}"]) }
                if actions.contains("logs:PutLogEvents") { #expect(resources == ["${ChunkWorkerLogGroup.Arn}"]) }
                if actions.contains("ecs:RegisterContainerInstance") { #expect(resources.allSatisfy { $0.contains(":cluster/*_Batch_*") }) }
            }
        }
        #expect(!execution.statements.contains { ($0["Action"] as? [String] ?? []).contains { $0.hasPrefix("ecs:") } }, "Fargate's execution role runs no agent")

        let repository = try properties("ChunkWorkerRepository")
        let text = try #require((repository["LifecyclePolicy"] as? [String: Any])?["LifecyclePolicyText"] as? String)
        let lifecycle = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let rules = lifecycle["rules"] as? [[String: Any]] ?? []
        #expect(rules.map { $0["rulePriority"] as? Int } == [1, 2])
        #expect(rules.allSatisfy { ($0["action"] as? [String: String])?["type"] == "expire" })
        let outputs = try #require(document["Outputs"] as? [String: [String: Any]])
        #expect(outputs["ChunkWorkerRepositoryUri"]?["Condition"] as? String == "ChunkBatchCreated")
    }
}
