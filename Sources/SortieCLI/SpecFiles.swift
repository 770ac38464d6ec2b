import Foundation
import JobSpecYAML
import JobModel

/// The YAML specs named on a command line: files, or every `.yaml`/`.yml` in a folder.
enum SpecFiles {
    struct Loaded {
        var specs: [(path: String, spec: JobSpec)] = []
        var errors: [SpecError] = []
    }

    static func paths(_ arguments: [String]) throws -> [String] {
        var paths: [String] = []
        for argument in arguments {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder) else {
                throw SpecValidationError("\(argument): no such file or folder")
            }
            if isFolder.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: argument).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                paths += names.map { URL(fileURLWithPath: argument).appendingPathComponent($0).relativePath }
            } else {
                paths.append(argument)
            }
        }
        return paths
    }

    /// Every spec checked; a job defined twice (`x.yaml` and `x.yml`) is an error too.
    static func load(_ arguments: [String]) throws -> Loaded {
        var loaded = Loaded()
        for path in try paths(arguments) {
            do {
                let spec = try JobSpecYAML.load(path: path)
                if let first = loaded.specs.first(where: { $0.spec.name == spec.name }) {
                    loaded.errors.append(SpecError([SpecIssue(file: path, field: "name", message: "job '\(spec.name)' is also defined in \(first.path)")]))
                } else {
                    loaded.specs.append((path, spec))
                }
            } catch {
                loaded.errors.append(error)
            }
        }
        return loaded
    }

    static func json(_ spec: JobSpec) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(spec) + Data("\n".utf8)
    }
}

struct SpecValidationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
