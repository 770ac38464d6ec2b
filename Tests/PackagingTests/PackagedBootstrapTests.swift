import Deployment
import Foundation
import SortieTestSupport
import Testing

/// Tests what is shipped: each `dist/<function>.zip` written by `./build.sh`, unzipped, its
/// `bootstrap` run under the local Runtime API (`sortie-local invoke`) with the function's sample
/// event. Without dist/ these tests are skipped, saying why; CI sets SORTIE_REQUIRE_DIST=1, and
/// then a missing zip fails.
@Suite("Packaged bootstraps in dist/")
struct PackagedBootstrapTests {
    @Test("every Lambda function in functions/ has a zip in dist/ (required when SORTIE_REQUIRE_DIST=1)")
    func everyFunctionIsPackaged() throws {
        let functions = try Definitions.lambdaFunctions()
        #expect(!functions.isEmpty, "functions/ defines no Lambda function")
        let missing = functions.filter { !FileManager.default.fileExists(atPath: $0.zip.path) }.map(\.name)
        if Definitions.distRequired {
            #expect(missing.isEmpty, "SORTIE_REQUIRE_DIST=1 but dist/ lacks \(missing.map { "\($0).zip" }); run ./build.sh")
        } else if !missing.isEmpty {
            try Test.cancel("dist/ lacks \(missing.map { "\($0).zip" }): their packaging tests are skipped; run ./build.sh to test them")
        }
    }

    @Test("the packaged bootstrap is a lone, executable, static `bootstrap` that answers its sample event",
          .enabled(if: Definitions.anythingToTest, "no dist/*.zip: run ./build.sh first (CI sets SORTIE_REQUIRE_DIST=1 to fail instead)"),
          arguments: (try? Definitions.lambdaFunctions()) ?? [])
    func packagedBootstrap(_ function: PackagedFunction) throws {
        guard FileManager.default.fileExists(atPath: function.zip.path) else {
            if Definitions.distRequired {
                Issue.record("\(function.zip.path) is missing and SORTIE_REQUIRE_DIST=1; run ./build.sh")
                return
            }
            // Reported as skipped with its reason, rather than passing unseen.
            try Test.cancel("no \(function.zip.path): run ./build.sh \(function.name)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-packaging-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        // The zip holds exactly one entry, `bootstrap`, recorded as a 0755 regular file.
        let listing = try Command.run("/usr/bin/unzip", ["-Z1", function.zip.path])
        #expect(listing.status == 0, "unzip -Z1 failed: \(listing.stderr)")
        #expect(listing.stdout.split(separator: "\n") == ["bootstrap"], "zip entries: \(listing.stdout)")
        let details = try Command.run("/usr/bin/unzip", ["-Z", function.zip.path, "bootstrap"])
        #expect(details.stdout.hasPrefix("-rwxr-xr-x"), "bootstrap's recorded mode: \(details.stdout)")

        let unzip = try Command.run("/usr/bin/unzip", ["-q", function.zip.path, "-d", folder.path])
        try #require(unzip.status == 0, "unzip failed: \(unzip.stderr)")
        let bootstrap = folder.appendingPathComponent("bootstrap")
        let attributes = try FileManager.default.attributesOfItem(atPath: bootstrap.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o755)

        // Static: no program interpreter (no ld.so, so no dependency on the host's glibc).
        #expect(try ELF.hasInterpreter(bootstrap) == false, "bootstrap names a program interpreter: it is dynamically linked")

        // The self-check build.sh runs, here on the shipped bytes.
        let version = try Command.run(bootstrap.path, ["--version"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(version.status == 0, "bootstrap --version exited \(version.status): \(version.stderr)")
        #expect(version.stdout.hasPrefix("\(function.product) "), "bootstrap --version printed \(version.stdout)")

        // One invocation through the local Runtime API, as Lambda would run it.
        let eventFile: String
        if let sample = function.sampleEvent {
            eventFile = Repository.root.appendingPathComponent(sample).path
        } else {
            eventFile = folder.appendingPathComponent("empty-event.json").path
            try Data("{}".utf8).write(to: URL(fileURLWithPath: eventFile))
        }
        var arguments = ["invoke", bootstrap.path, "--event", eventFile, "--function-name", function.name,
                         "--timeout", String(function.timeout)]
        for (key, value) in function.environment.sorted(by: { $0.key < $1.key }) {
            arguments += ["--env", "\(key)=\(value)"]
        }
        let invoke = try Command.run(try BuiltProducts.executable("sortie-local"), arguments)
        let context = "sortie-local \(arguments.joined(separator: " ")) exited \(invoke.status)\nstdout: \(invoke.stdout.prefix(2000))\nstderr: \(invoke.stderr.suffix(4000))"

        if function.sampleEvent == nil {
            // No sample event: `{}` may be refused (exit 1), but the bootstrap must start and answer.
            #expect(invoke.status == 0 || invoke.status == 1, "\(context)")
            return
        }
        #expect(invoke.status == 0, "\(context)")
        if let expected = function.expectedResponse {
            let want = try Data(contentsOf: Repository.root.appendingPathComponent(expected))
            #expect(JSONComparison.same(Data(invoke.stdout.utf8), want),
                    "response differs from \(expected)\n got: \(invoke.stdout.prefix(2000))\nwant: \(String(decoding: want, as: UTF8.self).prefix(2000))")
        }
    }

    @Test("functions/ definitions are valid (scripts/functions.py check)")
    func definitionsAreValid() throws {
        let check = try Command.run("/usr/bin/env", ["python3", Repository.root.appendingPathComponent("scripts/functions.py").path, "check"])
        #expect(check.status == 0, "\(check.stderr)")
    }
}

/// One `functions/<name>.json` of kind `lambda`, the fields this test needs.
/// A packaged function: its definition's name, product and settings, and where its zip is.
struct PackagedFunction: Sendable, CustomTestStringConvertible {
    var name: String
    var product: String
    var timeout: Int
    var environment: [String: String]
    var sampleEvent: String?
    var expectedResponse: String?

    var zip: URL { Definitions.dist.appendingPathComponent("\(name).zip") }
    var testDescription: String { name }
}

enum Definitions {
    static var distRequired: Bool { ProcessInfo.processInfo.environment["SORTIE_REQUIRE_DIST"] == "1" }

    /// `SORTIE_DIST` points the tests at another dist/ (e.g. a second build).
    static var dist: URL {
        if let path = ProcessInfo.processInfo.environment["SORTIE_DIST"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return Repository.root.appendingPathComponent("dist")
    }

    static var anythingToTest: Bool {
        if distRequired { return true }
        return ((try? lambdaFunctions()) ?? []).contains { FileManager.default.fileExists(atPath: $0.zip.path) }
    }

    static func lambdaFunctions() throws -> [PackagedFunction] {
        try FunctionDefinition.load(folder: Repository.root.appendingPathComponent("functions")).filter(\.isLambda).map {
            PackagedFunction(
                name: $0.name, product: $0.product, timeout: $0.timeout ?? 60, environment: $0.environment ?? [:],
                sampleEvent: $0.sampleEvent, expectedResponse: $0.expectedResponse)
        }
    }
}

enum JSONComparison {
    /// Equal as JSON values when both parse (key order and spacing aside), else equal bytes
    /// ignoring surrounding whitespace.
    static func same(_ got: Data, _ want: Data) -> Bool {
        if let left = try? JSONSerialization.jsonObject(with: got, options: [.fragmentsAllowed]),
           let right = try? JSONSerialization.jsonObject(with: want, options: [.fragmentsAllowed]),
           let leftText = try? JSONSerialization.data(withJSONObject: left, options: [.sortedKeys, .fragmentsAllowed]),
           let rightText = try? JSONSerialization.data(withJSONObject: right, options: [.sortedKeys, .fragmentsAllowed]) {
            return leftText == rightText
        }
        let trim: (Data) -> String = { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        return trim(got) == trim(want)
    }
}

enum ELF {
    /// Whether the ELF file has a PT_INTERP program header (64-bit little-endian only).
    static func hasInterpreter(_ file: URL) throws -> Bool {
        let data = try Data(contentsOf: file)
        guard data.count > 64, data.prefix(4) == Data([0x7F, 0x45, 0x4C, 0x46]), data[4] == 2, data[5] == 1 else {
            throw NotELF()
        }
        func integer<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            data.subdata(in: offset..<offset + MemoryLayout<T>.size).withUnsafeBytes { T(littleEndian: $0.loadUnaligned(as: T.self)) }
        }
        let tableOffset = Int(integer(0x20, UInt64.self))
        let entrySize = Int(integer(0x36, UInt16.self))
        let count = Int(integer(0x38, UInt16.self))
        let PT_INTERP: UInt32 = 3
        return (0..<count).contains { integer(tableOffset + $0 * entrySize, UInt32.self) == PT_INTERP }
    }

    struct NotELF: Error {}
}
