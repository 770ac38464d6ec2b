#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a value stood in its source file; YAML knows, JSON does not.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "\(line):\(column)" }
}

/// A job spec before it is typed: the common tree that JSON and YAML both parse into, so one
/// reader checks keys, types and ranges for both and YAML's errors can name lines.
public struct SpecValue: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case null
        /// A scalar as written. `quoted` is true for JSON strings and quoted YAML scalars: those
        /// are text only, never numbers or booleans.
        case scalar(String, quoted: Bool)
        case list([SpecValue])
        /// Entries in source order; keys are scalars.
        case map([Entry])
    }

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var keyLocation: SourceLocation?
        public var value: SpecValue
        public init(key: String, keyLocation: SourceLocation? = nil, value: SpecValue) {
            self.key = key
            self.keyLocation = keyLocation
            self.value = value
        }
    }

    public var kind: Kind
    public var location: SourceLocation?

    public init(_ kind: Kind, at location: SourceLocation? = nil) {
        self.kind = kind
        self.location = location
    }

    /// What the value is, for "expected …, got …" messages.
    var summary: String {
        switch kind {
        case .null: "nothing"
        case .scalar(let text, let quoted): quoted ? "the text \"\(text.prefix(40))\"" : "'\(text.prefix(40))'"
        case .list: "a list"
        case .map: "a mapping"
        }
    }
}

extension SpecValue: Decodable {
    /// JSON (the published form): strings are quoted scalars, numbers and booleans plain ones.
    /// Object keys come out sorted, JSON having no order the decoder keeps.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self.init(.null)
        } else if let value = try? container.decode(Bool.self) {
            self.init(.scalar(value ? "true" : "false", quoted: false))
        } else if let value = try? container.decode(String.self) {
            self.init(.scalar(value, quoted: true))
        } else if let value = try? container.decode(Int64.self) {
            self.init(.scalar(String(value), quoted: false))
        } else if let value = try? container.decode(Double.self) {
            self.init(.scalar(String(value), quoted: false))
        } else if let value = try? container.decode([SpecValue].self) {
            self.init(.list(value))
        } else {
            let object = try container.decode([String: SpecValue].self)
            self.init(.map(object.sorted { $0.key < $1.key }.map { Entry(key: $0.key, value: $0.value) }))
        }
    }
}
