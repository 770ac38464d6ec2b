/// Inputs for a target without libFuzzer: its seeds, changed by a seeded generator (the same
/// seed gives the same inputs on every machine) in the ways libFuzzer's mutators change them.
public struct SeededMutator: Sendable {
    private var state: UInt64
    private let seeds: [[UInt8]]
    /// Bytes that matter to the decoders (JSON, CSV, XML, YAML, gzip), spliced in whole.
    private static let tokens: [[UInt8]] = [
        "{", "}", "[", "]", "\"", "\\", "\\u0000", "\\ud800", ":", ",", "\n", "\r\n", "\t", "null", "true", "-0", "1e999",
        "18446744073709551616", "<", "</", "&amp;", "&#0;", "<![CDATA[", "- ", "&anchor ", "*anchor", "!!binary ", "---\n", "'", "%ZZ", "+",
    ].map { Array($0.utf8) } + [[0x1F, 0x8B, 0x08, 0x00], [0xFF, 0xFE], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0]]

    public init(seed: UInt64, seeds: [[UInt8]]) {
        state = seed &+ 0x9E37_79B9_7F4A_7C15
        self.seeds = seeds.isEmpty ? [[]] : seeds
    }

    /// splitmix64
    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func below(_ bound: Int) -> Int {
        bound <= 1 ? 0 : Int(next() % UInt64(bound))
    }

    /// The next input: a seed with one to eight changes, at most `maxLength` bytes.
    public mutating func input(maxLength: Int = 1 << 16) -> [UInt8] {
        var bytes = seeds[below(seeds.count)]
        for _ in 0...below(8) {
            let at = below(bytes.count + 1)
            switch below(7) {
            case 0 where !bytes.isEmpty:
                bytes[min(at, bytes.count - 1)] ^= UInt8(1 << below(8))
            case 1 where !bytes.isEmpty:
                bytes[min(at, bytes.count - 1)] = UInt8(truncatingIfNeeded: next())
            case 2:
                bytes.insert(contentsOf: Self.tokens[below(Self.tokens.count)], at: at)
            case 3 where !bytes.isEmpty:
                bytes.removeSubrange(at..<min(bytes.count, at + 1 + below(16)))
            case 4 where !bytes.isEmpty:
                // A piece repeated: long runs, deep nesting.
                let piece = Array(bytes[at..<min(bytes.count, at + 1 + below(8))])
                for _ in 0..<(1 + below(64)) { bytes.insert(contentsOf: piece, at: at) }
            case 5:
                // A piece of another seed: crossover.
                let other = seeds[below(seeds.count)]
                let from = below(other.count + 1)
                bytes.insert(contentsOf: other[from..<min(other.count, from + below(64))], at: at)
            default:
                bytes.removeSubrange(min(at, bytes.count)...)
            }
        }
        return Array(bytes.prefix(maxLength))
    }
}
