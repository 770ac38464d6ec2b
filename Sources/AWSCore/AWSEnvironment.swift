#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A snapshot of environment variables: resolution reads this instead of the process so tests
/// (and the local runner) can hand in exactly what a Lambda function or an instance would see.
public struct AWSEnvironment: Sendable {
    public var variables: [String: String]

    public init(_ variables: [String: String] = [:]) {
        self.variables = variables
    }

    public static var process: AWSEnvironment {
        AWSEnvironment(ProcessInfo.processInfo.environment)
    }

    /// The value of `name`; unset and empty read the same, as in the SDKs.
    public subscript(name: String) -> String? {
        guard let value = variables[name], !value.isEmpty else { return nil }
        return value
    }

    func flag(_ name: String) -> Bool {
        self[name]?.lowercased() == "true"
    }

    /// `~/…` expanded against `HOME`.
    func expandingHome(_ path: String) -> String {
        guard path.hasPrefix("~/"), let home = self["HOME"] else { return path }
        return home + path.dropFirst()
    }
}
