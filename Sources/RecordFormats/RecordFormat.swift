/// How records are laid out in a file.
public enum RecordFormat: Sendable, Equatable, Hashable {
    /// RFC 4180: quoted fields may hold the delimiter, quotes (doubled) and line breaks.
    case csv(delimiter: UInt8)
    /// One JSON value per line.
    case jsonLines

    public static let csv = RecordFormat.csv(delimiter: UInt8(ascii: ","))

    /// `csv`, `tsv` or `jsonl`, with an optional one-character delimiter for CSV.
    public init?(name: String, delimiter: String? = nil) {
        switch name.lowercased() {
        case "csv":
            guard let delimiter else { self = .csv; return }
            guard delimiter.utf8.count == 1, let byte = delimiter.utf8.first,
                  byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") else { return nil }
            self = .csv(delimiter: byte)
        case "tsv":
            self = .csv(delimiter: UInt8(ascii: "\t"))
        case "jsonl", "jsonlines", "ndjson":
            self = .jsonLines
        default:
            return nil
        }
    }
}

/// One CSV field's content within the reader's buffer; for a quoted field, inside the quotes.
public struct FieldSpan: Sendable, Equatable {
    public var start: Int
    public var end: Int
    /// The content holds doubled quotes, each standing for one.
    public var hasEscapedQuotes: Bool
}

/// Why a CSV record is not well-formed RFC 4180. Its boundaries are still exact, so the rest
/// of the file is unaffected; the record itself is rejected.
public enum RecordDefect: Sendable, Equatable, CustomStringConvertible {
    /// The input ended inside a quoted field.
    case unterminatedQuote
    /// A quote inside a field that did not start with one (field numbers from 1).
    case quoteInUnquotedField(field: Int)
    /// Text between a closing quote and the next delimiter.
    case textAfterClosingQuote(field: Int)

    public var description: String {
        switch self {
        case .unterminatedQuote: "unterminated quoted field"
        case .quoteInUnquotedField(let field): "field \(field): quote inside an unquoted field"
        case .textAfterClosingQuote(let field): "field \(field): text after the closing quote"
        }
    }
}
