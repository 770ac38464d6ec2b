import AWSCore
import AWSServices
import Deployment
import Foundation
import LocalAWS

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
        var names = DeploymentNames(definitions: all, region: MotoServer.region, account: MotoServer.accountID)
        configure(&names)
        return try create(all.filter { functions.contains($0.name) }, names: &names, client: client, prefix: prefix)
    }
}
