/// A record's place in the stream.
public struct RecordBoundary: Sendable, Equatable {
    /// Stream offsets of the record's content: without its line terminator (or a leading BOM).
    public var start: Int64
    public var end: Int64
    /// Where the next record may begin: just after the terminator.
    public var next: Int64
    /// The 1-based line the record starts on; quoted line breaks count as lines.
    public var line: Int
    /// The record's 0-based position in the stream.
    public var index: Int
    public var defect: RecordDefect?
    /// The line `next` is on.
    public var nextLine: Int
}

/// Finds record boundaries in a byte stream fed in pieces of any size, with the same answer
/// whatever the pieces: the planner and the processor both cut records with it, so they
/// always agree on where a record starts and ends.
///
/// CSV is scanned with RFC 4180's quoting (a quote opens a quoted field only at the start of a
/// field), so a quoted line break never ends a record. Records end at LF; a CR before it is part
/// of the terminator. Lines with no content are not records (their line numbers still count).
public struct RecordScanner: Sendable {
    private enum State: UInt8 {
        case fieldStart, unquoted, quoted, quoteSeen, carriageReturnAfterQuote
    }

    public let format: RecordFormat
    private var state = State.fieldStart
    /// Stream offset of the next byte to scan.
    public private(set) var position: Int64
    /// Where the record being scanned starts: bytes before it are no longer needed.
    public private(set) var recordStart: Int64
    /// The line the record being scanned starts on.
    public private(set) var recordLine: Int
    private var fieldBegin: Int64
    private var quoteClose: Int64 = 0
    private var escaped = false
    private var defect: RecordDefect?
    private var lineFeeds: Int
    /// Records found so far, counting from `firstIndex`.
    public private(set) var nextIndex: Int
    private var previousByte: UInt8 = 0
    /// Bytes of a UTF-8 byte order mark matched at the start of the file; -1 once settled.
    private var bomMatched: Int
    private(set) var fields: [FieldSpan] = []

    /// `start` is the stream offset of the first byte fed; `atFileStart` lets a leading UTF-8
    /// byte order mark be skipped. `firstLine` and `firstIndex` number lines and records when
    /// the stream starts inside a file (a chunk).
    public init(format: RecordFormat, start: Int64 = 0, atFileStart: Bool, firstLine: Int = 1, firstIndex: Int = 0) {
        self.format = format
        position = start
        recordStart = start
        fieldBegin = start
        recordLine = firstLine
        lineFeeds = firstLine - 1
        nextIndex = firstIndex
        bomMatched = atFileStart && start == 0 ? 0 : -1
    }

    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    private static let lineFeed = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let quote = UInt8(ascii: "\"")

    /// Scans `bytes`, the next piece of the stream, calling `onRecord` for each record that ends
    /// in it with the record's CSV fields (stream offsets; empty for JSON Lines).
    public mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>, _ onRecord: (RecordBoundary, UnsafeBufferPointer<FieldSpan>) throws -> Void) rethrows {
        let first = skipByteOrderMark(bytes)
        switch format {
        case .jsonLines: try scanLines(bytes, from: first, onRecord)
        case .csv(let delimiter): try scanCSV(bytes, from: first, delimiter: delimiter, onRecord)
        }
        position += Int64(bytes.count)
        if let last = bytes.last { previousByte = last }
    }

    /// The end of the stream: the last record may lack its line terminator.
    public mutating func finish(_ onRecord: (RecordBoundary, UnsafeBufferPointer<FieldSpan>) throws -> Void) rethrows {
        let end = position
        switch state {
        case .quoted:
            defect = .unterminatedQuote
            closeField(fieldBegin + 1, end)
        case .quoteSeen:
            closeField(fieldBegin + 1, quoteClose)
        case .carriageReturnAfterQuote:
            closeField(fieldBegin + 1, quoteClose)
            try emit(contentEnd: end - 1, next: end, onRecord)
            return
        case .fieldStart, .unquoted:
            let trimmed = end > fieldBegin && previousByte == Self.carriageReturn ? end - 1 : end
            if fields.isEmpty && trimmed == recordStart {
                return  // nothing after the last terminator
            }
            if case .csv = format { closeField(fieldBegin, trimmed) }
            try emit(contentEnd: trimmed, next: end, onRecord)
            return
        }
        try emit(contentEnd: end, next: end, onRecord)
    }

    // MARK: - Scanning

    private mutating func skipByteOrderMark(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard bomMatched >= 0 else { return 0 }
        var i = 0
        while bomMatched < 3, i < bytes.count {
            guard bytes[i] == Self.bom[bomMatched] else {
                // Not a BOM after all: the bytes matched so far were ordinary content.
                if bomMatched > 0 { state = .unquoted }
                bomMatched = -1
                return i
            }
            bomMatched += 1
            i += 1
        }
        if bomMatched == 3 {
            bomMatched = -1
            recordStart = position + Int64(i)
            fieldBegin = recordStart
        }
        return i
    }

    private mutating func scanLines(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, _ onRecord: (RecordBoundary, UnsafeBufferPointer<FieldSpan>) throws -> Void) rethrows {
        var i = start
        let count = bytes.count
        while i < count {
            guard let found = Self.index(of: Self.lineFeed, in: bytes, from: i) else { break }
            let lineFeed = position + Int64(found)
            let hasCR = found > 0 ? bytes[found - 1] == Self.carriageReturn : previousByte == Self.carriageReturn
            let end = hasCR && lineFeed > recordStart ? lineFeed - 1 : lineFeed
            lineFeeds += 1
            if end > recordStart {
                try emit(contentEnd: end, next: lineFeed + 1, onRecord)
            } else {
                startRecord(at: lineFeed + 1)
            }
            i = found + 1
        }
    }

    private static func index(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var i = start
        let count = bytes.count
        while i < count {
            if bytes[i] == byte { return i }
            i += 1
        }
        return nil
    }

    private mutating func scanCSV(
        _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, delimiter: UInt8,
        _ onRecord: (RecordBoundary, UnsafeBufferPointer<FieldSpan>) throws -> Void
    ) rethrows {
        var i = start
        let count = bytes.count
        let base = position
        while i < count {
            let byte = bytes[i]
            switch state {
            case .fieldStart:
                if byte == Self.quote {
                    state = .quoted
                    fieldBegin = base + Int64(i)
                } else if byte == delimiter {
                    closeField(fieldBegin, base + Int64(i))
                    fieldBegin = base + Int64(i) + 1
                } else if byte == Self.lineFeed {
                    try endRecord(bytes, at: i, onRecord)
                } else {
                    state = .unquoted
                }
                i += 1
            case .unquoted:
                // Fast path: a word at a time, straight to the first byte that matters.
                while i + 8 <= count {
                    let word = ByteSearch.word(bytes, at: i)
                    let found = ByteSearch.matches(word, delimiter) | ByteSearch.matches(word, Self.lineFeed) | ByteSearch.matches(word, Self.quote)
                    if found != 0 {
                        i += found.trailingZeroBitCount >> 3
                        break
                    }
                    i += 8
                }
                while i < count {
                    let b = bytes[i]
                    if b == delimiter || b == Self.lineFeed || b == Self.quote { break }
                    i += 1
                }
                guard i < count else { break }
                let b = bytes[i]
                if b == delimiter {
                    closeField(fieldBegin, base + Int64(i))
                    state = .fieldStart
                    fieldBegin = base + Int64(i) + 1
                } else if b == Self.lineFeed {
                    try endRecord(bytes, at: i, onRecord)
                } else if defect == nil {
                    defect = .quoteInUnquotedField(field: fields.count + 1)
                }
                i += 1
            case .quoted:
                // Fast path: the inside of a quoted field, where only a quote (and counting line feeds) matters.
                while i + 8 <= count {
                    let word = ByteSearch.word(bytes, at: i)
                    if ByteSearch.mayContain(word, Self.quote) || ByteSearch.mayContain(word, Self.lineFeed) { break }
                    i += 8
                }
                while i < count {
                    let b = bytes[i]
                    if b == Self.quote { break }
                    if b == Self.lineFeed { lineFeeds += 1 }
                    i += 1
                }
                guard i < count else { break }
                state = .quoteSeen
                quoteClose = base + Int64(i)
                i += 1
            case .quoteSeen:
                if byte == Self.quote {
                    state = .quoted
                    escaped = true
                } else if byte == delimiter {
                    closeField(fieldBegin + 1, quoteClose)
                    state = .fieldStart
                    fieldBegin = base + Int64(i) + 1
                } else if byte == Self.lineFeed {
                    try endRecord(bytes, at: i, onRecord)
                } else if byte == Self.carriageReturn {
                    state = .carriageReturnAfterQuote
                } else {
                    textAfterQuote()
                }
                i += 1
            case .carriageReturnAfterQuote:
                if byte == Self.lineFeed {
                    try endRecord(bytes, at: i, onRecord)
                    i += 1
                } else {
                    textAfterQuote()  // and look at this byte again as part of an unquoted field
                }
            }
        }
    }

    private mutating func textAfterQuote() {
        if defect == nil { defect = .textAfterClosingQuote(field: fields.count + 1) }
        state = .unquoted
    }

    /// A line feed outside quotes at `i`: closes the last field and the record.
    private mutating func endRecord(
        _ bytes: UnsafeBufferPointer<UInt8>, at i: Int, _ onRecord: (RecordBoundary, UnsafeBufferPointer<FieldSpan>) throws -> Void
    ) rethrows {
        let lineFeed = position + Int64(i)
        lineFeeds += 1
        let contentEnd: Int64
        switch state {
        case .quoteSeen:
            closeField(fieldBegin + 1, quoteClose)
            contentEnd = lineFeed
        case .carriageReturnAfterQuote:
            closeField(fieldBegin + 1, quoteClose)
            contentEnd = lineFeed - 1
        default:
            let before = i > 0 ? bytes[i - 1] : previousByte
            let trimmed = lineFeed > fieldBegin && before == Self.carriageReturn ? lineFeed - 1 : lineFeed
            if fields.isEmpty && trimmed == recordStart {
                startRecord(at: lineFeed + 1)  // an empty line
                return
            }
            closeField(fieldBegin, trimmed)
            contentEnd = trimmed
        }
        try emit(contentEnd: contentEnd, next: lineFeed + 1, onRecord)
    }

    private mutating func closeField(_ start: Int64, _ end: Int64) {
        fields.append(FieldSpan(start: Int(start), end: Int(max(start, end)), hasEscapedQuotes: escaped))
        escaped = false
    }

    private mutating func emit(contentEnd: Int64, next: Int64, _ onRecord: (RecordBoundary, UnsafeBufferPointer<FieldSpan>) throws -> Void) rethrows {
        let boundary = RecordBoundary(
            start: recordStart, end: contentEnd, next: next, line: recordLine, index: nextIndex, defect: defect, nextLine: lineFeeds + 1)
        nextIndex += 1
        try fields.withUnsafeBufferPointer { try onRecord(boundary, $0) }
        startRecord(at: next)
    }

    private mutating func startRecord(at offset: Int64) {
        fields.removeAll(keepingCapacity: true)
        state = .fieldStart
        recordStart = offset
        fieldBegin = offset
        recordLine = lineFeeds + 1
        defect = nil
        escaped = false
    }
}
