/// Why an event's arguments do not fit the job's declared ones.
public struct ArgumentError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension JobSpec {
    /// The event's arguments checked against the declared ones, defaults filled in. The values
    /// are never parsed as shell: they reach the steps as environment variables, byte for byte.
    public func resolveArguments(_ given: [String: String]) throws(ArgumentError) -> [String: String] {
        let unknown = given.keys.filter { arguments[$0] == nil }.sorted()
        guard unknown.isEmpty else {
            let declared = arguments.keys.sorted()
            throw ArgumentError("job '\(name)' takes no argument \(unknown.map { "'\($0)'" }.joined(separator: ", ")); "
                + (declared.isEmpty ? "it declares none" : "it declares \(declared.joined(separator: ", "))"))
        }
        var resolved: [String: String] = [:]
        var missing: [String] = []
        for (name, argument) in arguments {
            if let value = given[name] ?? argument.defaultValue {
                resolved[name] = value
            } else {
                missing.append(name)
            }
        }
        guard missing.isEmpty else {
            throw ArgumentError("job '\(name)' needs the argument\(missing.count > 1 ? "s" : "") \(missing.sorted().joined(separator: ", ")), which \(missing.count > 1 ? "have" : "has") no default")
        }
        if let bad = resolved.first(where: { $0.value.utf8.contains(0) }) {
            throw ArgumentError("argument '\(bad.key)' holds a NUL byte, which no environment variable can carry")
        }
        return resolved
    }
}
