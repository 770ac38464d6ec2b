import AWSCore
import AWSServices
import Deployment
import DevEnvironment
import Foundation
import JobModel
import JobStore
import TableSchema

/// One Sortie deployment inside moto: the job table (with its queue indexes and TTL), a bucket
/// for published specs and logs, and a log group, for the launcher's and the runner's tests (the
/// launcher's settings for it are in `LauncherTests`). The launcher and the runner run under roles
/// made from their definitions (`roles`), the set-up as the operator. The moto server handles one
/// request at a time, as DynamoDB makes each write atomic (see `MotoServer.serialized`).
public struct Deployment: Sendable {
    public let server: MotoServer
    public let client: AWSClient
    public let table: String
    public let bucket: String
    public let logGroup: String
    public let roles: DeploymentRoles

    public static func create() async throws -> Deployment {
        try await create(functions: ["launcher", "sortie-runner"], extra: { _, _ in }, naming: { _, _ in }).deployment
    }

    /// A deployment whose `functions` run under roles made from their definitions. `extra` makes
    /// what else a test needs (as the operator, `id` naming this deployment), before the roles,
    /// whose policies `naming` tells about it.
    public static func create<Extra: Sendable>(
        functions: [String], extra: @escaping @Sendable (_ client: AWSClient, _ id: String) throws -> Extra,
        naming: @escaping @Sendable (Extra, inout DeploymentNames) -> Void
    ) async throws -> (deployment: Deployment, extra: Extra) {
        let server = try await MotoServer.serialized()
        let client = try AWSClient.fromEnvironment(AWSEnvironment(server.environment))
        let id = String(UUID().uuidString.prefix(8).lowercased())
        let (table, bucket, logGroup) = ("sortie-jobs-\(id)", "sortie-\(id)", "/sortie/jobs-\(id)")
        let (roles, made) = try await blocking { () throws -> (DeploymentRoles, Extra) in
            try createJobTable(client, table)
            try S3(client: client).createBucket(bucket)
            try CloudWatchLogs(client: client).createLogGroup(logGroup)
            let made = try extra(client, id)
            let roles = try DeploymentRoles.create(repository: Repository.root, functions: functions, client: client, prefix: "\(id)-") { names in
                names.table(table)
                names.logGroup(logGroup)
                names["ArtifactBucket"] = bucket
                names["JobLogBucket"] = bucket
                naming(made, &names)
            }
            return (roles, made)
        }
        return (Deployment(server: server, client: client, table: table, bucket: bucket, logGroup: logGroup, roles: roles), made)
    }

    /// A job name no other test uses.
    public static func uniqueName(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

    /// The runner's AWS settings on an instance: moto's, with the job role's credentials.
    public var runnerEnvironment: [String: String] {
        get throws { server.environment.merging(try roles.environment("sortie-runner")) { $1 } }
    }

    public var store: JobStore { JobStore(dynamoDB: DynamoDB(client: client), table: table) }

    /// Publishes a spec as `sortie publish` does.
    public func publish(_ spec: JobSpec) async throws {
        let body = try JSONEncoder.sorted.encode(spec)
        try await blocking { try S3(client: client).putObject(bucket: bucket, key: "specs/\(spec.name).json", body: body) }
    }

    /// The instances launched for a job (any state).
    public func instances(job: String) async throws -> [EC2.Instance] {
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
    public func instanceAttribute(_ instanceID: String, _ attribute: String) async throws -> String? {
        try await blocking {
            var parameters = QueryParameters()
            parameters.add("InstanceId", instanceID)
            parameters.add("Attribute", attribute)
            let root = try QueryProtocolClient(client: client, service: .ec2, version: "2016-11-15").call("DescribeInstanceAttribute", parameters)
            return root[attribute, "value"]?.text
        }
    }

    public func item(_ key: DynamoDB.Item) async throws -> DynamoDB.Item? {
        try await blocking { try DynamoDB(client: client).getItem(.init(tableName: table, key: key, consistentRead: true)).item }
    }

    public func record(_ id: String) async throws -> JobRecord? {
        try await blocking { try store.record(id) }
    }

    /// The ids holding a slot of this kind.
    public func slotHolders(job: String) async throws -> Set<String> {
        guard case .ss(let ids)? = try await item(JobTable.slotsKey(job: job))?[.holders] else { return [] }
        return Set(ids)
    }

}

/// A job every test can shape: two instance types (the first is what moto launches), steps and arguments as given.
public func testSpec(
    _ name: String, steps: [JobSpec.Step] = [.init(name: "hello", run: "echo hello")], arguments: [String: JobSpec.ArgumentSpec] = [:],
    maxConcurrency: Int = 1, types: [String] = ["t3.micro", "t3.small"]
) -> JobSpec {
    JobSpec(
        name: name, instance: InstanceSpec(types: types, image: "ami-0abcdef1234567890"), arguments: arguments, steps: steps,
        timeoutSeconds: 300, maxConcurrency: maxConcurrency)
}
