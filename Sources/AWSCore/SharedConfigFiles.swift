#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The shared `credentials` and `config` files, merged per profile as the SDKs do: the
/// credentials file wins over the config file for the same key.
public struct SharedConfigFiles: Sendable {
    public var profiles: [String: [String: String]]

    public init(profiles: [String: [String: String]] = [:]) {
        self.profiles = profiles
    }

    /// Reads `AWS_SHARED_CREDENTIALS_FILE` / `~/.aws/credentials` and `AWS_CONFIG_FILE` / `~/.aws/config`;
    /// a missing file is an empty one.
    public static func load(_ environment: AWSEnvironment) -> SharedConfigFiles {
        let configPath = environment.expandingHome(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config")
        let credentialsPath = environment.expandingHome(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials")
        var files = SharedConfigFiles()
        if let text = readText(configPath) { files.merge(parse(text, isConfigFile: true)) }
        if let text = readText(credentialsPath) { files.merge(parse(text, isConfigFile: false)) }
        return files
    }

    /// The profile named by `AWS_PROFILE` (or the legacy `AWS_DEFAULT_PROFILE`), else `default`.
    public static func profileName(_ environment: AWSEnvironment) -> String {
        environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default"
    }

    public func profile(_ name: String) -> [String: String]? {
        profiles[name]
    }

    mutating func merge(_ other: [String: [String: String]]) {
        for (name, keys) in other {
            profiles[name, default: [:]].merge(keys) { _, new in new }
        }
    }

    /// INI as the AWS CLI writes it. In the config file a profile section is `[profile name]`
    /// (`[default]` alone keeps its bare name); other sections (`[sso-session x]`, `[services x]`)
    /// are not profiles. Indented lines belong to a nested block (`s3 =` …) and are skipped.
    static func parse(_ text: String, isConfigFile: Bool) -> [String: [String: String]] {
        var profiles: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            if rawLine.first == " " || rawLine.first == "\t" { continue }
            let line = rawLine.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else { current = nil; continue }
                let title = line[line.index(after: line.startIndex)..<close].trimmingSpaces
                if !isConfigFile {
                    current = String(title)
                } else if title == "default" {
                    current = "default"
                } else if title.hasPrefix("profile ") || title.hasPrefix("profile\t") {
                    current = String(title.dropFirst("profile".count).trimmingSpaces)
                } else {
                    current = nil
                }
                if let current, profiles[current] == nil { profiles[current] = [:] }
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingSpaces.lowercased()
            var value = line[line.index(after: equals)...].trimmingSpaces
            // An inline comment needs whitespace before its marker, so `#` inside a secret survives.
            if let comment = value.firstRange(of: " #") ?? value.firstRange(of: " ;") ?? value.firstRange(of: "\t#") {
                value = value[..<comment.lowerBound].trimmingSpaces
            }
            profiles[current]?[key] = String(value)
        }
        return profiles
    }

    private static func readText(_ path: String) -> String? {
        guard let data = try? Data(contentsOf: URL(filePath: path)) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

extension StringProtocol {
    var trimmingSpaces: SubSequence {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
