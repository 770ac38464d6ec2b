import Foundation
import SortieVersion

/// The AWS Batch side of the template: where the submitter's big chunks run. `BatchCompute` chooses
/// EC2 (a Spot and an on-demand managed compute environment), FARGATE (Fargate Spot and Fargate) or
/// EXISTING (today's queue and job definition, named by `ChunkJobQueue` and `ChunkJobDefinition`).
/// Created, the queue and the job definition take those same names, so the submitter's settings and
/// permissions are the same either way. The job definition is `ChunkJobDefinition`'s, the one
/// `sortie dev` runs.
extension DeploymentTemplate {
    /// What the Batch side adds to each section of the template.
    struct Section {
        var parameters: [String: Any] = [:]
        var conditions: [String: Any] = [:]
        var rules: [String: Any] = [:]
        var resources: [String: Any] = [:]
        var outputs: [String: Any] = [:]
    }

    static let batchCreated = "ChunkBatchCreated"
    static let batchOnEC2 = "ChunkBatchOnEC2"
    static let batchOnFargate = "ChunkBatchOnFargate"

    /// Empty when no definition submits to Batch.
    func batchSection() throws -> Section {
        guard let job = try ChunkJobDefinition(definitions: definitions) else { return Section() }
        var section = Section()
        section.parameters = Self.batchParameters
        section.conditions = [
            Self.batchCreated: ["Fn::Not": [["Fn::Equals": [ref("BatchCompute"), "EXISTING"]]]],
            Self.batchOnEC2: ["Fn::Equals": [ref("BatchCompute"), "EC2"]],
            Self.batchOnFargate: ["Fn::Equals": [ref("BatchCompute"), "FARGATE"]],
        ]
        // Batch refuses a compute environment without subnets only once the stack is half made.
        section.rules = [
            "ChunkBatchNetwork": [
                "RuleCondition": ["Fn::Not": [["Fn::Equals": [ref("BatchCompute"), "EXISTING"]]]],
                "Assertions": [
                    ["Assert": ["Fn::Not": [["Fn::Contains": [ref("BatchSubnets"), ""]]]],
                     "AssertDescription": "BatchCompute EC2 or FARGATE creates compute environments: give BatchSubnets."],
                    ["Assert": ["Fn::Not": [["Fn::Contains": [ref("BatchSecurityGroups"), ""]]]],
                     "AssertDescription": "BatchCompute EC2 or FARGATE creates compute environments: give BatchSecurityGroups."],
                ] as [Any],
            ] as [String: Any],
        ]
        var resources: [String: Any] = [:]
        resources["ChunkWorkerRepository"] = [
            "Type": "AWS::ECR::Repository",
            "Condition": Self.batchCreated,
            "Properties": [
                "ImageScanningConfiguration": ["ScanOnPush": true],
                // The image is rebuilt byte for byte from the sources (scripts/worker-image.sh).
                "EmptyOnDelete": true,
                "LifecyclePolicy": ["LifecyclePolicyText": Self.imageLifecycle],
            ] as [String: Any],
        ]
        resources["ChunkWorkerLogGroup"] = [
            "Type": "AWS::Logs::LogGroup",
            "Condition": Self.batchCreated,
            "Properties": ["LogGroupName": sub("/aws/batch/${AWS::StackName}-chunk-worker"), "RetentionInDays": ref("LogRetentionDays")],
        ]
        // Exactly the worker function's permissions: the container does what the function does.
        resources["ChunkWorkerRole"] = conditional(
            Self.batchCreated, role(service: "ecs-tasks.amazonaws.com", name: "chunk-worker", permissions: job.worker.permissions ?? []))
        // Pulling the image and writing its logs: ECS's agent does both, as the instance on EC2 and
        // as the execution role on Fargate.
        let pull = [
            FunctionDefinition.Permission(actions: ["ecr:GetAuthorizationToken"], resources: ["*"]),
            FunctionDefinition.Permission(
                actions: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], resources: ["${ChunkWorkerRepository.Arn}"]),
            FunctionDefinition.Permission(actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: ["${ChunkWorkerLogGroup.Arn}"]),
        ]
        resources["ChunkWorkerExecutionRole"] = conditional(
            Self.batchOnFargate, role(service: "ecs-tasks.amazonaws.com", name: "chunk-worker-execution", permissions: pull))
        resources["ChunkComputeInstanceRole"] = conditional(
            Self.batchOnEC2, role(service: "ec2.amazonaws.com", name: "chunk-compute-instance", permissions: Self.containerInstance + pull))
        resources["ChunkComputeInstanceProfile"] = [
            "Type": "AWS::IAM::InstanceProfile", "Condition": Self.batchOnEC2, "Properties": ["Roles": [ref("ChunkComputeInstanceRole")]],
        ]
        resources["ChunkSpotCompute"] = Self.computeEnvironment(Self.batchOnEC2, [
            "Type": "SPOT", "AllocationStrategy": "SPOT_PRICE_CAPACITY_OPTIMIZED", "InstanceTypes": ref("BatchInstanceTypes"),
            "InstanceRole": getAtt("ChunkComputeInstanceProfile", "Arn"), "Ec2Configuration": [["ImageType": "ECS_AL2023"]],
        ])
        resources["ChunkOnDemandCompute"] = Self.computeEnvironment(Self.batchOnEC2, [
            "Type": "EC2", "AllocationStrategy": "BEST_FIT_PROGRESSIVE", "InstanceTypes": ref("BatchInstanceTypes"),
            "InstanceRole": getAtt("ChunkComputeInstanceProfile", "Arn"), "Ec2Configuration": [["ImageType": "ECS_AL2023"]],
        ])
        resources["ChunkFargateSpotCompute"] = Self.computeEnvironment(Self.batchOnFargate, ["Type": "FARGATE_SPOT"])
        resources["ChunkFargateCompute"] = Self.computeEnvironment(Self.batchOnFargate, ["Type": "FARGATE"])
        func either(_ fargate: String, _ ec2: String) -> [String: Any] { ["Fn::If": [Self.batchOnFargate, ref(fargate), ref(ec2)]] }
        resources["ChunkQueue"] = [
            "Type": "AWS::Batch::JobQueue",
            "Condition": Self.batchCreated,
            "Properties": [
                "JobQueueName": ref("ChunkJobQueue"), "State": "ENABLED", "Priority": 1,
                // Spot first; on-demand when Spot has no capacity (or the Spot environment is full).
                "ComputeEnvironmentOrder": [
                    ["Order": 1, "ComputeEnvironment": either("ChunkFargateSpotCompute", "ChunkSpotCompute")],
                    ["Order": 2, "ComputeEnvironment": either("ChunkFargateCompute", "ChunkOnDemandCompute")],
                ],
            ] as [String: Any],
        ]
        resources["ChunkWorkerJobDefinition"] = jobDefinition(job)
        section.resources = resources
        section.outputs = [
            "ChunkWorkerRepositoryUri": conditional(
                Self.batchCreated, output(getAtt("ChunkWorkerRepository", "RepositoryUri"), "Push the chunk worker's image here (scripts/worker-image.sh, skopeo copy), tag ChunkWorkerImageTag.")),
            "ChunkWorkerLogGroupName": conditional(Self.batchCreated, output(ref("ChunkWorkerLogGroup"), "The chunk worker's container output.")),
            "ChunkJobQueueArn": conditional(Self.batchCreated, output(ref("ChunkQueue"), "The Batch job queue for big chunks.")),
        ]
        return section
    }

    private func jobDefinition(_ job: ChunkJobDefinition) -> [String: Any] {
        let noValue = ref("AWS::NoValue")
        func onFargate(_ value: Any) -> [String: Any] { ["Fn::If": [Self.batchOnFargate, value, noValue]] }
        let environment = job.environment(deployed: true).sorted { $0.key < $1.key }.map { ["Name": $0.key, "Value": substituted($0.value)] }
        var definition: [String: Any] = [
            "JobDefinitionName": ref("ChunkJobDefinition"), "Type": "container",
            "PlatformCapabilities": ["Fn::If": [Self.batchOnFargate, ["FARGATE"], ["EC2"]]],
            "PropagateTags": true,
            "RetryStrategy": [
                "Attempts": job.retryStrategy.attempts ?? 1,
                "EvaluateOnExit": (job.retryStrategy.evaluateOnExit ?? []).map { rule in
                    var entry: [String: Any] = ["Action": rule.action]
                    entry["OnExitCode"] = rule.onExitCode
                    entry["OnReason"] = rule.onReason
                    entry["OnStatusReason"] = rule.onStatusReason
                    return entry
                },
            ] as [String: Any],
            "ContainerProperties": [
                "Image": sub("${ChunkWorkerRepository.RepositoryUri}:${ChunkWorkerImageTag}"),
                "Command": job.command,
                "Environment": environment,
                "ResourceRequirements": [["Type": "VCPU", "Value": String(job.vcpus)], ["Type": "MEMORY", "Value": String(job.memory)]],
                "JobRoleArn": getAtt("ChunkWorkerRole", "Arn"),
                "ExecutionRoleArn": onFargate(getAtt("ChunkWorkerExecutionRole", "Arn")),
                "NetworkConfiguration": onFargate(["AssignPublicIp": ref("BatchAssignPublicIp")]),
                "FargatePlatformConfiguration": onFargate(["PlatformVersion": "LATEST"]),
                "LogConfiguration": [
                    "LogDriver": "awslogs",
                    "Options": ["awslogs-group": ref("ChunkWorkerLogGroup"), "awslogs-region": ref("AWS::Region"), "awslogs-stream-prefix": "chunk-worker"],
                ] as [String: Any],
            ] as [String: Any],
        ]
        definition["Timeout"] = ["AttemptDurationSeconds": job.timeout.attemptDurationSeconds]
        return ["Type": "AWS::Batch::JobDefinition", "Condition": Self.batchCreated, "Properties": definition]
    }

    private static func computeEnvironment(_ condition: String, _ resources: [String: Any]) -> [String: Any] {
        [
            "Type": "AWS::Batch::ComputeEnvironment",
            "Condition": condition,
            // The network parameters' empty defaults are for EXISTING; the rule ChunkBatchNetwork
            // refuses them wherever a compute environment is created, which cfn-lint cannot see.
            "Metadata": ["cfn-lint": ["config": ["ignore_checks": ["W1030"]]]],
            // No ServiceRole: Batch uses its service-linked role, AWSServiceRoleForBatch.
            "Properties": [
                "Type": "MANAGED", "State": "ENABLED",
                "ComputeResources": resources.merging([
                    "MaxvCpus": ref("BatchMaxVCpus"), "Subnets": ref("BatchSubnets"), "SecurityGroupIds": ref("BatchSecurityGroups"),
                ]) { $1 },
            ] as [String: Any],
        ]
    }

    private func conditional(_ condition: String, _ entry: [String: Any]) -> [String: Any] {
        entry.merging(["Condition": condition]) { $1 }
    }

    /// What ECS's agent on a Batch instance calls, on the clusters Batch makes for its compute
    /// environments (`<environment>_Batch_<uuid>`): AmazonEC2ContainerServiceforEC2Role's ECS
    /// actions, cut down to those clusters and their container instances.
    private static var containerInstance: [FunctionDefinition.Permission] {
        let cluster = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/*_Batch_*"
        let instance = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:container-instance/*_Batch_*/*"
        return [
            FunctionDefinition.Permission(actions: ["ecs:DiscoverPollEndpoint"], resources: ["*"]),
            FunctionDefinition.Permission(
                actions: [
                    "ecs:RegisterContainerInstance", "ecs:DeregisterContainerInstance", "ecs:UpdateContainerInstancesState",
                    "ecs:SubmitTaskStateChange", "ecs:SubmitContainerStateChange", "ecs:SubmitAttachmentStateChanges",
                ],
                resources: [cluster]),
            FunctionDefinition.Permission(actions: ["ecs:Poll", "ecs:StartTelemetrySession"], resources: [instance]),
        ]
    }

    /// Untagged images (a tag pushed again) go after a week; of the tagged, the newest 10 stay.
    private static var imageLifecycle: String {
        let rules: [[String: Any]] = [
            ["rulePriority": 1, "description": "untagged images after 7 days",
             "selection": ["tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7], "action": ["type": "expire"]],
            ["rulePriority": 2, "description": "keep the 10 newest images",
             "selection": ["tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10], "action": ["type": "expire"]],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: ["rules": rules], options: .sortedKeys)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private static var batchParameters: [String: Any] { [
        "BatchCompute": [
            "Type": "String", "Default": "EC2", "AllowedValues": ["EC2", "FARGATE", "EXISTING"],
            "Description": "Where big chunks run: EC2 (Spot, then on-demand instances) or FARGATE (Fargate Spot, then Fargate), created by this stack with the queue ChunkJobQueue and the job definition ChunkJobDefinition; EXISTING uses a queue and job definition of those names made elsewhere.",
        ],
        "BatchSubnets": [
            "Type": "CommaDelimitedList", "Default": "",
            "Description": "Subnets for the compute environments (EC2 or FARGATE); they need a route to ECR, S3, DynamoDB and CloudWatch Logs.",
        ],
        "BatchSecurityGroups": [
            "Type": "CommaDelimitedList", "Default": "",
            "Description": "Security groups for the compute environments (EC2 or FARGATE): outbound HTTPS is all the worker needs.",
        ],
        "BatchInstanceTypes": [
            "Type": "CommaDelimitedList", "Default": "c6i,c6a,c5,m6i,m6a,m5",
            "Description": "EC2 instance types or families (x86_64: the worker's architecture); several give Spot more pools.",
        ],
        "BatchMaxVCpus": [
            "Type": "Number", "Default": 64, "MinValue": 1,
            "Description": "The most vCPUs each compute environment runs at once (each container takes 2).",
        ],
        "BatchAssignPublicIp": [
            "Type": "String", "Default": "DISABLED", "AllowedValues": ["ENABLED", "DISABLED"],
            "Description": "FARGATE: ENABLED in public subnets without a NAT gateway, or the image cannot be pulled.",
        ],
        "ChunkWorkerImageTag": [
            "Type": "String", "Default": SortieRelease.version,
            "Description": "The tag of the chunk worker's image in the stack's repository (output ChunkWorkerRepositoryUri).",
        ],
    ] }
}
