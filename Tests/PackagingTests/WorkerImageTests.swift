import Foundation
import SortieTestSupport
import Testing

/// The chunk worker's image: `scripts/worker-image.sh`'s OCI layout (reproducible, read by skopeo,
/// unpacked by umoci and run from the unpacked root) and `containers/chunk-worker/Dockerfile` for
/// those with Docker, both from `dist/chunk-processor.zip`. Skipped without it, unless
/// SORTIE_REQUIRE_DIST=1 (CI, after ./build.sh), when skopeo and umoci (scripts/setup.sh) must be there too.
@Suite("The chunk worker's image")
struct WorkerImageTests {
    static func tool(_ name: String) throws -> String {
        let path = "/usr/bin/\(name)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ToolMissing(description: "\(path) is missing: scripts/setup.sh installs it (apt-get install \(name))")
        }
        return path
    }

    struct ToolMissing: Error, CustomStringConvertible { var description: String }

    /// The layout's one manifest: its digest and tag, from index.json.
    static func manifest(_ layout: URL) throws -> (digest: String, tag: String) {
        let index = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: layout.appendingPathComponent("index.json"))) as? [String: Any])
        let manifests = try #require(index["manifests"] as? [[String: Any]])
        try #require(manifests.count == 1, "one manifest: \(manifests)")
        let digest = try #require(manifests[0]["digest"] as? String)
        let tag = try #require((manifests[0]["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"])
        return (digest, tag)
    }

    @Test("two builds give the same manifest digest and bytes; skopeo reads the layout; umoci unpacks it and the entrypoint answers --help from the unpacked root, with no environment",
          .enabled(if: ChunkProcessorZip.testable, ChunkProcessorZip.skipped))
    func reproducibleImage() async throws {
        let folder = try ChunkProcessorZip.folder("sortie-image")
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = Repository.root.appendingPathComponent("scripts/worker-image.sh").path
        let first = folder.appendingPathComponent("one"), second = folder.appendingPathComponent("two")
        for layout in [first, second] {
            let build = try await ChunkProcessorZip.run(script, [layout.path], environment: ["PATH": "/usr/bin:/bin", "SORTIE_DIST": Definitions.dist.path])
            try #require(build.status == 0, "worker-image.sh: \(build.stderr)")
        }
        let (digest, tag) = try Self.manifest(first)
        #expect(try Self.manifest(second).digest == digest, "two builds, two digests")
        let blobs = try FileManager.default.contentsOfDirectory(atPath: first.appendingPathComponent("blobs/sha256").path).sorted()
        #expect(blobs.count == 3, "config, manifest, one layer: \(blobs)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: second.appendingPathComponent("blobs/sha256").path).sorted() == blobs)
        for blob in blobs {
            #expect(try Data(contentsOf: first.appendingPathComponent("blobs/sha256/\(blob)")) == Data(contentsOf: second.appendingPathComponent("blobs/sha256/\(blob)")))
        }
        let version = try await ChunkProcessorZip.run(try await ChunkProcessorZip.unzippedBootstrap(in: folder).path, ["--version"], environment: [:])
        #expect(tag == version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "chunk-processor ", with: ""))

        // skopeo reads the layout as a registry would be given it.
        let inspect = try await ChunkProcessorZip.run(try Self.tool("skopeo"), ["inspect", "oci:\(first.path):\(tag)"])
        try #require(inspect.status == 0, "skopeo inspect: \(inspect.stderr)")
        let inspected = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect(inspected["Digest"] as? String == digest)
        #expect(inspected["Os"] as? String == "linux")
        #expect((inspected["Layers"] as? [String])?.count == 1)
        let config = try await ChunkProcessorZip.run(try Self.tool("skopeo"), ["inspect", "--config", "oci:\(first.path):\(tag)"])
        let image = try #require(try JSONSerialization.jsonObject(with: Data(config.stdout.utf8)) as? [String: Any])
        let settings = try #require(image["config"] as? [String: Any])
        #expect(settings["Entrypoint"] as? [String] == ["/usr/local/bin/chunk-processor"])
        #expect(settings["User"] as? String == "65534:65534", "not root")

        // umoci unpacks it into a runtime bundle; the entrypoint runs from the unpacked root.
        let bundle = folder.appendingPathComponent("bundle")
        let unpack = try await ChunkProcessorZip.run(try Self.tool("umoci"), ["unpack", "--rootless", "--image", "\(first.path):\(tag)", bundle.path])
        try #require(unpack.status == 0, "umoci unpack: \(unpack.stderr)")
        let runtime = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: bundle.appendingPathComponent("config.json"))) as? [String: Any])
        let process = try #require(runtime["process"] as? [String: Any])
        let arguments = try #require(process["args"] as? [String])
        #expect(arguments == ["/usr/local/bin/chunk-processor", "--help"])
        #expect((process["user"] as? [String: Any])?["uid"] as? Int == 65534)
        let rootfs = bundle.appendingPathComponent("rootfs")
        let passwd = try String(contentsOf: rootfs.appendingPathComponent("etc/passwd"), encoding: .utf8)
        #expect(passwd.contains("nobody:x:65534:65534:"))
        let certificates = try Data(contentsOf: rootfs.appendingPathComponent("etc/ssl/certs/ca-certificates.crt"))
        #expect(String(decoding: certificates.prefix(64), as: UTF8.self).contains("-----BEGIN CERTIFICATE-----"))
        let help = try await ChunkProcessorZip.run(rootfs.path + arguments[0], Array(arguments.dropFirst()), environment: [:])
        #expect(help.status == 0, "--help exited \(help.status): \(help.stderr)")
        #expect(help.stdout.contains("chunk-processor batch --fileId"), "--help printed: \(help.stdout)")
        // The job definition's command, `batch …`, reaches the worker: with no parameters it names the first one missing.
        let batch = try await ChunkProcessorZip.run(rootfs.path + arguments[0], ["batch"], environment: [:])
        #expect(batch.status == 2 && batch.stderr.contains("parameter fileId is missing"), "\(batch.status): \(batch.stderr)")
    }

    @Test("the Dockerfile copies only what ./build.sh writes, runs as nobody, and its entrypoint is the static worker, which answers --help with no environment",
          .enabled(if: ChunkProcessorZip.testable, ChunkProcessorZip.skipped))
    func dockerfile() async throws {
        let text = try String(contentsOf: Repository.root.appendingPathComponent("containers/chunk-worker/Dockerfile"), encoding: .utf8)
        // Instructions, continuation lines joined, comments dropped.
        let instructions = text.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let copies = instructions.filter { $0.hasPrefix("COPY ") }.map { $0.split(separator: " ").dropFirst().map(String.init) }
        let fromContext = copies.filter { !($0.first?.hasPrefix("--from=") ?? false) }
        #expect(fromContext.map { Array($0.dropLast()) } == [["dist/chunk-processor.zip"]], "the build context gives only the worker's zip: \(fromContext)")
        for source in fromContext.flatMap({ $0.dropLast() }) where source.hasPrefix("dist/") {
            let built = Definitions.dist.appendingPathComponent(String(source.dropFirst("dist/".count)))
            #expect(FileManager.default.fileExists(atPath: built.path), "\(source) does not exist after ./build.sh")
        }
        let entrypointLine = try #require(instructions.last { $0.hasPrefix("ENTRYPOINT ") })
        let entrypoint = try #require(try JSONSerialization.jsonObject(with: Data(entrypointLine.dropFirst("ENTRYPOINT ".count).utf8)) as? [String])
        #expect(entrypoint == ["/usr/local/bin/chunk-processor"])
        // The entrypoint is the zip's bootstrap, unzipped in the first stage.
        let placed = try #require(copies.first { $0.last == entrypoint[0] }, "no COPY writes \(entrypoint[0])")
        #expect(placed.first == "--from=unpack" && placed.dropFirst().first?.hasSuffix("/bootstrap") == true, "\(placed)")
        #expect(instructions.contains { $0.hasPrefix("RUN unzip /tmp/chunk-processor.zip bootstrap -d ") })
        #expect(instructions.contains("USER 65534:65534"))
        #expect(instructions.contains(#"CMD ["--help"]"#))

        let folder = try ChunkProcessorZip.folder("sortie-image")
        defer { try? FileManager.default.removeItem(at: folder) }
        let bootstrap = try await ChunkProcessorZip.unzippedBootstrap(in: folder)
        #expect(try ELF.hasInterpreter(bootstrap) == false, "the worker must be static: the image has no libc")
        let help = try await ChunkProcessorZip.run(bootstrap.path, ["--help"], environment: [:])
        #expect(help.status == 0 && help.stdout.contains("chunk-processor batch --fileId"), "\(help.status): \(help.stdout) \(help.stderr)")
        let batchHelp = try await ChunkProcessorZip.run(bootstrap.path, ["batch", "--help"], environment: [:])
        #expect(batchHelp.status == 0 && batchHelp.stdout == help.stdout)
    }
}
