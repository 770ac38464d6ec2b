import AWSCore
import AWSServices
import DevEnvironment
import Foundation
import Launcher
import LocalRuntime
import Logging
import JobModel
import JobStore
import SortieTestSupport
import Testing

/// One Sortie deployment inside moto: the job table (with its queue indexes and TTL), a bucket
/// for published specs and logs, a log group, and the launcher's configuration pointing at them.
/// Instances fetch the runner this test build made. The launcher and the runner run under roles
/// made from their definitions (`roles`), the set-up as the operator. The moto server handles one
/// request at a time, as DynamoDB makes each write atomic (see `MotoServer.serialized`).
struct Deployment: Sendable {
    let server: MotoServer
    let client: AWSClient
    let table: String
    let bucket: String
    let logGroup: String
    let roles: DeploymentRoles

    static func create() async throws -> Deployment {
        let server = try await MotoServer.serialized()
        let client = try AWSClient.fromEnvironment(AWSEnvironment(server.environment))
        let id = UUID().uuidString.prefix(8).lowercased()
        let (table, bucket, logGroup) = ("sortie-jobs-\(id)", "sortie-\(id)", "/sortie/jobs-\(id)")
        let roles = try await blocking {
            let dynamoDB = DynamoDB(client: client)
            try dynamoDB.createTable(JobTable.definition(table))
            try dynamoDB.updateTimeToLive(tableName: table, attributeName: JobTable.ttlAttribute)
            try S3(client: client).createBucket(bucket)
            try CloudWatchLogs(client: client).createLogGroup(logGroup)
            return try DeploymentRoles.create(
                repository: Repository.root, functions: ["launcher", "sortie-runner"], client: client, prefix: "\(id)-"
            ) { names in
                names.table(table)
                names.logGroup(logGroup)
                names["ArtifactBucket"] = bucket
                names["JobLogBucket"] = bucket
            }
        }
        return Deployment(server: server, client: client, table: table, bucket: bucket, logGroup: logGroup, roles: roles)
    }

    /// Warnings and errors only: a 50-launch run would otherwise print hundreds of lines.
    static var quietLogger: Logger {
        var logger = Logger(label: "test.launcher")
        logger.logLevel = .warning
        return logger
    }

    /// A job name no other test uses.
    static func uniqueName(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

    /// The launcher's environment, as the deployment template would set it, with its role's credentials.
    var environment: [String: String] {
        get throws {
            server.environment.merging(try roles.environment("launcher")) { $1 }.merging([
                "SORTIE_TABLE": table, "SORTIE_SPECS": "s3://\(bucket)/specs/", "SORTIE_RUNNER_URL": try BuiltProducts.executable("sortie-runner"),
                "SORTIE_LOG_BUCKET": bucket, "SORTIE_LOG_GROUP": logGroup,
            ]) { $1 }
        }
    }

    /// The runner's AWS settings on an instance: moto's, with the job role's credentials.
    var runnerEnvironment: [String: String] {
        get throws { server.environment.merging(try roles.environment("sortie-runner")) { $1 } }
    }

    func launcher(transport: any HTTPTransport = CurlTransport(), settings: [String: String] = [:]) throws -> Launcher {
        let awsEnvironment = AWSEnvironment(try environment)
        let configuration = try LauncherConfiguration.fromEnvironment(try environment.merging(settings) { $1 })
        return Launcher(configuration: configuration, client: AWSClient(try AWSConfiguration.fromEnvironment(awsEnvironment, transport: transport)))
    }

    var store: JobStore { JobStore(dynamoDB: DynamoDB(client: client), table: table) }

    /// Publishes a spec as `sortie publish` does.
    func publish(_ spec: JobSpec) async throws {
        let body = try JSONEncoder.sorted.encode(spec)
        try await blocking { try S3(client: client).putObject(bucket: bucket, key: "specs/\(spec.name).json", body: body) }
    }

    /// The instances launched for a job (any state).
    func instances(job: String) async throws -> [EC2.Instance] {
        try await blocking {
            var all: [EC2.Instance] = []
            var token: String?
            repeat {
                let page = try EC2(client: client).describeInstances(filters: [.init(name: "tag:sortie:job", values: [job])], nextToken: token)
                all += page.instances
                token = page.nextToken
            } while token != nil
            return all
        }
    }

    /// One attribute of an instance as EC2 describes it (`userData` comes base64-encoded).
    func instanceAttribute(_ instanceID: String, _ attribute: String) async throws -> String? {
        try await blocking {
            var parameters = QueryParameters()
            parameters.add("InstanceId", instanceID)
            parameters.add("Attribute", attribute)
            let root = try QueryProtocolClient(client: client, service: .ec2, version: "2016-11-15").call("DescribeInstanceAttribute", parameters)
            return root[attribute, "value"]?.text
        }
    }

    func item(_ key: DynamoDB.Item) async throws -> DynamoDB.Item? {
        try await blocking { try DynamoDB(client: client).getItem(.init(tableName: table, key: key, consistentRead: true)).item }
    }

    func record(_ id: String) async throws -> JobRecord? {
        try await blocking { try store.record(id) }
    }

    /// The ids holding a slot of this kind.
    func slotHolders(job: String) async throws -> Set<String> {
        guard case .ss(let ids)? = try await item(JobTable.slotsKey(job: job))?["holders"] else { return [] }
        return Set(ids)
    }

    /// The launcher executable under the local Runtime API, configured for this deployment.
    func launcherFunction(concurrency: Int = 1) async throws -> LocalFunction {
        try await LocalFunction.start(.init(
            executable: try BuiltProducts.executable("launcher"), functionName: "launcher", environment: try environment, concurrency: concurrency,
            logs: .capture))
    }
}

/// A job every test can shape: two instance types (the first is what moto launches), steps and arguments as given.
func testSpec(
    _ name: String, steps: [JobSpec.Step] = [.init(name: "hello", run: "echo hello")], arguments: [String: JobSpec.ArgumentSpec] = [:],
    maxConcurrency: Int = 1, types: [String] = ["t3.micro", "t3.small"]
) -> JobSpec {
    JobSpec(
        name: name, instance: InstanceSpec(types: types, image: "ami-0abcdef1234567890"), arguments: arguments, steps: steps,
        timeoutSeconds: 300, maxConcurrency: maxConcurrency)
}

/// What the launcher answered, decoded loosely so a test can look at any field.
struct Answer: Decodable, Sendable {
    var outcome: String
    var job: String
    var jobId: String?
    var attempt: Int?
    var state: String?
    var instanceId: String?
    var instanceType: String?
    var position: Int?
}

extension InvocationOutcome {
    /// The response, decoded; records an issue (with the function's log) for anything else.
    func answer(_ function: LocalFunction, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Answer? {
        guard case .response(_, let body) = self else {
            Issue.record("expected a response, got \(self)\n\(function.capturedLog.suffix(3000))", sourceLocation: sourceLocation)
            return nil
        }
        return try JSONDecoder().decode(Answer.self, from: body)
    }

    /// The reported error's type and message.
    var error: (type: String?, message: String)? {
        guard case .functionError(_, let type, let body) = self else { return nil }
        struct Report: Decodable { var errorMessage: String }
        return (type, (try? JSONDecoder().decode(Report.self, from: body))?.errorMessage ?? "")
    }
}
