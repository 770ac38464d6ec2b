import Foundation
import TableSchema

/// What the names in the definitions' `Fn::Sub` strings stand for in a deployment outside
/// CloudFormation (`sortie dev`, a test's world): `${JobTable}`, `${JobTable.Arn}`,
/// `${SortieRunnerRole.Arn}`, parameters and pseudo parameters. Parameters start at their
/// definitions' defaults (a bucket trigger's `<Bucket>BucketName` at the trigger's bucket),
/// functions' names and ARNs at the definitions' names; the deployment sets the rest.
public struct DeploymentNames: Sendable, Equatable {
    public var values: [String: String]
    public let region: String
    public let account: String

    public init(definitions: [FunctionDefinition], region: String, account: String) {
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
