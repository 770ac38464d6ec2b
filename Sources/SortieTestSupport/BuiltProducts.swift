import Foundation

/// Locates executables that SwiftPM built next to the running test bundle.
public enum BuiltProducts {
    /// The build products folder (`.build/debug`), found from the test process's own path.
    public static var directory: URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        // On Linux the test bundle is `<products>/<Package>PackageTests.xctest`, an executable file.
        while folder.pathExtension == "xctest" || folder.lastPathComponent == "Contents" || folder.lastPathComponent == "MacOS" {
            folder = folder.deletingLastPathComponent()
        }
        return folder
    }

    /// The path of a built executable product, failing clearly when it is missing.
    /// `SORTIE_PRODUCTS_DIR` names another folder to take them from: scripts/test-packaged.sh
    /// points it at the unzipped dist/ bootstraps, so suites can run on what ships.
    public static func executable(_ name: String) throws -> String {
        let folder = ProcessInfo.processInfo.environment["SORTIE_PRODUCTS_DIR"].map { URL(fileURLWithPath: $0) } ?? directory
        let path = folder.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingProduct(name: name, searched: path)
        }
        return path
    }

    public struct MissingProduct: Error, CustomStringConvertible {
        public let name: String
        public let searched: String
        public var description: String { "built product '\(name)' not found at \(searched); run `swift build` first" }
    }
}

/// The repository root, for tests that read `events/` or `functions/`.
public enum Repository {
    public static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Sources/SortieTestSupport/BuiltProducts.swift
        return url
    }()

    /// The job spec corpus (`valid/`, `invalid/`), read by the spec, model and `sortie` tests.
    public static let jobSpecs = root.appendingPathComponent("Tests/Fixtures/jobs")
}
