import Foundation
import JobSpecYAML
import JobModel
import SortieTestSupport
import Testing

/// The YAML corpus in Tests/Fixtures/jobs: every valid spec loads and survives publishing
/// (YAML → JSON → spec); every broken one fails with exactly the problems its `# expect:`
/// lines name, each at its line and field.
@Suite("Job spec corpus")
struct SpecCorpusTests {
    static let folder = Repository.jobSpecs

    static func files(_ kind: String) -> [String] {
        let directory = folder.appendingPathComponent(kind)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { directory.appendingPathComponent($0).path }
    }

    @Test("both halves of the corpus are there")
    func corpusExists() {
        #expect(Self.files("valid").count >= 4)
        #expect(Self.files("invalid").count >= 9)
    }

    @Test("a valid spec loads, and its published JSON reads back as the same spec", arguments: files("valid"))
    func valid(_ path: String) throws {
        let spec = try JobSpecYAML.load(path: path)
        #expect(spec.name == URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
        let json = try JSONEncoder.sorted.encode(spec)
        #expect(try JSONDecoder().decode(JobSpec.self, from: json) == spec)
    }

    struct Expectation: CustomStringConvertible {
        var line: Int
        var field: String
        var message: String
        var description: String { "\(line) \(field): \(message)" }
    }

    /// `# expect: LINE FIELD: part of the message`
    static func expectations(_ path: String) throws -> [Expectation] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            guard line.hasPrefix("# expect: ") else { return nil }
            let rest = line.dropFirst("# expect: ".count)
            guard let space = rest.firstIndex(of: " "), let number = Int(rest[..<space]),
                  let colon = rest[space...].range(of: ": ") else { return nil }
            return Expectation(line: number, field: String(rest[rest.index(after: space)..<colon.lowerBound]), message: String(rest[colon.upperBound...]))
        }
    }

    @Test("a broken spec reports each problem with its file, line and field", arguments: files("invalid"))
    func invalid(_ path: String) throws {
        let expected = try Self.expectations(path)
        try #require(!expected.isEmpty, "\(path) has no # expect: lines")
        do {
            let spec = try JobSpecYAML.load(path: path)
            Issue.record("\(path) loaded as \(spec.name), expected \(expected)")
        } catch {
            #expect(error.issues.allSatisfy { $0.file == path })
            #expect(error.issues.count == expected.count, "got:\n\(error)")
            for expectation in expected {
                let found = error.issues.contains {
                    $0.location?.line == expectation.line && $0.field == expectation.field && $0.message.contains(expectation.message)
                }
                #expect(found, "no problem matching \(expectation) among:\n\(error)")
            }
            #expect(error.issues.allSatisfy { $0.description.hasPrefix("\(path):\($0.location?.line ?? -1):") })
        }
    }
}
