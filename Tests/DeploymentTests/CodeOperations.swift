import Foundation
import SortieTestSupport

/// The AWS operations a program's code can send, read from the sources: no list to keep.
///
/// - `Sources/AWSServices/*.swift` is the one place each operation is named: every method that
///   sends one passes its name (`call("GetItem", …)`, `send("PutObject", …)`), and the file's
///   type says which service (`service: .dynamoDB` → `AWSService.dynamoDB`'s signing name).
/// - `Package.swift` gives the program's modules: its executable target and every target it
///   depends on, transitively.
/// - In those modules' sources, a declaration (a `func`, an `init`, a type's other members) is
///   reached when a reached one names it, starting from everything in the executable target.
///   Names are matched without types, so the result may be larger than the truth, never smaller.
struct CodeOperations {
    /// By product: IAM actions (`dynamodb:GetItem`) its code can send.
    let actions: [String: Set<String>]
    /// By product: every identifier its reached code names (to find request details such as `tags`).
    let names: [String: Set<String>]

    /// Where an operation's IAM action is not `<prefix>:<operation>` (AWS's Service Authorization Reference).
    static let actionOfOperation: [String: String] = [
        "s3:HeadObject": "s3:GetObject", "s3:CreateMultipartUpload": "s3:PutObject", "s3:UploadPart": "s3:PutObject",
        "s3:CompleteMultipartUpload": "s3:PutObject", "s3:ListObjectsV2": "s3:ListBucket",
        "sqs:SendMessageBatch": "sqs:SendMessage", "lambda:Invoke": "lambda:InvokeFunction", "monitoring:PutMetricData": "cloudwatch:PutMetricData",
    ]
    /// IAM has no action for a DynamoDB transaction: each item is authorized as its own action.
    static let transactionItems = ["put": "dynamodb:PutItem", "update": "dynamodb:UpdateItem", "delete": "dynamodb:DeleteItem",
                                   "conditionCheck": "dynamodb:ConditionCheckItem"]

    init(products: [String]) throws {
        let root = Repository.root
        let package = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let targets = Self.targets(package)
        let services = try Self.serviceMethods(root.appendingPathComponent("Sources/AWSServices"))
        var actions: [String: Set<String>] = [:]
        var names: [String: Set<String>] = [:]
        for product in products {
            guard let executable = Self.firstMatch(#"\.executable\(name: "\#(product)", targets: \["(\w+)"\]"#, in: package) else { continue }
            var modules: Set<String> = []
            var pending = [executable]
            while let module = pending.popLast() {
                guard modules.insert(module).inserted else { continue }
                pending += targets[module] ?? []
            }
            let declarations = try modules.subtracting(["AWSServices"]).flatMap { module -> [Declaration] in
                try Self.swiftFiles(root.appendingPathComponent("Sources/\(module)")).flatMap { try Declaration.all(in: $0, root: module == executable) }
            }
            let reached = Self.reach(declarations)
            var sent: Set<String> = []
            for name in reached.names {
                for operation in services[name] ?? [] {
                    if operation == "dynamodb:TransactWriteItems" {
                        sent.formUnion(Self.transactionItems.filter { reached.memberCalls.contains($0.key) }.values)
                    } else {
                        sent.insert(Self.actionOfOperation[operation] ?? operation)
                    }
                }
            }
            actions[product] = sent
            names[product] = reached.names
        }
        self.actions = actions
        self.names = names
    }

    /// Target name → the local targets it depends on, from `Package.swift`'s text.
    static func targets(_ package: String) -> [String: [String]] {
        var targets: [String: [String]] = [:]
        let pattern = try! NSRegularExpression(pattern: #"\.(?:target|executableTarget|testTarget)\(\s*name: "(\w+)"(?:, dependencies: \[([^\]]*)\])?"#)
        let text = package as NSString
        for match in pattern.matches(in: package, range: NSRange(location: 0, length: text.length)) {
            let name = text.substring(with: match.range(at: 1))
            let list = match.range(at: 2).location == NSNotFound ? "" : text.substring(with: match.range(at: 2))
            // `.product(name: "Logging", package: …)` entries are outside the package: their strings name no target here.
            let plain = list.replacingOccurrences(of: #"\.product\([^)]*\)"#, with: "", options: .regularExpression)
            targets[name] = Self.allMatches(#""(\w+)""#, in: plain)
        }
        return targets
    }

    /// AWSServices method name → the `<prefix>:<Operation>`s it sends.
    static func serviceMethods(_ folder: URL) throws -> [String: [String]] {
        let serviceFile = try String(contentsOf: Repository.root.appendingPathComponent("Sources/AWSCore/AWSService.swift"), encoding: .utf8)
        var signingNames: [String: String] = [:]
        for line in serviceFile.split(separator: "\n") {
            guard let name = firstMatch(#"static let (\w+) = AWSService\("#, in: String(line)),
                  let signing = firstMatch(#"signingName: "(\w+)""#, in: String(line)) else { continue }
            signingNames[name] = signing
        }
        var methods: [String: [String]] = [:]
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil).filter { $0.pathExtension == "swift" }
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            // `S3+Multipart.swift` extends `S3`: the service is named in `S3.swift`.
            let base = String(file.deletingPathExtension().lastPathComponent.prefix { $0 != "+" })
            let owner = (try? String(contentsOf: folder.appendingPathComponent("\(base).swift"), encoding: .utf8)) ?? text
            guard let service = firstMatch(#"service: \.(\w+)"#, in: owner), let prefix = signingNames[service] else { continue }
            let pieces = text.components(separatedBy: "func ")
            for piece in pieces.dropFirst() {
                guard let name = firstMatch(#"^(\w+)"#, in: piece) else { continue }
                for operation in allMatches(#"(?:call|send)\(\s*"(\w+)""#, in: piece) { methods[name, default: []].append("\(prefix):\(operation)") }
            }
        }
        return methods
    }

    /// Names reached from the roots, and the members called as `.name(` on the way.
    static func reach(_ declarations: [Declaration]) -> (names: Set<String>, memberCalls: Set<String>) {
        let byName = Dictionary(grouping: declarations, by: \.name)
        var names: Set<String> = []
        var memberCalls: Set<String> = []
        var pending = declarations.filter(\.isRoot)
        var visited: Set<Int> = []
        while let declaration = pending.popLast() {
            guard visited.insert(declaration.id).inserted else { continue }
            memberCalls.formUnion(declaration.memberCalls)
            for name in declaration.references where names.insert(name).inserted {
                pending += byName[name] ?? []
            }
        }
        return (names, memberCalls)
    }

    static func swiftFiles(_ folder: URL) throws -> [URL] {
        guard let walk = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        return walk.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }.sorted { $0.path < $1.path }
    }

    static func firstMatch(_ pattern: String, in text: String) -> String? { allMatches(pattern, in: text, limit: 1).first }

    static func allMatches(_ pattern: String, in text: String, limit: Int = .max) -> [String] {
        guard let expression = try? NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines]) else { return [] }
        let source = text as NSString
        return expression.matches(in: text, range: NSRange(location: 0, length: source.length)).prefix(limit).map { source.substring(with: $0.range(at: 1)) }
    }
}

/// A piece of Swift code reached as a whole: a function's or initializer's body (named after the
/// function, or the type for an initializer), or a type's code outside them (named after the type).
struct Declaration {
    nonisolated(unsafe) private static var counter = 0
    let id: Int
    let name: String
    let isRoot: Bool
    let isType: Bool
    var references: Set<String> = []
    /// `x` of every `.x(`: which cases of an enum a body builds (`.put(…)` in a transaction).
    var memberCalls: Set<String> = []

    init(name: String, isRoot: Bool, isType: Bool = false) {
        Self.counter += 1
        id = Self.counter
        self.name = name
        self.isRoot = isRoot
        self.isType = isType
    }

    private static let typeKeywords: Set<String> = ["struct", "class", "enum", "actor", "extension", "protocol"]

    /// A file's declarations; every one a root for the executable target's files (`root`).
    static func all(in file: URL, root: Bool) throws -> [Declaration] {
        let tokens = Token.scan(try String(contentsOf: file, encoding: .utf8))
        var finished: [Declaration] = []
        // The open scopes, each with the brace depth it began at; the file's top level is always open.
        var scopes: [(declaration: Declaration, depth: Int)] = [(Declaration(name: "(file)", isRoot: true), -1)]
        var depth = 0
        var index = 0
        var pending: Declaration?
        func note(_ name: String) { scopes[scopes.count - 1].declaration.references.insert(name) }
        while index < tokens.count {
            let token = tokens[index]
            switch token {
            case "{":
                if let declaration = pending { scopes.append((declaration, depth)) }
                pending = nil
                depth += 1
            case "}":
                depth -= 1
                if scopes.count > 1, scopes[scopes.count - 1].depth == depth { finished.append(scopes.removeLast().declaration) }
            case "func" where index + 1 < tokens.count:
                let name = tokens[index + 1]
                pending = Declaration(name: name.first?.isLetter == true || name.first == "_" ? name : "(operator)", isRoot: root)
                index = skipParameters(tokens, from: index + 1)
                continue
            case "init":
                // An initializer is reached through its type's name.
                pending = Declaration(name: scopes.last { $0.declaration.isType }?.declaration.name ?? "init", isRoot: root)
                index = skipParameters(tokens, from: index + 1)
                continue
            case _ where typeKeywords.contains(token) && index + 1 < tokens.count:
                pending = Declaration(name: tokens[index + 1], isRoot: root, isType: true)
                note(tokens[index + 1])
                index += 2
                continue
            default:
                guard token.first?.isLetter == true || token.first == "_" else { break }
                note(token)
                if index > 0, tokens[index - 1] == ".", index + 1 < tokens.count, tokens[index + 1] == "(" {
                    scopes[scopes.count - 1].declaration.memberCalls.insert(token)
                }
            }
            index += 1
        }
        return finished + scopes.map(\.declaration)
    }

    /// Past a parameter list `( … )` (closures in default values included), at the token after it.
    private static func skipParameters(_ tokens: [String], from start: Int) -> Int {
        var index = start
        while index < tokens.count, tokens[index] != "(", tokens[index] != "{" { index += 1 }
        guard index < tokens.count, tokens[index] == "(" else { return index }
        var level = 0
        repeat {
            if tokens[index] == "(" { level += 1 } else if tokens[index] == ")" { level -= 1 }
            index += 1
        } while index < tokens.count && level > 0
        return index
    }
}

/// Swift source as identifiers and punctuation, without comments and the text of string
/// literals (their interpolations are code, and kept).
enum Token {
    static func scan(_ text: String) -> [String] {
        var tokens: [String] = []
        scan(Array(text.unicodeScalars)[...], into: &tokens)
        return tokens
    }

    private static func isWord(_ character: Unicode.Scalar) -> Bool { CharacterSet.alphanumerics.contains(character) || character == "_" }

    private static func scan(_ characters: ArraySlice<Unicode.Scalar>, into tokens: inout [String]) {
        var index = characters.startIndex
        func at(_ offset: Int) -> Unicode.Scalar? { index + offset < characters.endIndex ? characters[index + offset] : nil }
        while index < characters.endIndex {
            let character = characters[index]
            if character == "/", at(1) == "/" {
                while index < characters.endIndex, characters[index] != "\n" { index += 1 }
            } else if character == "/", at(1) == "*" {
                index += 2
                while index < characters.endIndex, !(characters[index] == "*" && at(1) == "/") { index += 1 }
                index += 2
            } else if character == "\"" || (character == "#" && (at(1) == "\"" || at(1) == "#")) {
                index = string(characters, from: index, into: &tokens)
            } else if isWord(character) {
                var word = ""
                while index < characters.endIndex, isWord(characters[index]) {
                    word.unicodeScalars.append(characters[index])
                    index += 1
                }
                tokens.append(word)
            } else {
                if !CharacterSet.whitespacesAndNewlines.contains(character) { tokens.append(String(character)) }
                index += 1
            }
        }
    }

    /// Past a string literal (`"…"`, `"""…"""`, `#"…"#`), its interpolations scanned as code.
    private static func string(_ characters: ArraySlice<Unicode.Scalar>, from start: Int, into tokens: inout [String]) -> Int {
        var index = start
        var hashes = 0
        while index < characters.endIndex, characters[index] == "#" {
            hashes += 1
            index += 1
        }
        let multiline = index + 2 < characters.endIndex && characters[index + 1] == "\"" && characters[index + 2] == "\""
        let quotes = multiline ? 3 : 1
        index += quotes
        while index < characters.endIndex {
            if characters[index] == "\\" {
                var escape = index + 1
                var marks = 0
                while escape < characters.endIndex, characters[escape] == "#", marks < hashes {
                    marks += 1
                    escape += 1
                }
                if marks == hashes, escape < characters.endIndex, characters[escape] == "(" {
                    var level = 0
                    var end = escape
                    repeat {
                        if characters[end] == "(" { level += 1 } else if characters[end] == ")" { level -= 1 }
                        end += 1
                    } while end < characters.endIndex && level > 0
                    scan(characters[(escape + 1)..<max(escape + 1, end - 1)], into: &tokens)
                    index = end
                } else {
                    index = marks == hashes ? escape + 1 : index + 1
                }
                continue
            }
            if characters[index] == "\"" {
                var end = index
                var count = 0
                while end < characters.endIndex, characters[end] == "\"", count < quotes {
                    count += 1
                    end += 1
                }
                var closing = 0
                while end < characters.endIndex, characters[end] == "#", closing < hashes {
                    closing += 1
                    end += 1
                }
                if count == quotes && closing == hashes { return end }
                index = end
                continue
            }
            index += 1
        }
        return index
    }
}
