/// Reads a `SpecValue` tree into typed values, collecting every problem rather than stopping at
/// the first: a person fixing a spec wants the whole list. Unknown keys are errors.
struct SpecReader {
    private(set) var issues: [SpecIssue] = []

    /// A mapping whose keys were checked against what its type allows.
    struct Fields {
        let path: String
        let location: SourceLocation?
        private let entries: [String: SpecValue.Entry]

        init(path: String, location: SourceLocation?, entries: [String: SpecValue.Entry]) {
            self.path = path
            self.location = location
            self.entries = entries
        }

        subscript(key: String) -> SpecValue? { entries[key]?.value }

        func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

        func keyLocation(_ key: String) -> SourceLocation? { entries[key]?.keyLocation ?? entries[key]?.value.location }

        /// The value's own location, or the mapping's when the key is absent.
        func location(_ key: String) -> SourceLocation? { entries[key]?.value.location ?? entries[key]?.keyLocation ?? location }
    }

    mutating func fail(_ field: String, _ location: SourceLocation?, _ message: String) {
        issues.append(SpecIssue(location: location, field: field.isEmpty ? "(spec)" : field, message: message))
    }

    /// Reports `message` against `key` of `fields` when `condition` is false.
    mutating func require(_ condition: Bool, _ fields: Fields, _ key: String, _ message: @autoclosure () -> String) {
        if !condition { fail(fields.path(key), fields.location(key), message()) }
    }

    // MARK: Structure

    /// `location` is where to point when a required key is absent: the parent's key, by default the mapping.
    mutating func fields(_ value: SpecValue, path: String, allowed: [String], location: SourceLocation? = nil) -> Fields? {
        guard case .map(let entries) = value.kind else {
            fail(path, value.location, "expected a mapping with keys \(allowed.joined(separator: ", ")), got \(value.summary)")
            return nil
        }
        // Neither Yams nor JSONDecoder hands over a mapping with a key twice.
        var known: [String: SpecValue.Entry] = [:]
        for entry in entries {
            guard allowed.contains(entry.key) else {
                let field = path.isEmpty ? entry.key : "\(path).\(entry.key)"
                fail(field, entry.keyLocation ?? entry.value.location, "unknown key '\(entry.key)'; expected one of: \(allowed.joined(separator: ", "))")
                continue
            }
            known[entry.key] = entry
        }
        return Fields(path: path, location: location ?? value.location, entries: known)
    }

    /// `missing` makes the key required, saying what belongs there.
    mutating func fields(_ parent: Fields, _ key: String, allowed: [String], missing: String? = nil) -> Fields? {
        let value = if let missing { need(parent, key, missing) } else { present(parent, key) }
        guard let value else { return nil }
        return fields(value, path: parent.path(key), allowed: allowed, location: parent.keyLocation(key))
    }

    /// The items of a list, each with its path.
    mutating func list(_ parent: Fields, _ key: String) -> [(value: SpecValue, path: String)] {
        guard let value = present(parent, key) else { return [] }
        guard case .list(let items) = value.kind else {
            fail(parent.path(key), value.location, "expected a list, got \(value.summary)")
            return []
        }
        return items.enumerated().map { (value: $0.element, path: "\(parent.path(key))[\($0.offset)]") }
    }

    /// A mapping of names to entries, for `arguments` and `environment`.
    mutating func entries(_ parent: Fields, _ key: String) -> [SpecValue.Entry] {
        guard let value = present(parent, key) else { return [] }
        guard case .map(let entries) = value.kind else {
            fail(parent.path(key), value.location, "expected a mapping of names to values, got \(value.summary)")
            return []
        }
        return entries
    }

    // MARK: Scalars

    /// Any scalar, as text: `branch: 2024` is the branch "2024", whatever YAML would make of it.
    mutating func string(_ parent: Fields, _ key: String, required: Bool = false) -> String? {
        guard let value = required ? need(parent, key, "text") : present(parent, key) else { return nil }
        return text(value, path: parent.path(key))
    }

    mutating func text(_ value: SpecValue, path: String) -> String? {
        guard case .scalar(let text, _) = value.kind else {
            fail(path, value.location, "expected text, got \(value.summary)")
            return nil
        }
        return text
    }

    mutating func strings(_ parent: Fields, _ key: String) -> [String] {
        var texts: [String] = []
        for item in list(parent, key) {
            if let text = text(item.value, path: item.path) { texts.append(text) }
        }
        return texts
    }

    mutating func int(_ parent: Fields, _ key: String, in range: ClosedRange<Int>, default fallback: Int? = nil) -> Int? {
        guard let value = present(parent, key) else { return fallback }
        guard case .scalar(let text, quoted: false) = value.kind, let number = Int(text) else {
            fail(parent.path(key), value.location, "expected a whole number from \(range.lowerBound) to \(range.upperBound), got \(value.summary)")
            return fallback
        }
        guard range.contains(number) else {
            fail(parent.path(key), value.location, "expected a whole number from \(range.lowerBound) to \(range.upperBound), got \(number)")
            return fallback
        }
        return number
    }

    mutating func bool(_ parent: Fields, _ key: String, default fallback: Bool) -> Bool {
        guard let value = present(parent, key) else { return fallback }
        switch value.kind {
        case .scalar("true", quoted: false): return true
        case .scalar("false", quoted: false): return false
        default:
            fail(parent.path(key), value.location, "expected true or false, got \(value.summary)")
            return fallback
        }
    }

    /// Seconds, written as a number of seconds or as `90s`, `30m`, `2h`, `1d`, `1h30m`.
    mutating func duration(_ parent: Fields, _ key: String, required: Bool = false) -> Int? {
        guard let value = required ? need(parent, key, "a duration such as 30m or 2h") : present(parent, key) else { return nil }
        let limit = 7 * 86_400
        guard case .scalar(let text, _) = value.kind, let seconds = DurationText.seconds(text), seconds > 0, seconds <= limit else {
            fail(parent.path(key), value.location, "expected a duration from 1s to 7d such as 90s, 30m, 2h or 1h30m (or whole seconds), got \(value.summary)")
            return nil
        }
        return seconds
    }

    // MARK: Presence

    private func present(_ parent: Fields, _ key: String) -> SpecValue? {
        guard let value = parent[key] else { return nil }
        if case .null = value.kind { return nil }
        return value
    }

    private mutating func need(_ parent: Fields, _ key: String, _ what: String) -> SpecValue? {
        guard let value = present(parent, key) else {
            fail(parent.path(key), parent.location, "missing: expected \(what)")
            return nil
        }
        return value
    }
}
