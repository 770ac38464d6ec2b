/// A feed's `pattern`: a regular expression the whole value must match, compiled to a DFA over
/// UTF-8 bytes, so checking a value costs one table lookup per byte and allocates nothing.
///
/// Syntax: literals, `.`, `[...]` and `[^...]` (ASCII members and ranges), `\d \w \s \D \W \S`,
/// escaped punctuation, groups `( )` and `(?: )`, `|`, `* + ? {n} {n,} {n,m}`, and `^`/`$`
/// (implied: the whole value must match). `.` and negated sets match any one character.
struct FieldPattern: Sendable {
    let source: String
    /// 256 entries per state: state 0 is dead, state 1 the start.
    let transitions: [UInt16]
    let accepting: [Bool]

    init(_ source: String) throws(PatternError) {
        self.source = source
        var parser = PatternParser(Array(source.utf8))
        let tree = try parser.parse()
        var nfa = NFA()
        let fragment = nfa.build(tree)
        let final = nfa.addState()
        nfa.patch(fragment, to: final)
        (transitions, accepting) = try nfa.determinize(start: fragment.start, final: final)
    }
}

/// Every pattern of a schema in one table, so a check touches no reference-counted storage
/// but this one array.
struct PatternSet: Sendable {
    /// Each pattern's transition rows, one after the other. An entry is the next state's row
    /// already multiplied by 256, so a step is one load and one OR: the chain of dependent
    /// loads is what a match costs per byte.
    private var rows: [UInt32] = []
    /// Whether each row (state) accepts.
    private var accepting: [Bool] = []
    /// Each pattern's first row: its dead state (its start state is the row after).
    private var bases: [Int] = []
    private(set) var sources: [String] = []

    /// Adds a pattern; returns its index.
    mutating func add(_ pattern: FieldPattern) -> Int {
        let base = accepting.count
        bases.append(base)
        rows += pattern.transitions.map { UInt32(base + Int($0)) << 8 }
        accepting += pattern.accepting
        sources.append(pattern.source)
        return bases.count - 1
    }

    func matches(_ index: Int, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let dead = bases[index] << 8
        let row = rows.withUnsafeBufferPointer { rows in
            var row = dead + 256
            for byte in text {
                row = Int(rows[row | Int(byte)])
                if row == dead { break }
            }
            return row
        }
        return row != dead && accepting[row >> 8]
    }
}

struct PatternError: Error, Sendable, CustomStringConvertible {
    var description: String
}

/// 256 bits: the bytes one step may consume.
struct ByteSet: Sendable, Equatable {
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (a: ByteSet, b: ByteSet) -> Bool { a.words == b.words }

    init() {}
    init(_ range: ClosedRange<UInt8>) { for byte in range { insert(byte) } }

    mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    func contains(_ byte: UInt8) -> Bool {
        let word = switch byte >> 6 { case 0: words.0; case 1: words.1; case 2: words.2; default: words.3 }
        return word & (UInt64(1) << UInt64(byte & 63)) != 0
    }

    mutating func formUnion(_ other: ByteSet) {
        words = (words.0 | other.words.0, words.1 | other.words.1, words.2 | other.words.2, words.3 | other.words.3)
    }

    /// ASCII bytes not in this set.
    var asciiComplement: ByteSet {
        var result = ByteSet()
        for byte in UInt8(0)...0x7F where !contains(byte) { result.insert(byte) }
        return result
    }
}

indirect enum PatternNode {
    case bytes(ByteSet)
    case concat([PatternNode])
    case alternatives([PatternNode])
    case repetition(PatternNode, min: Int, max: Int?)

    /// One character that is not an ASCII member of `excluded`: an ASCII byte or a multi-byte UTF-8 sequence.
    static func character(excluding excluded: ByteSet) -> PatternNode {
        let tail = ByteSet(0x80...0xBF)
        return .alternatives([
            .bytes(excluded.asciiComplement),
            .concat([.bytes(ByteSet(0xC2...0xDF)), .bytes(tail)]),
            .concat([.bytes(ByteSet(0xE0...0xEF)), .bytes(tail), .bytes(tail)]),
            .concat([.bytes(ByteSet(0xF0...0xF4)), .bytes(tail), .bytes(tail), .bytes(tail)]),
        ])
    }
}

struct PatternParser {
    private let text: [UInt8]
    private var i = 0

    init(_ text: [UInt8]) { self.text = text }

    mutating func parse() throws(PatternError) -> PatternNode {
        if peek == UInt8(ascii: "^") { i += 1 }
        let node = try alternatives()
        guard i == text.count else { throw fail("unexpected '\(Character(Unicode.Scalar(text[i])))'") }
        return node
    }

    private var peek: UInt8? { i < text.count ? text[i] : nil }

    private func fail(_ reason: String) -> PatternError { PatternError(description: "pattern: \(reason) at position \(i + 1)") }

    private mutating func alternatives() throws(PatternError) -> PatternNode {
        var options = [try sequence()]
        while peek == UInt8(ascii: "|") {
            i += 1
            options.append(try sequence())
        }
        return options.count == 1 ? options[0] : .alternatives(options)
    }

    private mutating func sequence() throws(PatternError) -> PatternNode {
        var items: [PatternNode] = []
        while let byte = peek, byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") {
            if byte == UInt8(ascii: "$") && i == text.count - 1 { i += 1; break }
            var atom = try self.atom()
            while let quantifier = try self.quantifier() { atom = .repetition(atom, min: quantifier.min, max: quantifier.max) }
            items.append(atom)
        }
        return .concat(items)
    }

    private mutating func quantifier() throws(PatternError) -> (min: Int, max: Int?)? {
        let result: (min: Int, max: Int?)
        switch peek {
        case UInt8(ascii: "*"): i += 1; result = (0, nil)
        case UInt8(ascii: "+"): i += 1; result = (1, nil)
        case UInt8(ascii: "?"): i += 1; result = (0, 1)
        case UInt8(ascii: "{"):
            i += 1
            let low = number()
            guard let min = low else { throw fail("a count expected after '{'") }
            var max: Int? = min
            if peek == UInt8(ascii: ",") {
                i += 1
                max = number()
            }
            guard peek == UInt8(ascii: "}") else { throw fail("'}' expected") }
            i += 1
            guard min <= 1000, (max ?? min) <= 1000, min <= (max ?? min) else { throw fail("counts must be 0 to 1000, smallest first") }
            result = (min, max)
        default:
            return nil
        }
        if peek == UInt8(ascii: "?") { i += 1 }  // lazy or greedy: the same for a whole-value match
        return result
    }

    private mutating func number() -> Int? {
        var value: Int?
        while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), (value ?? 0) < 100_000 {
            value = (value ?? 0) * 10 + Int(byte - UInt8(ascii: "0"))
            i += 1
        }
        return value
    }

    private mutating func atom() throws(PatternError) -> PatternNode {
        guard let byte = peek else { throw fail("unexpected end") }
        i += 1
        switch byte {
        case UInt8(ascii: "("):
            if peek == UInt8(ascii: "?") {
                guard i + 1 < text.count, text[i + 1] == UInt8(ascii: ":") else { throw fail("only (?: ) groups are supported") }
                i += 2
            }
            let inner = try alternatives()
            guard peek == UInt8(ascii: ")") else { throw fail("')' expected") }
            i += 1
            return inner
        case UInt8(ascii: "["):
            return try bracket()
        case UInt8(ascii: "."):
            var newline = ByteSet()
            newline.insert(0x0A)
            return .character(excluding: newline)
        case UInt8(ascii: "\\"):
            let (set, negated) = try escape()
            return negated ? .character(excluding: set) : .bytes(set)
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"):
            throw fail("nothing to repeat")
        default:
            // A literal; a multi-byte character is its bytes in sequence.
            var set = ByteSet()
            set.insert(byte)
            return .bytes(set)
        }
    }

    /// After a backslash: a class escape (and whether it is negated) or an escaped literal.
    private mutating func escape() throws(PatternError) -> (ByteSet, Bool) {
        guard let byte = peek else { throw fail("a character expected after '\\'") }
        i += 1
        var set = ByteSet()
        switch byte {
        case UInt8(ascii: "d"), UInt8(ascii: "D"):
            set = ByteSet(UInt8(ascii: "0")...UInt8(ascii: "9"))
        case UInt8(ascii: "w"), UInt8(ascii: "W"):
            set = ByteSet(UInt8(ascii: "a")...UInt8(ascii: "z"))
            set.formUnion(ByteSet(UInt8(ascii: "A")...UInt8(ascii: "Z")))
            set.formUnion(ByteSet(UInt8(ascii: "0")...UInt8(ascii: "9")))
            set.insert(UInt8(ascii: "_"))
        case UInt8(ascii: "s"), UInt8(ascii: "S"):
            for space in [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C] as [UInt8] { set.insert(space) }
        case UInt8(ascii: "t"): set.insert(0x09)
        case UInt8(ascii: "n"): set.insert(0x0A)
        case UInt8(ascii: "r"): set.insert(0x0D)
        case _ where byte < 0x80 && !(UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20):
            set.insert(byte)
        default:
            throw fail("unsupported escape '\\\(Character(Unicode.Scalar(byte)))'")
        }
        return (set, byte == UInt8(ascii: "D") || byte == UInt8(ascii: "W") || byte == UInt8(ascii: "S"))
    }

    private mutating func bracket() throws(PatternError) -> PatternNode {
        let negated = peek == UInt8(ascii: "^")
        if negated { i += 1 }
        var set = ByteSet()
        var first = true
        while let byte = peek, byte != UInt8(ascii: "]") || first {
            first = false
            i += 1
            let low = byte
            if byte == UInt8(ascii: "\\") {
                let (escaped, escapeNegated) = try escape()
                guard !escapeNegated else { throw fail("negated escapes are not supported inside [ ]") }
                set.formUnion(escaped)
                continue
            }
            guard byte < 0x80 else { throw fail("only ASCII characters are supported inside [ ]") }
            if peek == UInt8(ascii: "-"), i + 1 < text.count, text[i + 1] != UInt8(ascii: "]") {
                i += 1
                guard let high = peek, high < 0x80, high >= low else { throw fail("invalid range") }
                i += 1
                set.formUnion(ByteSet(low...high))
                continue
            }
            set.insert(low)
        }
        guard peek == UInt8(ascii: "]") else { throw fail("']' expected") }
        i += 1
        return negated ? .character(excluding: set) : .bytes(set)
    }
}

/// A Thompson NFA over bytes, then the subset construction.
struct NFA {
    struct State {
        var edges: [(ByteSet, Int)] = []
        var epsilons: [Int] = []
    }

    struct Fragment {
        var start: Int
        /// States whose epsilon list must be joined to what follows.
        var ends: [Int]
    }

    var states: [State] = []

    mutating func addState() -> Int {
        states.append(State())
        return states.count - 1
    }

    mutating func patch(_ fragment: Fragment, to target: Int) {
        for end in fragment.ends { states[end].epsilons.append(target) }
    }

    mutating func build(_ node: PatternNode) -> Fragment {
        switch node {
        case .bytes(let set):
            let start = addState(), end = addState()
            states[start].edges.append((set, end))
            return Fragment(start: start, ends: [end])
        case .concat(let items):
            let start = addState()
            var current = Fragment(start: start, ends: [start])
            for item in items {
                let next = build(item)
                patch(current, to: next.start)
                current.ends = next.ends
            }
            return current
        case .alternatives(let options):
            let start = addState()
            var ends: [Int] = []
            for option in options {
                let fragment = build(option)
                states[start].epsilons.append(fragment.start)
                ends += fragment.ends
            }
            return Fragment(start: start, ends: ends)
        case .repetition(let inner, let min, let max):
            let start = addState()
            var current = Fragment(start: start, ends: [start])
            for _ in 0..<min {
                let next = build(inner)
                patch(current, to: next.start)
                current.ends = next.ends
            }
            if let max {
                var ends = current.ends
                for _ in min..<max {
                    let next = build(inner)
                    patch(current, to: next.start)
                    current.ends = next.ends
                    ends += next.ends
                }
                return Fragment(start: start, ends: ends)
            }
            let loop = build(inner)
            let join = addState()
            patch(current, to: join)
            states[join].epsilons.append(loop.start)
            patch(loop, to: join)
            return Fragment(start: start, ends: [join])
        }
    }

    private func closure(_ seeds: [Int]) -> [Int] {
        var seen = Set(seeds)
        var stack = seeds
        while let state = stack.popLast() {
            for next in states[state].epsilons where seen.insert(next).inserted { stack.append(next) }
        }
        return seen.sorted()
    }

    /// A transition table (row 0 is the dead state, row 1 the start) and which rows accept.
    func determinize(start: Int, final: Int, limit: Int = 2000) throws(PatternError) -> ([UInt16], [Bool]) {
        var index: [[Int]: Int] = [[]: 0]
        var sets: [[Int]] = [[]]
        let first = closure([start])
        index[first] = 1
        sets.append(first)
        var table = [UInt16](repeating: 0, count: 512)
        var row = 1
        while row < sets.count {
            for byte in 0...255 {
                var targets: [Int] = []
                for state in sets[row] {
                    for (set, target) in states[state].edges where set.contains(UInt8(byte)) { targets.append(target) }
                }
                guard !targets.isEmpty else { continue }
                let next = closure(targets)
                let nextRow: Int
                if let known = index[next] {
                    nextRow = known
                } else {
                    guard sets.count < limit else { throw PatternError(description: "pattern: too complex (more than \(limit) states)") }
                    nextRow = sets.count
                    index[next] = nextRow
                    sets.append(next)
                    table += [UInt16](repeating: 0, count: 256)
                }
                table[row << 8 | byte] = UInt16(nextRow)
            }
            row += 1
        }
        return (table, sets.map { $0.contains(final) })
    }
}
