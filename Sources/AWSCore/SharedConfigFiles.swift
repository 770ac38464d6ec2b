#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The shared `credentials` and `config` files, merged per profile as the SDKs do: the
/// credentials file wins over the config file for the same key.
public struct SharedConfigFiles: Sendable {
    public var profiles: [String: [String: String]]
    /// The config file's `[sso-session name]` sections.
    public var ssoSessions: [String: [String: String]]

    public init(profiles: [String: [String: String]] = [:], ssoSessions: [String: [String: String]] = [:]) {
        self.profiles = profiles
        self.ssoSessions = ssoSessions
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

    mutating func merge(_ other: SharedConfigFiles) {
        for (name, keys) in other.profiles {
            profiles[name, default: [:]].merge(keys) { _, new in new }
        }
        ssoSessions.merge(other.ssoSessions) { _, new in new }
    }

    /// INI as the AWS CLI writes it. In the config file a profile section is `[profile name]`
    /// (`[default]` alone keeps its bare name) and `[sso-session name]` an SSO session; other
    /// sections (`[services x]`) are skipped, and so are indented lines, which belong to a nested
    /// block (`s3 =` …).
    static func parse(_ text: String, isConfigFile: Bool) -> SharedConfigFiles {
        var profiles: [String: [String: String]] = [:]
        var ssoSessions: [String: [String: String]] = [:]
        var current: String?
        var isSSOSession = false
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            if rawLine.first == " " || rawLine.first == "\t" { continue }
            let line = rawLine.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else { current = nil; continue }
                let title = line[line.index(after: line.startIndex)..<close].trimmingSpaces
                isSSOSession = false
                if !isConfigFile {
                    current = String(title)
                } else if title == "default" {
                    current = "default"
                } else if title.hasPrefix("profile ") || title.hasPrefix("profile\t") {
                    current = String(title.dropFirst("profile".count).trimmingSpaces)
                } else if title.hasPrefix("sso-session ") || title.hasPrefix("sso-session\t") {
                    current = String(title.dropFirst("sso-session".count).trimmingSpaces)
                    isSSOSession = true
                } else {
                    current = nil
                }
                if let current, isSSOSession ? ssoSessions[current] == nil : profiles[current] == nil {
                    if isSSOSession { ssoSessions[current] = [:] } else { profiles[current] = [:] }
                }
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingSpaces.lowercased()
            var value = line[line.index(after: equals)...].trimmingSpaces
            // An inline comment needs whitespace before its marker, so `#` inside a secret survives.
            if let comment = value.firstRange(of: " #") ?? value.firstRange(of: " ;") ?? value.firstRange(of: "\t#") {
                value = value[..<comment.lowerBound].trimmingSpaces
            }
            if isSSOSession { ssoSessions[current]?[key] = String(value) } else { profiles[current]?[key] = String(value) }
        }
        return SharedConfigFiles(profiles: profiles, ssoSessions: ssoSessions)
    }

    private static func readText(_ path: String) -> String? {
        // Asked first: on Lambda neither file exists, and Data's error for a missing one costs
        // more than a function's whole configuration read.
        guard access(path, F_OK) == 0, let data = try? Data(contentsOf: URL(filePath: path)) else { return nil }
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
