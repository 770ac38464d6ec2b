import Foundation
import SortieTestSupport
import Testing

/// `dist/chunk-processor.zip`, which the worker image and the HTTPS tests start from: tested when
/// it is there, or required with SORTIE_REQUIRE_DIST=1 (CI, after ./build.sh).
enum ChunkProcessorZip {
    static var zip: URL { Definitions.dist.appendingPathComponent("chunk-processor.zip") }
    static var testable: Bool { Definitions.distRequired || FileManager.default.fileExists(atPath: zip.path) }
    static let skipped: Comment = "no dist/chunk-processor.zip: run ./build.sh chunk-processor (CI sets SORTIE_REQUIRE_DIST=1 to fail instead)"

    /// A new scratch folder under the temporary directory.
    static func folder(_ prefix: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// A program run to its end on a thread of its own: the builds and unpacking take seconds, which
    /// would hold up the concurrency pool other suites' loopback servers answer on.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> Command.Result {
        try await blocking { try Command.run(executable, arguments, environment: environment) }
    }

    /// The zip's bootstrap, unzipped into `folder`.
    static func unzippedBootstrap(in folder: URL) async throws -> URL {
        let unzip = try await run("/usr/bin/unzip", ["-o", "-q", zip.path, "bootstrap", "-d", folder.path])
        try #require(unzip.status == 0, "unzip \(zip.path): \(unzip.stderr)")
        return folder.appendingPathComponent("bootstrap")
    }
}
