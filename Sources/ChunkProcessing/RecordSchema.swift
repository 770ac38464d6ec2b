import ChunkPlanning
import RecordFormats

/// The feed's schema could not be applied to this file.
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

/// A feed's field rules, compiled against one file's columns: validates records and writes each
/// valid one as a JSON object line.
public struct RecordSchema: Sendable {
    struct Field: Sendable {
        var name: String
        /// `"name":`, ready to append.
        var key: [UInt8]
        /// The CSV column holding the field; nil when the file has no such column.
        var column: Int?
        var kind: FieldRule.Kind
        var required: Bool
        var pattern: FieldPattern?
    }

    let fields: [Field]
    /// How many fields every CSV record must have.
    let columnCount: Int

    /// `columns` are the file's header names; without a header the columns are the fields in order.
    public init(rules: [FieldRule], columns: [String]?) throws(SchemaError) {
        var fields: [Field] = []
        for rule in rules {
            var key: [UInt8] = []
            let name = Array(rule.name.utf8)
            _ = name.withUnsafeBufferPointer { JSONOutput.appendString($0, to: &key) }
            key.append(UInt8(ascii: ":"))
            let column = columns.map { $0.firstIndex(of: rule.name) } ?? fields.count
            if column == nil && rule.required == true {
                throw SchemaError(description: "the header has no column '\(rule.name)', which the feed requires")
            }
            let pattern: FieldPattern?
            do {
                pattern = try rule.pattern.map(FieldPattern.init)
            } catch {
                throw SchemaError(description: "field '\(rule.name)': \(error)")
            }
            fields.append(Field(name: rule.name, key: key, column: column, kind: rule.type, required: rule.required ?? false, pattern: pattern))
        }
        self.fields = fields
        columnCount = columns?.count ?? rules.count
    }

    /// Validates a CSV record; appends its JSON object to `out` and returns nil when valid,
    /// otherwise returns why (leaving `out` as it was).
    public func appendCSV(_ record: RawRecord, to out: inout [UInt8]) -> String? {
        if let defect = record.boundary.defect { return defect.description }
        guard record.fields.count == columnCount else {
            return "expected \(columnCount) fields, found \(record.fields.count)"
        }
        let mark = out.count
        out.append(UInt8(ascii: "{"))
        for (position, field) in fields.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: field.key)
            guard let column = field.column else {
                out.append(contentsOf: Self.null)
                continue
            }
            let span = record.fields[column]
            let reason: String?
            if span.hasEscapedQuotes {
                reason = record.value(of: span).withUnsafeBufferPointer { appendValue($0, of: field, to: &out) }
            } else {
                reason = appendValue(record.bytes(of: span), of: field, to: &out)
            }
            if let reason {
                out.removeSubrange(mark...)
                return reason
            }
        }
        out.append(UInt8(ascii: "}"))
        return nil
    }

    private static let null = Array("null".utf8)
    private static let trueText = Array("true".utf8)
    private static let falseText = Array("false".utf8)

    private func appendValue(_ text: UnsafeBufferPointer<UInt8>, of field: Field, to out: inout [UInt8]) -> String? {
        if text.isEmpty {
            if field.required { return "\(field.name): required" }
            out.append(contentsOf: Self.null)
            return nil
        }
        switch field.kind {
        case .string:
            if let pattern = field.pattern, !pattern.matches(text) { return "\(field.name): does not match \(pattern.source)" }
            guard JSONOutput.appendString(text, to: &out) else { return "\(field.name): not UTF-8" }
        case .integer:
            guard FieldValues.appendInteger(text, to: &out) else { return "\(field.name): not an integer" }
        case .number:
            guard FieldValues.appendNumber(text, to: &out) else { return "\(field.name): not a number" }
        case .boolean:
            guard let value = FieldValues.boolean(text) else { return "\(field.name): not a boolean" }
            out.append(contentsOf: value ? Self.trueText : Self.falseText)
        case .date:
            guard FieldValues.isDate(text) else { return "\(field.name): not a date (YYYY-MM-DD)" }
            _ = JSONOutput.appendString(text, to: &out)
        }
        if field.kind != .string, let pattern = field.pattern, !pattern.matches(text) {
            return "\(field.name): does not match \(pattern.source)"
        }
        return nil
    }

    /// Validates a JSON Lines record; appends the line itself to `out` when valid.
    public func appendJSONLine(_ record: RawRecord, members: inout [JSONMember], to out: inout [UInt8]) -> String? {
        let line = record.bytes
        do {
            try JSONObjectScanner.members(of: line, into: &members)
        } catch {
            return error.description
        }
        for field in fields {
            let member = members.first { Self.key(of: $0, in: line, is: field.name) }
            if let reason = check(member, in: line, of: field) { return reason }
        }
        guard UTF8Check.isValid(line) else { return "not UTF-8" }
        out.append(contentsOf: line)
        return nil
    }

    private static func key(of member: JSONMember, in line: UnsafeBufferPointer<UInt8>, is name: String) -> Bool {
        let raw = UnsafeBufferPointer(rebasing: line[member.key])
        if member.keyHasEscapes { return JSONObjectScanner.unescape(raw).elementsEqual(name.utf8) }
        return raw.elementsEqual(name.utf8)
    }

    private func check(_ member: JSONMember?, in line: UnsafeBufferPointer<UInt8>, of field: Field) -> String? {
        guard let member, member.kind != .null else {
            return field.required ? "\(field.name): required" : nil
        }
        let raw = UnsafeBufferPointer(rebasing: line[member.value])
        let typeOK: Bool = switch field.kind {
        case .string: member.kind == .string
        case .integer: member.kind == .number && !raw.contains { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }
        case .number: member.kind == .number
        case .boolean: member.kind == .boolean
        case .date: member.kind == .string && !member.valueHasEscapes && FieldValues.isDate(raw)
        }
        guard typeOK else { return "\(field.name): not \(field.kind == .integer ? "an" : "a") \(field.kind.rawValue)" }
        guard let pattern = field.pattern else { return nil }
        let matches = member.valueHasEscapes
            ? JSONObjectScanner.unescape(raw).withUnsafeBufferPointer { pattern.matches($0) }
            : pattern.matches(raw)
        return matches ? nil : "\(field.name): does not match \(pattern.source)"
    }
}
