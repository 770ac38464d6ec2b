import Foundation
import JobModel

/// Arbitrary JSON in a definition (event patterns, IAM conditions, schedule arguments) is read
/// as the job model's untyped tree, and handed to Yams and JSONSerialization as plain values.
extension SpecValue {
    public var plain: Any {
        switch kind {
        case .null: NSNull()
        case .scalar(let text, quoted: true): text
        case .scalar(let text, quoted: false): Bool(text) ?? Int(text) ?? Double(text) ?? text as Any
        case .list(let values): values.map(\.plain)
        case .map(let entries): Dictionary(entries.map { ($0.key, $0.value.plain) }) { $1 }
        }
    }
}

extension FunctionDefinition {
    /// A template's logical id for a name: `retry-reactor` → `RetryReactor`.
    public static func logicalID(_ name: String) -> String {
        name.split { !$0.isLetter && !$0.isNumber }.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// The IAM policy statements of `permissions`, each resource passed through `resource`: the
    /// template makes `Fn::Sub`s of them, `sortie dev` and the tests the deployment's ARNs.
    public static func statements(_ permissions: [Permission], resource: (String) -> Any) -> [[String: Any]] {
        permissions.map { permission in
            var statement: [String: Any] = ["Effect": "Allow", "Action": permission.actions, "Resource": permission.resources.map(resource)]
            statement["Condition"] = permission.condition?.plain
            return statement
        }
    }

    /// Who runs under this definition's role: Lambda, or EC2 for an `executable`'s instances.
    public var servicePrincipal: String { isLambda ? "lambda.amazonaws.com" : "ec2.amazonaws.com" }
}
