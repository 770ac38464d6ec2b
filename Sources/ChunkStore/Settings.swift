import AWSCore
import AWSServices
import ChunkPlanning
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A function setting is missing or malformed.
public struct SettingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    /// How Lambda's error report names it.
    public var errorType: String { "Sortie.Configuration" }
    public init(_ description: String) { self.description = description }
}

/// What both functions load when they start: an AWS client and the feeds document.
public struct FunctionEnvironment: Sendable {
    /// Kept as a result: an event that needs no AWS (skipped objects, an expired chunk) is
    /// answered even where no region or credentials are configured.
    public let client: Result<AWSClient, AWSError>
    public let catalog: FeedCatalog

    public init(_ environment: [String: String]) throws(SettingError) {
        let client = Result { () throws(AWSError) in try AWSClient.fromEnvironment(AWSEnvironment(environment)) }
        self.client = client
        do {
            catalog = try Settings(environment).feeds { try S3(client: client.get()) }
        } catch let error as SettingError {
            throw error
        } catch {
            throw SettingError("the feeds document could not be read: \(error)")
        }
    }
}

/// Reads a function's environment variables, failing with the variable's name.
public struct Settings: Sendable {
    public let environment: [String: String]

    public init(_ environment: [String: String]) {
        self.environment = environment
    }

    public subscript(name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }

    public func required(_ name: String) throws(SettingError) -> String {
        guard let value = self[name] else { throw SettingError("\(name) is not set") }
        return value
    }

    public func integer(_ name: String, default fallback: Int64, minimum: Int64, maximum: Int64? = nil) throws(SettingError) -> Int64 {
        guard let text = self[name] else { return fallback }
        guard let value = Int64(text), value >= minimum, value <= maximum ?? .max else {
            let bounds = maximum.map { "from \(minimum) to \($0)" } ?? "of at least \(minimum)"
            throw SettingError("\(name) must be an integer \(bounds), not '\(text)'")
        }
        return value
    }

    /// The feeds document: inline in `SORTIE_FEEDS`, or an object named by `SORTIE_FEEDS_URI`
    /// (`s3://bucket/key`), read once when the function starts.
    public func feeds(s3: () throws -> S3) throws -> FeedCatalog {
        let document: Data
        if let inline = self["SORTIE_FEEDS"] {
            document = Data(inline.utf8)
        } else if let uri = self["SORTIE_FEEDS_URI"] {
            guard uri.hasPrefix("s3://"), let slash = uri.dropFirst(5).firstIndex(of: "/") else {
                throw SettingError("SORTIE_FEEDS_URI must be s3://bucket/key, not '\(uri)'")
            }
            let bucket = String(uri.dropFirst(5)[..<slash])
            let key = String(uri[uri.index(after: slash)...])
            document = try s3().getObject(bucket: bucket, key: key).body
        } else {
            throw SettingError("set SORTIE_FEEDS (the feeds document) or SORTIE_FEEDS_URI (where to read it)")
        }
        let catalog: FeedCatalog
        do {
            catalog = try JSONDecoder().decode(FeedCatalog.self, from: document)
        } catch {
            throw SettingError("the feeds document is not valid: \(error)")
        }
        try catalog.validate()
        return catalog
    }
}
