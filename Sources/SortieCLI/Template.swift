import ArgumentParser
import DevEnvironment
import Foundation
import SortieModel
import Yams

/// `sortie template`: the CloudFormation template that deploys the system, generated from the
/// definitions in `functions/` and `JobTable.definition`, so the deployment cannot drift from
/// what `build.sh`, the packaging tests and `sortie dev` use. `functions/template.yaml` is its
/// output; a test fails when the committed file differs.
struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the CloudFormation template for functions/*.json and the job table.",
        discussion: "Lambda code is referenced as <dist>/<name>.zip for `aws cloudformation package`.")

    @Option(help: "The folder of function definitions.")
    var functions = "functions"

    @Option(help: "Where the zips are, relative to the template's folder.")
    var dist = "../dist"

    @Option(help: "Write the template to this file instead of standard output.")
    var output: String?

    func run() throws {
        let definitions: [FunctionDefinition]
        do {
            definitions = try FunctionDefinition.load(folder: URL(fileURLWithPath: functions))
        } catch {
            throw ValidationError("\(error)")
        }
        let text = try Yams.dump(object: try DeploymentTemplate(definitions: definitions, dist: dist).document(), width: -1, sortKeys: true)
        if let output {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        } else {
            print(text, terminator: "")
        }
    }
}

/// Arbitrary JSON in a definition (event patterns, IAM conditions, schedule arguments) is read
/// as the job model's untyped tree, and handed to Yams and JSONSerialization as plain values.
extension SpecValue {
    var plain: Any {
        switch kind {
        case .null: NSNull()
        case .scalar(let text, quoted: true): text
        case .scalar(let text, quoted: false): Bool(text) ?? Int(text) ?? Double(text) ?? text as Any
        case .list(let values): values.map(\.plain)
        case .map(let entries): Dictionary(entries.map { ($0.key, $0.value.plain) }) { $1 }
        }
    }
}

struct DeploymentTemplate {
    var definitions: [FunctionDefinition]
    var dist: String

    /// Parameters every deployment has; definitions add their own under `parameters`.
    private static var commonParameters: [String: Any] { [
        "ArtifactBucket": [
            "Type": "String",
            "Description": "Bucket holding runner/sortie-runner, the published specs (specs/<job>.json) and the feeds document (feeds.json).",
        ],
        "LogRetentionDays": [
            "Type": "Number", "Default": 30, "Description": "How long the functions' and jobs' log groups keep events.",
            "AllowedValues": [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653],
        ],
    ] }

    func document() throws -> [String: Any] {
        var parameters = Self.commonParameters
        var declared: [String: FunctionDefinition.Parameter] = [:]
        var resources = Self.sharedResources()
        var buckets: [String: BucketNotifications] = [:]
        var outputs: [String: Any] = [
            "JobTableName": output(ref("JobTable"), "The job table (SORTIE_TABLE)."),
            "AlertTopicArn": output(ref("AlertTopic"), "The topic for job failures: use it as a spec's notify."),
            "JobLogBucketName": output(ref("JobLogBucket"), "Full job logs."),
            "JobLogGroupName": output(ref("JobLogGroup"), "Job step output."),
        ]
        for definition in definitions {
            for (name, parameter) in definition.parameters ?? [:] {
                if let earlier = declared[name], earlier != parameter {
                    throw ValidationError("\(definition.name): parameter \(name) is declared differently by another definition")
                }
                declared[name] = parameter
                var entry: [String: Any] = ["Type": "String", "Description": parameter.description]
                entry["Default"] = parameter.default
                parameters[name] = entry
            }
            let id = Self.logicalID(definition.name)
            switch definition.kind {
            case "lambda":
                try lambdaResources(definition, id: id, into: &resources, buckets: &buckets)
                outputs["\(id)FunctionArn"] = output(getAtt("\(id)Function", "Arn"), "The \(definition.name) function.")
            case "executable":
                instanceResources(definition, id: id, into: &resources)
                outputs["\(id)InstanceProfileArn"] = output(
                    getAtt("\(id)InstanceProfile", "Arn"), "What \(definition.name) instances run as: use it as a spec's instance.instance_profile.")
                outputs["\(id)RoleName"] = output(ref("\(id)Role"), "The role in that profile: attach what jobs' own steps need to it.")
            default:
                throw ValidationError("\(definition.name): unknown kind \(definition.kind)")
            }
        }
        for (bucket, notifications) in buckets {
            Self.bucketResources(bucket, notifications, into: &resources, parameters: &parameters)
        }
        return [
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "Sortie: batch jobs on self-terminating EC2 launched from Lambda, and record files chunked from S3. Generated by `sortie template` from functions/*.json; do not edit.",
            // Code names local zips on purpose: `aws cloudformation package` uploads them.
            "Metadata": ["cfn-lint": ["config": ["ignore_checks": ["W3002"]]]],
            "Parameters": parameters,
            "Resources": resources,
            "Outputs": outputs,
        ]
    }

    /// The job table, the failure topic and where jobs log.
    private static func sharedResources() -> [String: Any] {
        let table = JobTable.definition("")
        let indexes = table.globalSecondaryIndexes
        let keyAttributes = [table.partitionKey] + (table.sortKey.map { [$0] } ?? [])
            + indexes.flatMap { [$0.partitionKey] + ($0.sortKey.map { [$0] } ?? []) }
        func keySchema(_ partition: String, _ sort: String?) -> [[String: Any]] {
            [["AttributeName": partition, "KeyType": "HASH"]] + (sort.map { [["AttributeName": $0, "KeyType": "RANGE"]] } ?? [])
        }
        return [
            "JobTable": [
                "Type": "AWS::DynamoDB::Table",
                // Job history outlives a stack that is deleted or replaced by mistake.
                "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                "Properties": [
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": keyAttributes.map { ["AttributeName": $0, "AttributeType": "S"] },
                    "KeySchema": keySchema(table.partitionKey, table.sortKey),
                    "GlobalSecondaryIndexes": indexes.map {
                        ["IndexName": $0.name, "KeySchema": keySchema($0.partitionKey, $0.sortKey), "Projection": ["ProjectionType": "ALL"]]
                    },
                    "TimeToLiveSpecification": ["AttributeName": JobTable.ttlAttribute, "Enabled": true],
                    "PointInTimeRecoverySpecification": ["PointInTimeRecoveryEnabled": true],
                ] as [String: Any],
            ] as [String: Any],
            "AlertTopic": ["Type": "AWS::SNS::Topic"],
            "JobLogGroup": ["Type": "AWS::Logs::LogGroup", "Properties": ["RetentionInDays": ref("LogRetentionDays")]],
            "JobLogBucket": [
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                "Properties": [
                    "PublicAccessBlockConfiguration": [
                        "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
                    ],
                ],
            ] as [String: Any],
        ]
    }

    private func lambdaResources(
        _ definition: FunctionDefinition, id: String, into resources: inout [String: Any], buckets: inout [String: BucketNotifications]
    ) throws {
        let function = "\(id)Function"
        let logGroup = "\(id)LogGroup"
        let functionName = "${AWS::StackName}-\(definition.name)"
        resources[logGroup] = [
            "Type": "AWS::Logs::LogGroup",
            "Properties": ["LogGroupName": sub("/aws/lambda/\(functionName)"), "RetentionInDays": ref("LogRetentionDays")],
        ]
        // The function's own log lines go only to its own group.
        let logging = FunctionDefinition.Permission(
            actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: ["${\(logGroup).Arn}"])
        resources["\(id)Role"] = role(
            service: "lambda.amazonaws.com", name: definition.name, permissions: [logging, deadLetters(id, into: &resources)] + (definition.permissions ?? []))

        var variables: [String: Any] = (definition.environment ?? [:]).mapValues { $0 }
        for (name, value) in definition.deployEnvironment ?? [:] {
            variables[name] = value.map(substituted)
        }
        var properties: [String: Any] = [
            "FunctionName": sub(functionName), "Runtime": "provided.al2023", "Handler": "bootstrap",
            "Architectures": [definition.architecture], "Code": "\(dist)/\(definition.name).zip",
            "Role": getAtt("\(id)Role", "Arn"), "LoggingConfig": ["LogGroup": ref(logGroup)],
        ]
        properties["MemorySize"] = definition.memory
        properties["Timeout"] = definition.timeout
        properties["Description"] = definition.description
        if !variables.isEmpty { properties["Environment"] = ["Variables": variables] }
        resources[function] = ["Type": "AWS::Lambda::Function", "Properties": properties]

        for (index, trigger) in (definition.triggers ?? []).enumerated() {
            try triggerResources(trigger, index: index + 1, definition: definition, function: function, into: &resources, buckets: &buckets)
        }
    }

    private func triggerResources(
        _ trigger: FunctionDefinition.Trigger, index: Int, definition: FunctionDefinition, function: String,
        into resources: inout [String: Any], buckets: inout [String: BucketNotifications]
    ) throws {
        func invokePermission(_ id: String, principal: String, source: Any, account: Bool = false) {
            var properties: [String: Any] = [
                "Action": "lambda:InvokeFunction", "FunctionName": getAtt(function, "Arn"), "Principal": principal, "SourceArn": source,
            ]
            if account { properties["SourceAccount"] = ref("AWS::AccountId") }
            resources[id] = ["Type": "AWS::Lambda::Permission", "Properties": properties]
        }
        func rule(_ id: String, _ properties: [String: Any], target: [String: Any] = [:]) {
            var properties = properties
            properties["Targets"] = [target.merging([
                "Id": definition.name, "Arn": getAtt(function, "Arn"), "DeadLetterConfig": ["Arn": getAtt("\(Self.logicalID(definition.name))DeadLetterQueue", "Arn")],
            ]) { $1 }]
            resources[id] = ["Type": "AWS::Events::Rule", "Properties": properties]
            invokePermission("\(id)Permission", principal: "events.amazonaws.com", source: getAtt(id, "Arn"))
        }
        let id = Self.logicalID(definition.name)
        switch trigger.type {
        case "invoke":
            return
        case "schedule":
            guard let expression = trigger.expression else { throw ValidationError("\(definition.name): a schedule needs an expression") }
            guard let job = trigger.job else {
                rule("\(id)Rule\(index)", ["ScheduleExpression": expression, "Description": "\(definition.name): \(expression)"])
                return
            }
            // The launcher reads a Scheduled Event's job and arguments from `detail`; the
            // transformer keeps the event's id (the launch's idempotency key), time and rule.
            let detail = try JSONSerialization.data(withJSONObject: ["job": job, "args": trigger.args?.plain ?? [:]], options: .sortedKeys)
            let input = #"{"id": <id>, "detail-type": "Scheduled Event", "source": "aws.events", "time": <time>, "resources": <resources>, "detail": "#
                + String(decoding: detail, as: UTF8.self) + "}"
            rule(
                "\(id)Schedule\(Self.logicalID(job))", ["ScheduleExpression": expression, "Description": "Launches \(job): \(expression)"],
                target: ["InputTransformer": [
                    "InputPathsMap": ["id": "$.id", "time": "$.time", "resources": "$.resources"], "InputTemplate": input,
                ] as [String: Any]])
        case "eventbridge":
            guard let pattern = trigger.pattern else { throw ValidationError("\(definition.name): an eventbridge trigger needs a pattern") }
            rule("\(id)Rule\(index)", ["EventPattern": pattern.plain, "Description": "\(definition.name): trigger \(index)"])
        case "bucket":
            guard let bucket = trigger.bucket else { throw ValidationError("\(definition.name): a bucket trigger needs a bucket") }
            let permission = "\(id)\(Self.logicalID(bucket))Permission"
            buckets[bucket, default: BucketNotifications()].configurations += notifications(trigger, function: function)
            buckets[bucket, default: BucketNotifications()].permissions.append(permission)
            // Built from the name parameter, not the bucket resource: the bucket waits for
            // this permission, so referring to it would make a cycle.
            invokePermission(
                permission, principal: "s3.amazonaws.com",
                source: sub("arn:${AWS::Partition}:s3:::${\(Self.logicalID(bucket))BucketName}"), account: true)
        default:
            throw ValidationError("\(definition.name): unknown trigger type \(trigger.type)")
        }
    }

    /// The notifications bucket triggers ask for, by bucket name: one bucket may notify several functions.
    struct BucketNotifications {
        var configurations: [[String: Any]] = []
        /// The invoke permissions the bucket must wait for: S3 checks them when it is configured.
        var permissions: [String] = []
    }

    private func notifications(_ trigger: FunctionDefinition.Trigger, function: String) -> [[String: Any]] {
        var rules: [[String: String]] = []
        if let prefix = trigger.prefix { rules.append(["Name": "prefix", "Value": prefix]) }
        if let suffix = trigger.suffix { rules.append(["Name": "suffix", "Value": suffix]) }
        return (trigger.events ?? ["s3:ObjectCreated:*"]).map { event in
            var configuration: [String: Any] = ["Event": event, "Function": getAtt(function, "Arn")]
            if !rules.isEmpty { configuration["Filter"] = ["S3Key": ["Rules": rules]] }
            return configuration
        }
    }

    /// A bucket trigger's bucket is part of the stack (S3 notifications live on the bucket), named
    /// by a parameter whose default is the definition's bucket name.
    private static func bucketResources(_ bucket: String, _ notifications: BucketNotifications, into resources: inout [String: Any], parameters: inout [String: Any]) {
        let id = "\(logicalID(bucket))Bucket"
        parameters["\(id)Name"] = ["Type": "String", "Default": bucket, "Description": "The \(bucket) bucket's name (globally unique)."]
        resources[id] = [
            "Type": "AWS::S3::Bucket",
            "DependsOn": notifications.permissions.sorted(),
            "Properties": [
                "BucketName": ref("\(id)Name"),
                "PublicAccessBlockConfiguration": [
                    "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
                ],
                "NotificationConfiguration": ["LambdaConfigurations": notifications.configurations],
            ] as [String: Any],
        ]
    }

    /// What an executable's EC2 instances run as (the runner: the job instance profile).
    private func instanceResources(_ definition: FunctionDefinition, id: String, into resources: inout [String: Any]) {
        resources["\(id)Role"] = role(service: "ec2.amazonaws.com", name: definition.name, permissions: definition.permissions ?? [])
        resources["\(id)InstanceProfile"] = ["Type": "AWS::IAM::InstanceProfile", "Properties": ["Roles": [ref("\(id)Role")]]]
    }

    private func role(service: String, name: String, permissions: [FunctionDefinition.Permission]) -> [String: Any] {
        var properties: [String: Any] = [
            "AssumeRolePolicyDocument": [
                "Version": "2012-10-17",
                "Statement": [["Effect": "Allow", "Principal": ["Service": service], "Action": "sts:AssumeRole"]],
            ] as [String: Any],
        ]
        let statements: [[String: Any]] = permissions.map { permission in
            var statement: [String: Any] = [
                "Effect": "Allow", "Action": permission.actions, "Resource": permission.resources.map(substituted),
            ]
            statement["Condition"] = permission.condition?.plain
            return statement
        }
        if !statements.isEmpty {
            properties["Policies"] = [["PolicyName": name, "PolicyDocument": ["Version": "2012-10-17", "Statement": statements] as [String: Any]]]
        }
        return ["Type": "AWS::IAM::Role", "Properties": properties]
    }

    /// `retry-reactor` → `RetryReactor`.
    static func logicalID(_ name: String) -> String {
        name.split { !$0.isLetter && !$0.isNumber }.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}

func ref(_ name: String) -> [String: Any] { ["Ref": name] }
func sub(_ text: String) -> [String: Any] { ["Fn::Sub": text] }
/// A definition's text: through `Fn::Sub` only when it names something, so plain values stay plain.
private func substituted(_ text: String) -> Any { text.contains("${") ? sub(text) : text }
func getAtt(_ resource: String, _ attribute: String) -> [String: Any] { ["Fn::GetAtt": [resource, attribute]] }
private func output(_ value: Any, _ description: String) -> [String: Any] { ["Value": value, "Description": description] }
