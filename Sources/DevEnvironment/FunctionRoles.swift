import AWSCore
import AWSServices
import Deployment
import Foundation
import LocalAWS

/// What the names in the definitions' `Fn::Sub` strings stand for in a deployment outside
/// CloudFormation (`sortie dev`, a test's world): `${JobTable}`, `${JobTable.Arn}`,
/// `${SortieRunnerRole.Arn}`, parameters and pseudo parameters. Parameters start at their
/// definitions' defaults (a bucket trigger's `<Bucket>BucketName` at the trigger's bucket),
/// functions' names and ARNs at the definitions' names; the deployment sets the rest.
public struct DeploymentNames: Sendable, Equatable {
    public var values: [String: String]
    public let region: String
    public let account: String

    public init(definitions: [FunctionDefinition], region: String = MotoServer.region, account: String = MotoServer.accountID) {
        self.region = region
        self.account = account
        values = ["AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": account, "AWS::URLSuffix": "amazonaws.com"]
        for definition in definitions {
            for (name, parameter) in definition.parameters ?? [:] { values[name] = parameter.default }
            for bucket in (definition.triggers ?? []).compactMap(\.bucket) { values["\(FunctionDefinition.logicalID(bucket))BucketName"] = bucket }
            if definition.isLambda { function(definition.name, name: definition.name) }
        }
    }

    public subscript(name: String) -> String? {
        get { values[name] }
        set { values[name] = newValue }
    }

    public mutating func table(_ name: String) {
        values["JobTable"] = name
        values["JobTable.Arn"] = "arn:aws:dynamodb:\(region):\(account):table/\(name)"
    }

    /// The job log group (`Arn` as CloudFormation gives a log group's: with `:*`).
    public mutating func logGroup(_ name: String) {
        values["JobLogGroup"] = name
        values["JobLogGroup.Arn"] = "arn:aws:logs:\(region):\(account):log-group:\(name):*"
    }

    public mutating func topic(_ arn: String) {
        values["AlertTopic"] = arn
        values["AlertTopic.TopicName"] = arn.split(separator: ":").last.map(String.init)
    }

    /// The role of definition `definition` (`${SortieRunnerRole.Arn}`).
    public mutating func role(_ definition: String, arn: String) {
        let id = FunctionDefinition.logicalID(definition)
        values["\(id)Role"] = arn.split(separator: "/").last.map(String.init)
        values["\(id)Role.Arn"] = arn
    }

    /// The Lambda function of definition `definition`, deployed as `name`.
    public mutating func function(_ definition: String, name: String) {
        let id = FunctionDefinition.logicalID(definition)
        values["\(id)Function"] = name
        values["\(id)Function.Arn"] = "arn:aws:lambda:\(region):\(account):function:\(name)"
    }

    /// `text` with every `${Name}` replaced. A name this deployment does not have (a stack
    /// resource it does not make) becomes `*`: the action is still enforced, on any resource.
    public func resolve(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            result += rest[..<start.lowerBound]
            result += values[String(rest[start.upperBound..<end])] ?? "*"
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    /// The JSON policy document of `permissions`, resolved here; nil when there are none.
    public func policyDocument(_ permissions: [FunctionDefinition.Permission]) -> String? {
        guard !permissions.isEmpty else { return nil }
        let document: [String: Any] = ["Version": "2012-10-17", "Statement": FunctionDefinition.statements(permissions, resource: resolve)]
        return (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// One role per definition, made in moto from exactly its `permissions` (resolved by
/// `DeploymentNames`), and the temporary credentials of each (STS AssumeRole), as Lambda, EC2 and
/// Batch hand them to what runs under the role. With IAM enforced (`MotoServer.startConfigured`),
/// a permission missing from a definition is an AccessDenied for the program that needs it.
public struct DeploymentRoles: Sendable {
    public let arns: [String: String]
    public let credentials: [String: AWSCredentials]

    /// `client` is the operator's; roles are named `<prefix><definition>`. Every role's ARN is
    /// known to `names` before any policy is resolved (the launcher passes the runner's).
    public static func create(
        _ definitions: [FunctionDefinition], names: inout DeploymentNames, client: AWSClient, prefix: String
    ) throws(AWSError) -> DeploymentRoles {
        let iam = IAM(client: client)
        var arns: [String: String] = [:]
        for definition in definitions {
            let trust: [String: Any] = ["Version": "2012-10-17", "Statement": [[
                "Effect": "Allow", "Action": "sts:AssumeRole",
                // The operator assumes it here, for the service that would in AWS.
                "Principal": ["Service": definition.servicePrincipal, "AWS": "arn:aws:iam::\(names.account):user/\(MotoServer.operatorUser)"],
            ] as [String: Any]]]
            let document = (try? JSONSerialization.data(withJSONObject: trust, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let arn = try iam.createRole(name: "\(prefix)\(definition.name)", trustPolicy: document)
            arns[definition.name] = arn
            names.role(definition.name, arn: arn)
        }
        let sts = STS(client: client)
        var credentials: [String: AWSCredentials] = [:]
        for definition in definitions {
            let role = "\(prefix)\(definition.name)"
            if let document = names.policyDocument(definition.permissions ?? []) {
                try iam.putRolePolicy(roleName: role, policyName: definition.name, document: document)
            }
            credentials[definition.name] = try sts.assumeRole(roleARN: arns[definition.name] ?? "", sessionName: definition.name)
        }
        return DeploymentRoles(arns: arns, credentials: credentials)
    }

    /// The AWS SDK variables that make a program run as `definition`'s role (laid over moto's).
    public func environment(_ definition: String) throws(DevError) -> [String: String] {
        guard let credentials = credentials[definition] else { throw .noSuchFunction(definition) }
        return [
            "AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
            "AWS_SESSION_TOKEN": credentials.sessionToken ?? "",
        ]
    }
}

extension DeploymentRoles {
    /// Roles for the definitions named `functions` in `repository`'s `functions/`, in a
    /// deployment (a test's world) whose names `configure` sets over the definitions' defaults.
    public static func create(
        repository: URL, functions: [String], client: AWSClient, prefix: String, configure: (inout DeploymentNames) -> Void
    ) throws -> DeploymentRoles {
        let all = try FunctionDefinition.load(folder: repository.appendingPathComponent("functions"))
        var names = DeploymentNames(definitions: all)
        configure(&names)
        return try create(all.filter { functions.contains($0.name) }, names: &names, client: client, prefix: prefix)
    }
}
