/// The layout of a simulated record file's decompressed stream.
public enum SimulatedFormat: String, Sendable, CaseIterable {
    /// RFC 4180 CSV with a header line; a quarter of the records hold a quoted line break and
    /// doubled quotes, every record a quoted field with a comma.
    case csv
    /// JSON Lines, with escaped quotes and escaped line breaks inside strings.
    case jsonLines = "jsonl"
}

/// A deterministic record stream of any length that is never stored: any 64 KiB segment of it
/// is generated on demand from its number alone, and knows where each of its records starts.
///
/// Every full segment holds exactly `recordsPerSegment` records on a fixed number of lines
/// (record lengths vary; the slack is spread over the records' last field), so where record `i`
/// starts, and on which line, is worked out from the construction, never by scanning bytes:
/// the independent answer a planner's chunk boundaries are checked against.
public struct RecordGenerator: Sendable {
    public static let segmentSize = 64 << 10
    public static let recordsPerSegment = 380
    /// A record's content before the slack is spread: the most any field choice gives.
    static let maxNaturalRecord = 170

    public let format: SimulatedFormat
    /// Segment `k` is generated from seed `seed(k)`: the segment number itself, or (for gzip
    /// objects, whose members repeat) a number within a period.
    let seed: @Sendable (Int64) -> Int64

    public init(format: SimulatedFormat, seed: @escaping @Sendable (Int64) -> Int64 = { $0 }) {
        self.format = format
        self.seed = seed
    }

    public var header: [UInt8] {
        format == .csv ? Array("id,customer,amount,note\n".utf8) : []
    }

    /// Whether record `j` of a segment holds a quoted line break (CSV only).
    static func spansTwoLines(_ j: Int, format: SimulatedFormat) -> Bool { format == .csv && j % 4 == 1 }

    /// Lines in a full segment (the header's not counted): records, plus one for each quoted line break.
    public var linesPerSegment: Int64 {
        Int64((0..<Self.recordsPerSegment).reduce(0) { $0 + (Self.spansTwoLines($1, format: format) ? 2 : 1) })
    }

    /// How many records a segment of `length` bytes holds (a full one: `recordsPerSegment`).
    public func recordCount(segment k: Int64, length: Int) -> Int {
        let room = length - (k == 0 ? header.count : 0)
        return min(Self.recordsPerSegment, room / Self.maxNaturalRecord)
    }

    /// The smallest last segment an object may end with: room for one record.
    public var minimumTail: Int { header.count + Self.maxNaturalRecord }

    /// Segment `k`, `length` bytes (`segmentSize` but for an object's last one), and the offset
    /// of each of its records within it.
    public func segment(_ k: Int64, length: Int = segmentSize) -> (bytes: [UInt8], recordStarts: [Int]) {
        var random = SplitMix(seed: UInt64(bitPattern: seed(k)) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        let count = recordCount(segment: k, length: length)
        let idBase = seed(k) * Int64(Self.recordsPerSegment)
        // The records as they come first, each with the place its share of the slack goes.
        var natural: [UInt8] = k == 0 ? header : []
        natural.reserveCapacity(length)
        var ends: [(padAt: Int, end: Int)] = []
        ends.reserveCapacity(count)
        for j in 0..<count {
            let start = natural.count
            let padAt = write(&natural, id: idBase + Int64(j), j, &random)
            precondition(natural.count - start <= Self.maxNaturalRecord, "a generated record is longer than maxNaturalRecord")
            ends.append((padAt, natural.count))
        }
        let slack = length - natural.count
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        var starts: [Int] = []
        starts.reserveCapacity(count)
        let text = Self.text
        var from = k == 0 ? header.count : 0
        bytes += natural[..<from]
        for (j, end) in ends.enumerated() {
            starts.append(bytes.count)
            bytes += natural[from..<end.padAt]
            var pad = slack / count + (j == count - 1 ? slack % count : 0)
            var at = (j * 131) % (text.count / 2)
            while pad > 0 {
                let take = min(pad, text.count - at)
                bytes += text[at..<at + take]
                pad -= take
                at = 0
            }
            bytes += natural[end.padAt..<end.end]
            from = end.end
        }
        return (bytes, starts)
    }

    /// Writes record `j` as it comes; returns where in it its padding goes (inside its last field).
    private func write(_ bytes: inout [UInt8], id: Int64, _ j: Int, _ random: inout SplitMix) -> Int {
        let name = 4 + Int(random.next() % 17)
        let note = 8 + Int(random.next() % 48)
        let amount = random.next() % 1_000_000
        let text = Self.text
        let from = Int(random.next() % UInt64(text.count - 2 * name))
        let padAt: Int
        // Appended in place (no intermediate arrays or strings): the generator, not the planner,
        // was most of a planning run's CPU.
        switch format {
        case .csv:
            Self.decimal(&bytes, UInt64(id))
            bytes.append(contentsOf: ",\"".utf8)
            bytes += text[from..<from + name]
            bytes.append(contentsOf: ", ".utf8)
            bytes += text[from + name..<from + name + name - 2]
            bytes.append(contentsOf: "\",".utf8)
            Self.amount(&bytes, amount)
            bytes.append(UInt8(ascii: ","))
            if Self.spansTwoLines(j, format: format) {
                bytes.append(contentsOf: "\"said \"\"hi\"\"\nand ".utf8)
                Self.fill(&bytes, note, &random)
                padAt = bytes.count
                bytes.append(UInt8(ascii: "\""))
            } else {
                Self.fill(&bytes, note, &random)
                padAt = bytes.count
            }
        case .jsonLines:
            bytes.append(contentsOf: "{\"id\":".utf8)
            Self.decimal(&bytes, UInt64(id))
            bytes.append(contentsOf: ",\"customer\":\"".utf8)
            bytes += text[from..<from + name]
            bytes.append(contentsOf: ", ".utf8)
            bytes += text[from + name..<from + name + name - 2]
            bytes.append(contentsOf: "\",\"amount\":".utf8)
            Self.amount(&bytes, amount)
            bytes.append(contentsOf: ",\"note\":\"".utf8)
            if j % 4 == 1 { bytes.append(contentsOf: "\\\"hi\\\"\\nx ".utf8) }
            Self.fill(&bytes, note, &random)
            padAt = bytes.count
            bytes.append(contentsOf: "\"}".utf8)
        }
        bytes.append(UInt8(ascii: "\n"))
        return padAt
    }

    /// `value` in decimal digits.
    private static func decimal(_ bytes: inout [UInt8], _ value: UInt64) {
        var digits: (UInt64, Int) = (1, 1)
        while digits.0 <= value / 10 { digits = (digits.0 * 10, digits.1 + 1) }
        var rest = value
        var unit = digits.0
        for _ in 0..<digits.1 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / unit))
            rest %= unit
            unit /= 10
        }
    }

    /// Cents as `units.cc`, the cents always two digits.
    private static func amount(_ bytes: inout [UInt8], _ cents: UInt64) {
        decimal(&bytes, cents / 100)
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") + UInt8(cents % 100 / 10))
        bytes.append(UInt8(ascii: "0") + UInt8(cents % 10))
    }

    /// `count` bytes of plain text (letters and spaces: nothing CSV or JSON would treat specially).
    private static func fill(_ bytes: inout [UInt8], _ count: Int, _ random: inout SplitMix) {
        var left = count
        while left > 0 {
            let from = Int(random.next() % UInt64(text.count / 2))
            let take = min(left, text.count - from)
            bytes += text[from..<from + take]
            left -= take
        }
    }

    /// 4 KiB of words from a fixed seed, sliced for names and notes.
    static let text: [UInt8] = {
        var random = SplitMix(seed: 20)
        var text: [UInt8] = []
        while text.count < 4096 {
            let length = 2 + Int(random.next() % 9)
            for _ in 0..<length { text.append(UInt8(ascii: "a") + UInt8(random.next() % 26)) }
            text.append(UInt8(ascii: " "))
        }
        return Array(text.prefix(4096))
    }()
}

/// Steele, Lea and Flood's SplitMix64: a fast, fixed sequence from a seed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
