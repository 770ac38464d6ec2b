import ChunkPlanning
import RecordFormats

/// The feed's schema could not be applied to this file.
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

/// A feed's field rules, compiled against one file's columns: validates records and writes each
/// valid one as a JSON object line.
public struct RecordSchema: Sendable {
    /// Plain values only: reading one in the record loop costs no reference counting.
    struct Field: Sendable {
        /// `"name":`, ready to append: a range of `keys`.
        var key: Range<Int>
        /// The CSV column holding the field; nil when the file has no such column.
        var column: Int?
        var kind: FieldRule.Kind
        var required: Bool
        /// An index into `patterns`.
        var pattern: Int?
    }

    let fields: [Field]
    let names: [String]
    let keys: [UInt8]
    let patterns: PatternSet
    /// How many fields every CSV record must have.
    let columnCount: Int

    /// `columns` are the file's header names; without a header the columns are the fields in order.
    public init(rules: [FieldRule], columns: [String]?) throws(SchemaError) {
        var fields: [Field] = []
        var keys: [UInt8] = []
        var patterns = PatternSet()
        for rule in rules {
            let start = keys.count
            keys += JSONOutput.quoted(rule.name)
            keys.append(UInt8(ascii: ":"))
            let column = columns.map { $0.firstIndex(of: rule.name) } ?? fields.count
            if column == nil && rule.required == true {
                throw SchemaError(description: "the header has no column '\(rule.name)', which the feed requires")
            }
            var pattern: Int?
            if let source = rule.pattern {
                do {
                    pattern = patterns.add(try FieldPattern(source))
                } catch {
                    throw SchemaError(description: "field '\(rule.name)': \(error)")
                }
            }
            fields.append(Field(key: start..<keys.count, column: column, kind: rule.type, required: rule.required ?? false, pattern: pattern))
        }
        self.fields = fields
        self.names = rules.map(\.name)
        self.keys = keys
        self.patterns = patterns
        columnCount = columns?.count ?? rules.count
    }

    /// The most `appendCSV` or `appendJSONLine` writes for `record`: every byte escaped, every
    /// key, and per field a comma, quotes and a `null`.
    public func outputBound(_ record: RawRecord) -> Int {
        JSONOutput.stringBound(record.bytes.count) + keys.count + 8 * fields.count + 2
    }

    /// Validates a CSV record; appends its JSON object to `out` and returns nil when valid,
    /// otherwise returns why (leaving `out` as it was). `out` has room for `outputBound(record)`.
    public func appendCSV(_ record: RawRecord, to out: inout ByteWriter) -> String? {
        if let defect = record.boundary.defect { return defect.description }
        guard record.fields.count == columnCount else {
            return "expected \(columnCount) fields, found \(record.fields.count)"
        }
        let mark = out.count
        // Borrowed once per record: no reference counting per field.
        let reason: String? = keys.withUnsafeBufferPointer { keys in
            fields.withUnsafeBufferPointer { fields in
                out.append(UInt8(ascii: "{"))
                for position in fields.indices {
                    let field = fields[position]
                    if position > 0 { out.append(UInt8(ascii: ",")) }
                    out.append(UnsafeBufferPointer(rebasing: keys[field.key]))
                    guard let column = field.column else {
                        out.append("null")
                        continue
                    }
                    let span = record.fields[column]
                    let reason = span.hasEscapedQuotes
                        ? record.value(of: span).withUnsafeBufferPointer { appendValue($0, of: field, named: position, to: &out) }
                        : appendValue(record.bytes(of: span), of: field, named: position, to: &out)
                    if let reason { return reason }
                }
                out.append(UInt8(ascii: "}"))
                return nil
            }
        }
        if reason != nil { out.truncate(to: mark) }
        return reason
    }

    private func appendValue(_ text: UnsafeBufferPointer<UInt8>, of field: Field, named position: Int, to out: inout ByteWriter) -> String? {
        if text.isEmpty {
            if field.required { return "\(names[position]): required" }
            out.append("null")
            return nil
        }
        if let pattern = field.pattern, !patterns.matches(pattern, text) {
            return "\(names[position]): does not match \(patterns.sources[pattern])"
        }
        switch field.kind {
        case .string:
            guard JSONOutput.appendString(text, to: &out) else { return "\(names[position]): not UTF-8" }
        case .integer:
            guard FieldValues.appendInteger(text, to: &out) else { return "\(names[position]): not an integer" }
        case .number:
            guard FieldValues.appendNumber(text, to: &out) else { return "\(names[position]): not a number" }
        case .boolean:
            guard let value = FieldValues.boolean(text) else { return "\(names[position]): not a boolean" }
            out.append(value ? "true" : "false")
        case .date:
            guard FieldValues.isDate(text) else { return "\(names[position]): not a date (YYYY-MM-DD)" }
            _ = JSONOutput.appendString(text, to: &out)
        }
        return nil
    }

    /// Validates a JSON Lines record; appends the line itself to `out` when valid.
    public func appendJSONLine(_ record: RawRecord, members: inout [JSONMember], to out: inout ByteWriter) -> String? {
        let line = record.bytes
        do {
            try JSONObjectScanner.members(of: line, into: &members)
        } catch {
            return error.description
        }
        for position in fields.indices {
            let member = members.first { Self.key(of: $0, in: line, is: names[position]) }
            if let reason = check(member, in: line, of: fields[position], named: names[position]) { return reason }
        }
        guard UTF8Check.isValid(line) else { return "not UTF-8" }
        out.append(line)
        return nil
    }

    private static func key(of member: JSONMember, in line: UnsafeBufferPointer<UInt8>, is name: String) -> Bool {
        let raw = UnsafeBufferPointer(rebasing: line[member.key])
        if member.keyHasEscapes { return JSONObjectScanner.unescape(raw).elementsEqual(name.utf8) }
        return raw.elementsEqual(name.utf8)
    }

    private func check(_ member: JSONMember?, in line: UnsafeBufferPointer<UInt8>, of field: Field, named name: String) -> String? {
        guard let member, member.kind != .null else {
            return field.required ? "\(name): required" : nil
        }
        let raw = UnsafeBufferPointer(rebasing: line[member.value])
        let typeOK: Bool = switch field.kind {
        case .string: member.kind == .string
        case .integer: member.kind == .number && !raw.contains { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }
        case .number: member.kind == .number
        case .boolean: member.kind == .boolean
        case .date: member.kind == .string && !member.valueHasEscapes && FieldValues.isDate(raw)
        }
        guard typeOK else { return "\(name): not \(field.kind == .integer ? "an" : "a") \(field.kind.rawValue)" }
        guard let pattern = field.pattern else { return nil }
        let matches = member.valueHasEscapes
            ? JSONObjectScanner.unescape(raw).withUnsafeBufferPointer { patterns.matches(pattern, $0) }
            : patterns.matches(pattern, raw)
        return matches ? nil : "\(name): does not match \(patterns.sources[pattern])"
    }
}
