@testable import Deployment
import Foundation
import SortieTestSupport
import SortieVersion
import TableSchema
import Testing

/// The template generator's rules, on definitions written here (no binary, no AWS): what a role
/// may do, how a definition's names reach CloudFormation, when the Batch side exists, and how a
/// definition that cannot be deployed is reported. The committed `functions/template.yaml` is
/// checked against `sortie template` in JobModelTests.
@Suite("deployment template")
struct DeploymentTemplateTests {
    /// A definition from its JSON, as `functions/<name>.json` would hold it.
    func definition(_ json: String) throws -> FunctionDefinition {
        try JSONDecoder().decode(FunctionDefinition.self, from: Data(json.utf8))
    }

    func resources(_ definitions: [FunctionDefinition]) throws -> [String: [String: Any]] {
        let document = try DeploymentTemplate(definitions: definitions, dist: "../dist").document()
        return try #require(document["Resources"] as? [String: [String: Any]])
    }

    func properties(_ resource: [String: Any]?) throws -> [String: Any] {
        try #require(resource?["Properties"] as? [String: Any])
    }

    /// A role's trusted service and its statements as (actions, resources, condition).
    func role(_ resource: [String: Any]?) throws -> (service: String?, statements: [(actions: [String], resources: [Any], condition: Any?)]) {
        let role = try properties(resource)
        let trust = (role["AssumeRolePolicyDocument"] as? [String: Any])?["Statement"] as? [[String: Any]]
        let service = (trust?.first?["Principal"] as? [String: Any])?["Service"] as? String
        let policies = role["Policies"] as? [[String: Any]] ?? []
        let statements = policies.flatMap { (($0["PolicyDocument"] as? [String: Any])?["Statement"] as? [[String: Any]]) ?? [] }
        return (service, statements.map { ($0["Action"] as? [String] ?? [], $0["Resource"] as? [Any] ?? [], $0["Condition"]) })
    }

    /// `Fn::Sub`'s text, or nil for anything else.
    func substitution(_ value: Any?) -> String? { (value as? [String: String])?["Fn::Sub"] }

    @Test("a function's role writes its own log group and dead-letter queue, then exactly its definition's permissions")
    func functionRole() throws {
        let reader = try definition(#"""
            {"name": "table-reader", "kind": "lambda", "product": "reader", "architecture": "arm64",
             "permissions": [
                {"actions": ["dynamodb:GetItem"], "resources": ["${JobTable.Arn}"],
                 "condition": {"StringEquals": {"dynamodb:LeadingKeys": ["JOB#a"]}, "NumericLessThan": {"x": 3}}},
                {"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::fixed-bucket/*"]}]}
            """#)
        let all = try resources([reader])
        let (service, statements) = try role(all["TableReaderRole"])
        #expect(service == "lambda.amazonaws.com")
        #expect(statements.map(\.actions) == [["logs:CreateLogStream", "logs:PutLogEvents"], ["sqs:SendMessage"], ["dynamodb:GetItem"], ["s3:GetObject"]])
        // Its logs and dead letters only: the function's own group and queue, nothing account-wide.
        #expect(statements[0].resources.map(substitution) == ["${TableReaderLogGroup.Arn}"])
        #expect(statements[1].resources.map(substitution) == ["${TableReaderDeadLetterQueue.Arn}"])
        #expect(all["TableReaderLogGroup"]?["Type"] as? String == "AWS::Logs::LogGroup")
        #expect(all["TableReaderDeadLetterQueue"]?["Type"] as? String == "AWS::SQS::Queue")
        // A resource naming something goes through Fn::Sub; a literal ARN stays a string.
        #expect(statements[2].resources.map(substitution) == ["${JobTable.Arn}"])
        #expect(statements[3].resources as? [String] == ["arn:aws:s3:::fixed-bucket/*"])
        // A condition keeps JSON's types: lists stay lists, numbers numbers.
        let condition = try #require(statements[2].condition as? [String: [String: Any]])
        #expect(condition["StringEquals"]?["dynamodb:LeadingKeys"] as? [String] == ["JOB#a"])
        #expect(condition["NumericLessThan"]?["x"] as? Int == 3)
        #expect(statements[3].condition == nil)
    }

    @Test("an executable's role is for EC2, in an instance profile, with no policy when it asks for nothing")
    func instanceRole() throws {
        let runner = try definition(#"{"name": "job-runner", "kind": "executable", "product": "runner", "architecture": "x86_64"}"#)
        let all = try resources([runner])
        #expect(try role(all["JobRunnerRole"]).service == "ec2.amazonaws.com")
        #expect(try properties(all["JobRunnerRole"])["Policies"] == nil)
        let profile = try properties(all["JobRunnerInstanceProfile"])
        #expect((profile["Roles"] as? [[String: String]])?.first?["Ref"] == "JobRunnerRole")
        // No function, so no log group or dead-letter queue.
        #expect(all["JobRunnerFunction"] == nil && all["JobRunnerDeadLetterQueue"] == nil)
    }

    @Test("deployed variables: deployEnvironment over environment, null leaves a variable out, names resolve through Fn::Sub")
    func environment() throws {
        let worker = try definition(#"""
            {"name": "worker", "kind": "lambda", "product": "worker", "architecture": "x86_64",
             "environment": {"SORTIE_TABLE": "dev-table", "SORTIE_FEEDS": "{}", "LIMIT": "10"},
             "deployEnvironment": {"SORTIE_TABLE": "${JobTable}", "SORTIE_FEEDS": null, "SORTIE_FEEDS_URI": "s3://${ArtifactBucket}/feeds.json"}}
            """#)
        let variables = try #require((try properties(try resources([worker])["WorkerFunction"])["Environment"] as? [String: Any])?["Variables"] as? [String: Any])
        #expect(Set(variables.keys) == ["SORTIE_TABLE", "SORTIE_FEEDS_URI", "LIMIT"])
        #expect(substitution(variables["SORTIE_TABLE"]) == "${JobTable}")
        #expect(substitution(variables["SORTIE_FEEDS_URI"]) == "s3://${ArtifactBucket}/feeds.json")
        #expect(variables["LIMIT"] as? String == "10")
    }

    @Test("a bucket trigger's bucket is a parameter of the stack, and its invoke permission names it without referring to the bucket")
    func bucketTrigger() throws {
        let loader = try definition(#"""
            {"name": "loader", "kind": "lambda", "product": "loader", "architecture": "x86_64",
             "triggers": [{"type": "bucket", "bucket": "raw-drop", "prefix": "in/"}]}
            """#)
        let document = try DeploymentTemplate(definitions: [loader], dist: "../dist").document()
        let parameters = try #require(document["Parameters"] as? [String: [String: Any]])
        #expect(parameters["RawDropBucketName"]?["Default"] as? String == "raw-drop")
        let all = try #require(document["Resources"] as? [String: [String: Any]])
        // S3 checks the permission when the notification is configured: the bucket waits for it,
        // so the permission may not wait for the bucket (a cycle CloudFormation refuses).
        #expect(all["RawDropBucket"]?["DependsOn"] as? [String] == ["LoaderRawDropPermission"])
        let permission = try properties(all["LoaderRawDropPermission"])
        #expect(substitution(permission["SourceArn"]) == "arn:${AWS::Partition}:s3:::${RawDropBucketName}")
        let bucket = try properties(all["RawDropBucket"])
        #expect((bucket["BucketName"] as? [String: String])?["Ref"] == "RawDropBucketName")
    }

    @Test("without a definition submitting to Batch the template has no Batch side")
    func noBatch() throws {
        let echo = try definition(#"{"name": "echo", "kind": "lambda", "product": "echo", "architecture": "x86_64"}"#)
        let document = try DeploymentTemplate(definitions: [echo], dist: "../dist").document()
        #expect(document["Conditions"] == nil && document["Rules"] == nil)
        let parameters = try #require(document["Parameters"] as? [String: Any])
        #expect(parameters["BatchCompute"] == nil && parameters["ChunkWorkerImageTag"] == nil)
        let all = try #require(document["Resources"] as? [String: [String: Any]])
        #expect(all.values.allSatisfy { ($0["Type"] as? String)?.hasPrefix("AWS::Batch::") == false })
    }

    @Test("the Batch side: the worker's role is the worker function's, its image tagged with this release")
    func batch() throws {
        let definitions = try FunctionDefinition.load(folder: Repository.root.appendingPathComponent("functions"))
        let document = try DeploymentTemplate(definitions: definitions, dist: "../dist").document()
        let all = try #require(document["Resources"] as? [String: [String: Any]])
        // The container does what the function does, so it may do exactly that.
        let worker = try #require(definitions.first { $0.name == "chunk-processor" })
        let statements = try role(all["ChunkWorkerRole"]).statements
        #expect(statements.map(\.actions) == (worker.permissions ?? []).map(\.actions))
        #expect(try role(all["ChunkWorkerRole"]).service == "ecs-tasks.amazonaws.com")
        let parameters = try #require(document["Parameters"] as? [String: [String: Any]])
        #expect(parameters["ChunkWorkerImageTag"]?["Default"] as? String == SortieRelease.version)
        // The job's containers get the worker's deployed variables, and a region of their own.
        let container = try #require(try properties(all["ChunkWorkerJobDefinition"])["ContainerProperties"] as? [String: Any])
        let variables = try #require(container["Environment"] as? [[String: Any]])
        let names = variables.compactMap { $0["Name"] as? String }
        #expect(Set(names) == Set(worker.deployedEnvironment.keys).union(["AWS_REGION"]))
        #expect(names == names.sorted())
    }

    @Test("a definition the template cannot deploy is named with what is wrong", arguments: [
        (#"{"name": "odd", "kind": "container", "product": "odd", "architecture": "x86_64"}"#, "unknown kind container"),
        (#"{"name": "odd", "kind": "lambda", "product": "odd", "architecture": "x86_64", "triggers": [{"type": "queue"}]}"#, "unknown trigger type queue"),
        (#"{"name": "odd", "kind": "lambda", "product": "odd", "architecture": "x86_64", "triggers": [{"type": "schedule", "job": "x"}]}"#,
         "a schedule needs an expression"),
        (#"{"name": "odd", "kind": "lambda", "product": "odd", "architecture": "x86_64", "triggers": [{"type": "bucket"}]}"#, "a bucket trigger needs a bucket"),
    ])
    func invalid(json: String, problem: String) throws {
        let odd = try definition(json)
        #expect(throws: TemplateError(definition: "odd", problem: problem)) {
            _ = try DeploymentTemplate(definitions: [odd], dist: "../dist").document()
        }
    }

    @Test("two definitions may share a parameter only if they declare it alike")
    func sharedParameter() throws {
        func declaring(_ name: String, default value: String) throws -> FunctionDefinition {
            try definition(#"""
                {"name": "\#(name)", "kind": "lambda", "product": "\#(name)", "architecture": "x86_64",
                 "parameters": {"FeedBucketName": {"description": "Where feeds land.", "default": "\#(value)"}}}
                """#)
        }
        let document = try DeploymentTemplate(definitions: [try declaring("first", default: "feeds"), try declaring("second", default: "feeds")], dist: "../dist").document()
        #expect((document["Parameters"] as? [String: [String: Any]])?["FeedBucketName"]?["Default"] as? String == "feeds")
        #expect(throws: TemplateError(definition: "second", problem: "parameter FeedBucketName is declared differently by another definition")) {
            _ = try DeploymentTemplate(definitions: [try declaring("first", default: "feeds"), try declaring("second", default: "other")], dist: "../dist").document()
        }
    }

    @Test("a definition file that does not decode is named by its file")
    func undecodableFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-definitions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(#"{"name": "good", "kind": "lambda", "product": "good", "architecture": "x86_64"}"#.utf8).write(to: folder.appendingPathComponent("good.json"))
        try Data(#"{"name": "bad", "kind": "lambda", "product": "bad"}"#.utf8).write(to: folder.appendingPathComponent("bad.json"))
        try Data("not a definition".utf8).write(to: folder.appendingPathComponent("README.md"))
        let error = try #require(throws: FunctionDefinition.LoadError.self) { _ = try FunctionDefinition.load(folder: folder) }
        #expect(error.file == "bad.json")
        #expect(error.description.hasPrefix("bad.json: ") && error.description.contains("architecture"), "\(error)")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("bad.json"))
        #expect(try FunctionDefinition.load(folder: folder).map(\.name) == ["good"])
    }
}
