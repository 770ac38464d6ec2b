import Deployment
import Foundation
import SortieTestSupport
import TableSchema
import Testing

/// A deployment outside CloudFormation (`sortie dev`, the test worlds) resolves the definitions'
/// `Fn::Sub` names itself: what it grants must be what the template grants.
@Suite("deployment names")
struct DeploymentNamesTests {
    static let region = "eu-west-1"
    static let account = "111122223333"

    func definition(_ json: String) throws -> FunctionDefinition {
        try JSONDecoder().decode(FunctionDefinition.self, from: Data(json.utf8))
    }

    @Test("resources resolve to this deployment's: parameters at their defaults, a bucket trigger's bucket, functions and roles by name; what it does not make is any resource")
    func resolution() throws {
        let loader = try definition(#"""
            {"name": "loader", "kind": "lambda", "product": "loader", "architecture": "x86_64",
             "parameters": {"FeedBucketName": {"description": "Where feeds land.", "default": "feeds"}},
             "triggers": [{"type": "bucket", "bucket": "raw-drop"}]}
            """#)
        let runner = try definition(#"{"name": "job-runner", "kind": "executable", "product": "runner", "architecture": "x86_64"}"#)
        var names = DeploymentNames(definitions: [loader, runner], region: Self.region, account: Self.account)
        names.table("jobs")
        names.role("job-runner", arn: "arn:aws:iam::\(Self.account):role/dev-job-runner")

        #expect(names.resolve("arn:${AWS::Partition}:s3:::${FeedBucketName}/*") == "arn:aws:s3:::feeds/*")
        #expect(names.resolve("${RawDropBucketName}") == "raw-drop")
        #expect(names.resolve("${LoaderFunction.Arn}") == "arn:aws:lambda:\(Self.region):\(Self.account):function:loader")
        #expect(names.resolve("${JobTable.Arn}/index/*") == "arn:aws:dynamodb:\(Self.region):\(Self.account):table/jobs/index/*")
        #expect(names.resolve("${JobRunnerRole}") == "dev-job-runner")
        // An executable has no function; a resource the deployment lacks still has its action enforced.
        #expect(names.resolve("${JobRunnerFunction.Arn}") == "*")
        #expect(names.resolve("arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:${ChunkQueue}") == "arn:aws:sqs:\(Self.region):\(Self.account):*")
        #expect(names.resolve("plain ${unclosed") == "plain ${unclosed")
        #expect(names.policyDocument([]) == nil)
    }

    @Test("every definition's policy here is its role's in the template, each Fn::Sub resolved")
    func sameAsTemplate() throws {
        let definitions = try FunctionDefinition.load(folder: Repository.root.appendingPathComponent("functions"))
        let names = DeploymentNames(definitions: definitions, region: Self.region, account: Self.account)
        let document = try DeploymentTemplate(definitions: definitions, dist: "../dist").document()
        let resources = try #require(document["Resources"] as? [String: [String: Any]])
        /// Each statement's actions and resources, the template's `Fn::Sub`s resolved here.
        func plain(_ statements: [[String: Any]]) -> [[String]] {
            statements.map { statement in
                let resources = (statement["Resource"] as? [Any] ?? []).map { ($0 as? String) ?? names.resolve(($0 as? [String: String])?["Fn::Sub"] ?? "") }
                return (statement["Action"] as? [String] ?? []) + resources
            }
        }
        for definition in definitions {
            let role = try #require(resources["\(FunctionDefinition.logicalID(definition.name))Role"]?["Properties"] as? [String: Any])
            let policies = role["Policies"] as? [[String: Any]] ?? []
            let statements = policies.flatMap { (($0["PolicyDocument"] as? [String: Any])?["Statement"] as? [[String: Any]]) ?? [] }
            // A function's own log group and dead-letter queue come first; the definition's permissions follow.
            let deployed = Array(statements.dropFirst(definition.isLambda ? 2 : 0))
            let local = try names.policyDocument(definition.permissions ?? []).map {
                try #require((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["Statement"] as? [[String: Any]])
            } ?? []
            #expect(plain(local) == plain(deployed), "\(definition.name)")
            #expect(local.count == (definition.permissions ?? []).count, "\(definition.name)")
        }
    }
}
