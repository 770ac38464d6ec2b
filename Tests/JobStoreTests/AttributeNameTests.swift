import Foundation
import JobStore
import SortieTestSupport
import TableSchema
import Testing

/// `TableSchema` owns the job table's schema, every item kind's (jobs, slots, events, files,
/// chunks, S3 events): outside `Sources/TableSchema/`, no code reads or writes an item attribute
/// by a name it spells itself, `JobStore` and `ChunkStore` included. The names come from
/// `JobTable.Attribute`, so a new attribute is checked as soon as it is declared.
///
/// A name as a string literal counts only where it is used on the table (an item's key or
/// subscript with an `AttributeValue`, an expression attribute name or a DynamoDB expression,
/// a key schema): the same words are also fields of other formats (`"job"` in launch events and
/// log metadata, `"state"` in EC2's answers, `"attempts"` in specs), which are not the table's.
@Suite struct AttributeNameTests {
    /// The one module that spells the names.
    static let owner = "Sources/TableSchema/"

    /// Where code may reach the table: every module, the tests' support libraries among them.
    static let scanned = ["Sources/"]

    @Test func noAttributeNameIsSpelledOutsideTableSchema() throws {
        let names = JobTable.Attribute.allCases.map(\.rawValue)
        let files = try Self.swiftFiles()
        #expect(
            files.contains("Sources/Reactor/Reactor.swift") && files.contains("Sources/ReactorTestSupport/RunnerStandIn.swift")
                && files.contains("Sources/ChunkStore/TableItems.swift"), "the sources were not found")
        var found: [String] = []
        for file in files where !file.hasPrefix(Self.owner) {
            let text = try String(contentsOf: Repository.root.appendingPathComponent(file), encoding: .utf8)
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                for name in Self.tableUses(in: String(line), names: names) { found.append("\(file):\(index + 1): \"\(name)\"") }
            }
        }
        #expect(found.isEmpty, "job table attributes named outside \(Self.owner) (use JobTable.Attribute):\n\(found.joined(separator: "\n"))")
    }

    /// The matcher itself: it must see the shapes the table is written in, and only those.
    @Test func theMatcherTellsTableUsesFromOtherFormats() {
        let names = JobTable.Attribute.allCases.map(\.rawValue)
        let uses = [
            #"var set: DynamoDB.Item = ["heartbeatAt": .number(now)]"#,
            #"set["failingStep"] = .s(step)"#,
            #"previous["exitCode"] = record.exitCode.map { .number($0) }"#,
            #"guard item["attempt"]?.int == record.attempt else {"#,
            #"guard case .ss(let holders)? = slots?["holders"] else { return [] }"#,
            ##"expressionAttributeNames: ["#notBefore": "notBefore"],"##,
            ##"names["#state"] = "state""##,
            #"tableName: table, indexName: index, keyConditionExpression: "gsi2pk = :queue","#,
            #"DynamoDB.CreateTableInput(tableName: name, partitionKey: "pk", sortKey: "sk")"#,
            #"tableName: tableName, key: eventKey(eventID), updateExpression: "SET #state = :done REMOVE leaseUntil","#,
            #""pk": .s(Keys.file(fileID)), "sk": .s(Keys.chunkSort(spec.index)), "kind": .s("chunk"),"#,
            #"guard let fileID = item["fileId"]?.string, let bucket = item["bucket"]?.string"#,
        ]
        for line in uses { #expect(!Self.tableUses(in: line, names: names).isEmpty, "not seen: \(line)") }
        let others = [
            #"logger.info("job \(id) RUNNABLE", metadata: ["job": "\(spec.name)"])"#,
            #"object["statusReason"] = statusReason"#,
            #"guard let id = answer["jobId"] as? String else { throw failure }"#,
            #"case job, arguments = "args", id, state"#,
            #"attributes: ["fileId": fileId, "state": FileRecord.State.failed.rawValue]"#,
            #"conditionExpression: "attribute_not_exists(#holders) OR size(#holders) < :max","#,
        ]
        for line in others { #expect(Self.tableUses(in: line, names: names).isEmpty, "taken for the table: \(line)") }
    }

    /// The attribute names `line` uses on the table.
    static func tableUses(in line: String, names: [String]) -> [String] {
        let code = line.trimmingCharacters(in: .whitespaces)
        guard !code.hasPrefix("//") else { return [] }
        let value = #"\.(s|n|ss|l|m|number|bool|null)\("#
        let expression = #"(keyCondition|projection|update|condition|filter)Expression:\s*"([^"]*)""#
        let expressions = matches(expression, in: code).map { $0[2] }
        return names.filter { name in
            let quoted = "\"\(name)\""
            guard code.contains(quoted) || expressions.contains(where: { $0.contains(name) }) else { return false }
            let patterns = [
                // An item literal's entry: `"name": .s(…)`.
                "\(NSRegularExpression.escapedPattern(for: quoted))\\s*:\\s*\(value)",
                // An item's subscript read (`item["name"]?.string`, `item?["name"]`) or AttributeValue write.
                "\\[\(NSRegularExpression.escapedPattern(for: quoted))\\]\\s*\\?\\.",
                "\\?\\[\(NSRegularExpression.escapedPattern(for: quoted))\\]",
                "\\[\(NSRegularExpression.escapedPattern(for: quoted))\\]\\s*=\\s*[^=].*\(value)",
                // An expression attribute name: `"#x": "name"`, `names["#x"] = "name"`.
                "\"#\\w+\"\\s*:\\s*\(NSRegularExpression.escapedPattern(for: quoted))",
                "\\[\"#\\w+\"\\]\\s*=\\s*\(NSRegularExpression.escapedPattern(for: quoted))",
                // A key schema.
                "(partitionKey|sortKey|attributeName):\\s*\(NSRegularExpression.escapedPattern(for: quoted))",
            ]
            if patterns.contains(where: { !matches($0, in: code).isEmpty }) { return true }
            // A DynamoDB expression naming it directly (not as `#name` or `:name`, nor DynamoDB's function `size(…)`).
            return expressions.contains { !matches("(^|[^#:\\w])\(name)\\b(?!\\()", in: $0).isEmpty }
        }
    }

    static func matches(_ pattern: String, in text: String) -> [[String]] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: range).map { match in
            (0..<match.numberOfRanges).map { group in Range(match.range(at: group), in: text).map { String(text[$0]) } ?? "" }
        }
    }

    /// The Swift files under `scanned`, relative to the repository root, in order.
    static func swiftFiles() throws -> [String] {
        var files: [String] = []
        for folder in scanned {
            let base = Repository.root.appendingPathComponent(folder)
            guard let walk = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walk where url.pathExtension == "swift" {
                files.append(folder + url.path.dropFirst(base.path.count).drop { $0 == "/" })
            }
        }
        return files.sorted()
    }
}
