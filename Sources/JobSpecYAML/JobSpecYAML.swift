import Foundation
import JobModel
import Yams

/// YAML job specs (`jobs/<name>.yaml`) into `JobSpec`, with every problem named by file, line
/// and field. Only the developer tools link this: Yams needs full Foundation, which the
/// bootstraps and the runner leave out.
public enum JobSpecYAML {
    /// Reads and checks `path`; the spec's `name` must match the file's name.
    public static func load(path: String) throws(SpecError) -> JobSpec {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SpecError([SpecIssue(file: path, field: "(file)", message: "cannot read it as UTF-8 text: \(error.localizedDescription)")])
        }
        return try spec(yaml: text, file: path)
    }

    /// `file` names the source in messages and, when it ends in `.yaml` or `.yml`, the job.
    public static func spec(yaml: String, file: String) throws(SpecError) -> JobSpec {
        let spec: JobSpec
        do {
            spec = try JobSpec.read(try value(yaml: yaml))
        } catch {
            throw SpecError(error.issues.map { issue in
                var issue = issue
                issue.file = file
                return issue
            })
        }
        let base = URL(fileURLWithPath: file).lastPathComponent
        for suffix in [".yaml", ".yml"] where base.hasSuffix(suffix) && String(base.dropLast(suffix.count)) != spec.name {
            throw SpecError([SpecIssue(
                file: file, location: nameLocation(yaml), field: "name",
                message: "the job is named '\(spec.name)' but its file is \(base): name the file \(spec.name)\(suffix) (one file per job)")])
        }
        return spec
    }

    /// The YAML as the neutral spec tree, each value with its line and column.
    public static func value(yaml: String) throws(SpecError) -> SpecValue {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw SpecError([syntaxIssue(error)])
        } catch {
            throw SpecError([SpecIssue(field: "(file)", message: "not YAML: \(error)")])
        }
        guard let node else { throw SpecError([SpecIssue(field: "(spec)", message: "the file is empty: expected a job spec")]) }
        var issues: [SpecIssue] = []
        let value = convert(node, path: "", issues: &issues)
        guard issues.isEmpty else { throw SpecError(issues) }
        return value
    }

    private static func convert(_ node: Node, path: String, issues: inout [SpecIssue]) -> SpecValue {
        let location = node.mark.map { SourceLocation(line: $0.line, column: $0.column) }
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return SpecValue(.null, at: location) }
            return SpecValue(.scalar(scalar.string, quoted: scalar.style != .plain), at: location)
        case .sequence(let sequence):
            return SpecValue(.list(sequence.enumerated().map { convert($0.element, path: "\(path)[\($0.offset)]", issues: &issues) }), at: location)
        case .mapping(let mapping):
            var entries: [SpecValue.Entry] = []
            for (key, value) in mapping {
                let keyLocation = key.mark.map { SourceLocation(line: $0.line, column: $0.column) }
                guard case .scalar(let name) = key else {
                    issues.append(SpecIssue(location: keyLocation, field: path.isEmpty ? "(spec)" : path, message: "expected a plain key, got a mapping or list as a key"))
                    continue
                }
                let child = path.isEmpty ? name.string : "\(path).\(name.string)"
                entries.append(SpecValue.Entry(key: name.string, keyLocation: keyLocation, value: convert(value, path: child, issues: &issues)))
            }
            return SpecValue(.map(entries), at: location)
        case .alias:
            issues.append(SpecIssue(location: location, field: path.isEmpty ? "(spec)" : path, message: "YAML aliases (*name) are not supported in job specs: write the value out"))
            return SpecValue(.null, at: location)
        }
    }

    private static func syntaxIssue(_ error: YamlError) -> SpecIssue {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
            // A composer's context is the whole document: only a scanner's or parser's says where.
            let detail = context.map { $0.text.count <= 80 ? "\(problem) \($0.text)" : problem } ?? problem
            return SpecIssue(location: SourceLocation(line: mark.line, column: mark.column), field: "(syntax)", message: "not valid YAML: \(detail)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return SpecIssue(
                location: SourceLocation(line: context.mark.line, column: context.mark.column), field: duplicates.sorted().joined(separator: ", "),
                message: "appears more than once in the same mapping")
        default:
            return SpecIssue(field: "(syntax)", message: "not valid YAML: \(error)")
        }
    }

    private static func nameLocation(_ yaml: String) -> SourceLocation? {
        guard case .mapping(let mapping)? = try? Yams.compose(yaml: yaml) else { return nil }
        return mapping.first { $0.key.string == "name" }?.value.mark.map { SourceLocation(line: $0.line, column: $0.column) }
    }
}
