import LambdaRuntime

/// Reads a function's settings from its environment variables, noting every problem instead of
/// stopping at the first, so that one failed start names all that needs fixing.
///
/// A read that finds a problem returns a placeholder (the default, or an empty string);
/// `finish()` throws before any placeholder can be used.
public struct EnvironmentReader: Sendable {
    public let variables: [String: String]
    public private(set) var problems: [String] = []

    public init(_ variables: [String: String]) {
        self.variables = variables
    }

    /// The variable's value; unset and empty are the same (a template can only blank a variable).
    public subscript(name: String) -> String? {
        guard let value = variables[name], !value.isEmpty else { return nil }
        return value
    }

    public mutating func required(_ name: String) -> String {
        guard let value = self[name] else {
            report("\(name) is not set")
            return ""
        }
        return value
    }

    public mutating func integer(_ name: String, default fallback: Int64, minimum: Int64, maximum: Int64? = nil) -> Int64 {
        guard let text = self[name] else { return fallback }
        guard let value = Int64(text), value >= minimum, value <= maximum ?? .max else {
            let bounds = maximum.map { "from \(minimum) to \($0)" } ?? "of at least \(minimum)"
            report("\(name) must be an integer \(bounds), not '\(text)'")
            return fallback
        }
        return value
    }

    /// Notes a problem that is not one variable's absence or range.
    public mutating func report(_ problem: String) {
        problems.append(problem)
    }

    /// Throws every problem noted, if any.
    public func finish() throws(ConfigurationError) {
        guard problems.isEmpty else { throw ConfigurationError(problems) }
    }
}

/// A function's settings are missing or malformed: every problem, each naming its variable.
public struct ConfigurationError: LambdaFunctionError, Sendable, Equatable, CustomStringConvertible {
    public var problems: [String]
    /// How Lambda's error report names it.
    public var errorType: String { "Sortie.Configuration" }

    public init(_ problems: [String]) {
        self.problems = problems
    }

    public var description: String { "configuration: " + problems.joined(separator: "; ") }
}
