import Foundation
import Synchronization

/// CloudWatch's Embedded Metric Format, read by its specification's rules (CloudWatch User Guide,
/// "Specification: Embedded metric format") rather than by Sortie's own encoder, so the functions'
/// lines are checked against what CloudWatch Logs will accept.
public struct EMFDocument: Sendable {
    public struct Directive: Sendable {
        public var namespace: String
        public var dimensionSets: [[String]]
        /// Name → unit (nil when not given).
        public var metrics: [(name: String, unit: String?)]
    }

    public var timestamp: Int64
    public var directives: [Directive]
    /// The root members other than `_aws`: dimension values, metric values, properties.
    public var members: [String: JSONValue]

    /// A metric's value(s) as numbers.
    public func values(_ name: String) -> [Double]? {
        switch members[name] {
        case .number(let value)?: [value]
        case .array(let items)?: items.compactMap { if case .number(let value) = $0 { value } else { nil } }
        default: nil
        }
    }

    public func string(_ name: String) -> String? {
        if case .string(let value)? = members[name] { value } else { nil }
    }

    /// Every metric name the document's directives declare.
    public var metricNames: [String] { directives.flatMap { $0.metrics.map(\.name) } }
}

/// A JSON value that keeps numbers and booleans apart (JSONSerialization's NSNumber does not).
public enum JSONValue: Decodable, Sendable, Equatable {
    case string(String), number(Double), bool(Bool), null, array([JSONValue]), object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

public struct EMFError: Error, CustomStringConvertible, Sendable {
    public var line: String
    public var problems: [String]
    public var description: String { "not a valid EMF line (\(problems.joined(separator: "; "))): \(line.prefix(400))" }
}

public enum EmbeddedMetricFormat {
    /// The units CloudWatch accepts (`StandardUnit` in its API).
    public static let units: Set<String> = [
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits",
        "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
        "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
    ]

    /// The lines of a log that claim to be EMF: JSON objects with an `_aws` member.
    public static func candidateLines(in log: String) -> [String] {
        log.split(whereSeparator: \.isNewline).map(String.init).filter { $0.hasPrefix("{") && $0.contains(#""_aws""#) }
    }

    /// Every candidate line of `log`, parsed; the first invalid one throws with all its problems.
    public static func documents(in log: String) throws(EMFError) -> [EMFDocument] {
        var documents: [EMFDocument] = []
        for line in candidateLines(in: log) { documents.append(try parse(line)) }
        return documents
    }

    /// One log line by the specification: the whole line one JSON object (at most 1 MB); `_aws`
    /// with a millisecond `Timestamp` and a `CloudWatchMetrics` array of directives, each with a
    /// `Namespace` (1–255 characters), `Dimensions` (an array of dimension sets of at most 30
    /// names, each a root member whose value is a string) and `Metrics` (at most 100, each `Name`
    /// a root member that is a number or an array of at most 100 numbers, `Unit` one of
    /// CloudWatch's, `StorageResolution` 1 or 60).
    public static func parse(_ line: String) throws(EMFError) -> EMFDocument {
        var problems: [String] = []
        func fail(_ problem: String) -> EMFError { EMFError(line: line, problems: problems + [problem]) }
        guard line.utf8.count <= 1_048_576 else { throw fail("longer than 1 MB") }
        guard let root = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)), case .object(let members) = root else {
            throw fail("the line is not one JSON object")
        }
        guard case .object(let metadata)? = members["_aws"] else { throw fail("no _aws object") }
        var timestamp: Int64 = 0
        if case .number(let value)? = metadata["Timestamp"], value == value.rounded(), value > 0 {
            timestamp = Int64(value)
            // Milliseconds, not seconds: after 2001 in milliseconds is beyond 10^12.
            if timestamp < 1_000_000_000_000 { problems.append("Timestamp \(timestamp) is not in milliseconds") }
        } else {
            problems.append("_aws.Timestamp is not a positive integer number")
        }
        guard case .array(let rawDirectives)? = metadata["CloudWatchMetrics"] else { throw fail("_aws.CloudWatchMetrics is not an array") }
        var directives: [EMFDocument.Directive] = []
        for (index, raw) in rawDirectives.enumerated() {
            let at = "CloudWatchMetrics[\(index)]"
            guard case .object(let directive) = raw else {
                problems.append("\(at) is not an object")
                continue
            }
            var namespace = ""
            if case .string(let value)? = directive["Namespace"], (1...255).contains(value.count), !value.allSatisfy(\.isWhitespace) {
                namespace = value
            } else {
                problems.append("\(at).Namespace is not a string of 1 to 255 characters")
            }
            var sets: [[String]] = []
            if case .array(let rawSets)? = directive["Dimensions"] {
                for rawSet in rawSets {
                    guard case .array(let names) = rawSet else {
                        problems.append("\(at).Dimensions holds a dimension set that is not an array")
                        continue
                    }
                    let strings = names.compactMap { if case .string(let name) = $0 { name } else { nil } }
                    if strings.count != names.count { problems.append("\(at).Dimensions holds a name that is not a string") }
                    if strings.count > 30 { problems.append("\(at) has a dimension set of \(strings.count) names (at most 30)") }
                    for name in strings {
                        guard case .string(let value)? = members[name] else {
                            problems.append("dimension '\(name)' is not a root member with a string value")
                            continue
                        }
                        if value.isEmpty || value.count > 1024 { problems.append("dimension '\(name)' has a value of \(value.count) characters (1 to 1024)") }
                    }
                    sets.append(strings)
                }
            } else {
                problems.append("\(at).Dimensions is not an array")
            }
            var metrics: [(name: String, unit: String?)] = []
            if case .array(let definitions)? = directive["Metrics"] {
                if definitions.count > 100 { problems.append("\(at) declares \(definitions.count) metrics (at most 100)") }
                for definition in definitions {
                    guard case .object(let fields) = definition, case .string(let name)? = fields["Name"], !name.isEmpty, name.count <= 1024 else {
                        problems.append("\(at).Metrics holds a definition without a Name of 1 to 1024 characters")
                        continue
                    }
                    var unit: String?
                    switch fields["Unit"] {
                    case nil: break
                    case .string(let value)? where units.contains(value): unit = value
                    default: problems.append("metric '\(name)' has a Unit CloudWatch does not know")
                    }
                    switch fields["StorageResolution"] {
                    case nil, .number(1)?, .number(60)?: break
                    default: problems.append("metric '\(name)' has a StorageResolution other than 1 or 60")
                    }
                    switch members[name] {
                    case .number?: break
                    case .array(let values)?:
                        if values.count > 100 { problems.append("metric '\(name)' has \(values.count) values (at most 100)") }
                        if !values.allSatisfy({ if case .number = $0 { true } else { false } }) { problems.append("metric '\(name)' has a value that is not a number") }
                    default: problems.append("metric '\(name)' is not a root member that is a number or an array of numbers")
                    }
                    if metrics.contains(where: { $0.name == name }) { problems.append("metric '\(name)' is declared twice in \(at)") }
                    metrics.append((name, unit))
                }
            } else {
                problems.append("\(at).Metrics is not an array")
            }
            directives.append(.init(namespace: namespace, dimensionSets: sets, metrics: metrics))
        }
        if directives.isEmpty { problems.append("_aws.CloudWatchMetrics is empty") }
        guard problems.isEmpty else { throw EMFError(line: line, problems: problems) }
        var properties = members
        properties["_aws"] = nil
        return EMFDocument(timestamp: timestamp, directives: directives, members: properties)
    }
}

/// Collects the lines a handler under test emits (its `emit` closure), from any thread.
public final class EmittedLines: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    public var emit: @Sendable (String) -> Void { { [self] line in lines.withLock { $0.append(line) } } }

    /// Everything emitted so far, one line each.
    public var log: String { lines.withLock { $0.joined(separator: "\n") } }
}
