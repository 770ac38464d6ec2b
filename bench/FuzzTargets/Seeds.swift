#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Seed inputs: the repository's own sample events and fixtures where they exist (found from
/// this file's place in the tree), else nothing but what a target builds itself.
enum Seeds {
    static let repository: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
        return path
    }()

    /// The files in `folder` (relative to the repository) whose names pass `matching`.
    static func files(in folder: String, matching: (String) -> Bool) -> [[UInt8]] {
        let directory = repository + "/" + folder
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.sorted().filter(matching).compactMap { name in
            FileManager.default.contents(atPath: directory + "/" + name).map { [UInt8]($0) }
        }
    }

    static func events(_ prefixes: String...) -> [[UInt8]] {
        files(in: "events") { name in name.hasSuffix(".json") && !name.contains(".expected.") && prefixes.contains { name.hasPrefix($0) } }
    }

    static func text(_ documents: String...) -> [[UInt8]] {
        documents.map { Array($0.utf8) }
    }
}
