/// A manual submission's changes to its spec, for that one job: each must be one the spec's
/// `overrides` lists. Kept as text by name, as the job record stores and `describe` shows them:
/// `no_shutdown` (true/false), `git_branch`, `instance_types` (comma-separated), `market`
/// (spot/on-demand) and `environment.NAME`.
public enum LaunchOverride {
    public static let noShutdown = "no_shutdown"
    public static let gitBranch = "git_branch"
    public static let instanceTypes = "instance_types"
    public static let market = "market"
    /// `environment.NAME`: one variable the steps see.
    public static let environmentPrefix = "environment."
    public static let names = [noShutdown, gitBranch, instanceTypes, market]

    /// Whether a spec may list `name` in its `overrides`.
    public static func isOverridable(_ name: String) -> Bool {
        guard name.hasPrefix(environmentPrefix) else { return names.contains(name) }
        let variable = String(name.dropFirst(environmentPrefix.count))
        return JobSpec.isVariableName(variable) && !variable.hasPrefix("SORTIE_")
    }
}

/// Why a submission's overrides were refused, naming the override.
public struct OverrideError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension JobSpec {
    /// Refuses, by name, the first override the spec's `overrides` does not list: checked when a
    /// job is submitted, not when it starts (the spec may have been published again meanwhile).
    public func checkAllowed(_ overrides: [String: String]) throws(OverrideError) {
        guard let name = overrides.keys.sorted().first(where: { !self.overrides.contains($0) }) else { return }
        let allowed = self.overrides.isEmpty ? "it allows none" : "it allows \(self.overrides.joined(separator: ", "))"
        throw OverrideError("job '\(self.name)' does not allow the override '\(name)' (its spec's overrides: list says which); \(allowed)")
    }

    /// The spec as this job runs it: each override (a name `LaunchOverride` knows) applied, the
    /// first value it cannot take named.
    public func applying(_ overrides: [String: String]) throws(OverrideError) -> JobSpec {
        var spec = self
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) { try spec.apply(name, value) }
        return spec
    }

    private mutating func apply(_ name: String, _ value: String) throws(OverrideError) {
        func refuse(_ expected: String) -> OverrideError { OverrideError("override '\(name)': expected \(expected), got '\(value)'") }
        switch name {
        case LaunchOverride.noShutdown:
            guard value == "true" || value == "false" else { throw refuse("true or false") }
            noShutdown = value == "true"
        case LaunchOverride.gitBranch:
            guard case .git(let repository, _, let tokenSecret)? = code else { throw OverrideError("override '\(name)': job '\(self.name)' does not take its code from git") }
            // Handed to git as an argument: never an option, never empty.
            guard !value.isEmpty, value.utf8.count <= 255, !value.hasPrefix("-"), !value.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                throw refuse("a branch name")
            }
            code = .git(repository: repository, branch: value, tokenSecret: tokenSecret)
        case LaunchOverride.instanceTypes:
            let types = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let valid = types.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || JobSpec.isLowerAlphanumeric($0) } }
            guard (1...10).contains(types.count), valid else { throw refuse("1 to 10 instance types, comma-separated (c7i.large,c6i.large)") }
            instance.types = types
        case LaunchOverride.market:
            guard let market = InstanceSpec.Market(rawValue: value) else { throw refuse("spot or on-demand") }
            instance.market = market
            // On-demand has no fallback and no spot price.
            if market == .onDemand {
                instance.fallback = nil
                instance.spotMaxPrice = nil
            }
        default:
            guard LaunchOverride.isOverridable(name) else { throw OverrideError("no override is named '\(name)'") }
            guard !value.utf8.contains(0) else { throw refuse("text without a NUL byte") }
            environment[String(name.dropFirst(LaunchOverride.environmentPrefix.count))] = value
        }
    }
}
