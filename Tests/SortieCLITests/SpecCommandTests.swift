import Foundation
import JobModel
import SortieTestSupport
import Testing

/// The `sortie` tool as a person runs it.
@Suite("sortie validate, json and publish")
struct SpecCommandTests {
    private func sortie(_ arguments: String...) throws -> Command.Result {
        try Command.run(try BuiltProducts.executable("sortie"), arguments)
    }

    private let corpus = Repository.jobSpecs

    @Test("validate prints FILE:LINE:COLUMN: FIELD: message for every problem and fails")
    func validateBroken() throws {
        let result = try sortie("validate", corpus.appendingPathComponent("invalid").path)
        #expect(result.status != 0)
        let bad = corpus.appendingPathComponent("invalid/bad-values.yaml").path
        #expect(result.stdout.contains("\(bad):4:10: instance.image: expected an AMI id"))
        #expect(result.stdout.contains("\(bad):10:10: timeout: expected a duration"))
        let storage = corpus.appendingPathComponent("invalid/bad-storage.yaml").path
        #expect(result.stdout.contains("\(storage):9:21: instance.efs[0].file_system: expected an EFS file system id"))
        #expect(result.stdout.contains("0 valid, 13 invalid"))
    }

    @Test("validate passes the valid corpus")
    func validateGood() throws {
        let result = try sortie("validate", corpus.appendingPathComponent("valid").path)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("5 valid, 0 invalid"))
    }

    @Test("json prints the published form; publish writes one <job>.json per spec, or nothing when any is invalid")
    func publish() throws {
        let minimal = corpus.appendingPathComponent("valid/minimal.yaml").path
        let json = try sortie("json", minimal)
        #expect(json.status == 0)
        let spec = try JSONDecoder().decode(JobSpec.self, from: Data(json.stdout.utf8))
        #expect(spec.name == "minimal")

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-publish-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let published = try sortie("publish", corpus.appendingPathComponent("valid").path, "--to", folder.path)
        #expect(published.status == 0, "\(published.stdout)\(published.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files == ["fan-out.json", "minimal.json", "nightly-etl.json", "spot-scratch.json", "yaml-quirks.json"])
        #expect(try JSONDecoder().decode(JobSpec.self, from: Data(contentsOf: folder.appendingPathComponent("minimal.json"))) == spec)

        let refused = try sortie("publish", minimal, corpus.appendingPathComponent("invalid/misnamed.yaml").path, "--to", folder.path + "-2")
        #expect(refused.status != 0)
        #expect(refused.stdout.contains("nothing published"))
        #expect(!FileManager.default.fileExists(atPath: folder.path + "-2"))
    }
}
