import Foundation
import SortieTestSupport

/// The AWS operations a program's code can send, read from the sources: no list to keep.
///
/// - `Sources/AWSServices` is the one place each operation is named: every method that sends one
///   passes its name (`call("GetItem", …)`, `send("PutObject", …)`), and its type says which
///   service (`struct DynamoDB` built with `service: .dynamoDB` → `AWSService.dynamoDB`'s signing
///   name). A method calling another of its type (`putFile` → `uploadPart`) sends what that sends.
/// - `Package.swift` gives the program's modules: its executable target and every target it
///   depends on, transitively.
/// - In those modules' sources, a declaration (a `func`, an `init`, a type's other members) is
///   reached when a reached one names it, starting from everything in the executable target.
///   With no type checker, a call is resolved as far as the source shows: by name and argument
///   labels (`scan.scan(file, compressed: …)` is not DynamoDB's `scan(_:)`); `f(…)` within the
///   caller's type, protocols and free functions; `x.f(…)` within x's types where every binding of
///   that name writes one (`scanner: RecordScanner`, `s3 = S3(…)`), any type otherwise. A bare name
///   (a variable, `.pending`) calls no `func`, but for a function passed as a value in its own file
///   (`map(Self.value)`). Where unsure it reaches more; it misses only a function passed as a value
///   from another file. An AWSServices method is sent where reached code calls it as a member.
/// - Credentials (AWSCore's providers, STS included) are fetched before the role exists, with the
///   caller's own permissions: they are not AWSServices methods and count for no program.
struct CodeOperations {
    /// One action a program sends, and where: what a failure names.
    struct Sent: Sendable, CustomStringConvertible {
        /// `s3:HeadObject`: the operation, whose action may be named differently.
        var operation: String
        /// `S3.headObject at Sources/AWSServices/S3.swift:77`
        var method: String
        /// `Sources/JobRunner/LogUpload.swift:40`: the program's call of that method.
        var caller: String
        var description: String { "\(operation) in \(method), called at \(caller)" }
    }

    /// By product: each IAM action (`dynamodb:GetItem`) its code can send, with one place it does.
    let sent: [String: [String: Sent]]
    /// By product: every identifier its reached code names (to find request details such as `tags`).
    let names: [String: Set<String>]
    /// By product: the IAM actions its code can send.
    var actions: [String: Set<String>] { sent.mapValues { Set($0.keys) } }

    /// Where an operation's IAM action is not `<prefix>:<operation>`, as AWS's Service
    /// Authorization Reference lists them (docs.aws.amazon.com/service-authorization/latest/reference/):
    /// S3 authorizes HeadObject as s3:GetObject, a multipart upload's parts as s3:PutObject and
    /// ListObjectsV2 as s3:ListBucket; SQS SendMessageBatch as sqs:SendMessage; Lambda Invoke as
    /// lambda:InvokeFunction; CloudWatch signs as `monitoring` but its actions are `cloudwatch:`.
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
        let services = Dictionary(grouping: try ServiceMethod.all(in: root.appendingPathComponent("Sources/AWSServices")), by: \.name)
        var sent: [String: [String: Sent]] = [:]
        var names: [String: Set<String>] = [:]
        for product in products {
            guard let executable = Self.firstMatch(#"\.executable\(name: "\#(product)", targets: \["(\w+)"\]"#, in: package) else { continue }
            var modules: Set<String> = []
            var pending = [executable]
            while let module = pending.popLast() {
                guard modules.insert(module).inserted else { continue }
                pending += targets[module] ?? []
            }
            let declarations = try modules.subtracting(["AWSServices"]).sorted().flatMap { module -> [Declaration] in
                try Self.swiftFiles(root.appendingPathComponent("Sources/\(module)")).flatMap { try Declaration.all(in: $0, root: module == executable) }
            }
            let receivers = Receivers(declarations)
            let reached = Self.reach(declarations, receivers: receivers)
            let built = Set(reached.calls.map(\.call.name))
            var actions: [String: Sent] = [:]
            for (call, caller) in reached.calls {
                for method in services[call.name] ?? [] where call.isMember && method.parameters.accept(call)
                    && receivers.types(of: call)?.contains(method.type) != false {
                    for operation in method.operations {
                        let place = Sent(operation: operation.name, method: "\(method.type).\(method.name) at \(operation.site)", caller: caller)
                        let sentActions = operation.name == "dynamodb:TransactWriteItems"
                            ? Self.transactionItems.filter { built.contains($0.key) }.map(\.value)
                            : [Self.actionOfOperation[operation.name] ?? operation.name]
                        for action in sentActions where actions[action] == nil { actions[action] = place }
                    }
                }
            }
            sent[product] = actions
            names[product] = reached.names
        }
        self.sent = sent
        self.names = names
    }

    /// Target name → the local targets it depends on, from `Package.swift`'s text.
    static func targets(_ package: String) -> [String: [String]] {
        var targets: [String: [String]] = [:]
        let pattern = #"\.(?:target|executableTarget|testTarget)\(\s*name: "(\w+)"(?:, dependencies: \[([^\]]*)\])?"#
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return [:] }
        let text = package as NSString
        for match in expression.matches(in: package, range: NSRange(location: 0, length: text.length)) {
            let name = text.substring(with: match.range(at: 1))
            let list = match.range(at: 2).location == NSNotFound ? "" : text.substring(with: match.range(at: 2))
            // `.product(name: "Logging", package: …)` entries are outside the package: their strings name no target here.
            let plain = list.replacingOccurrences(of: #"\.product\([^)]*\)"#, with: "", options: .regularExpression)
            targets[name] = Self.allMatches(#""(\w+)""#, in: plain)
        }
        return targets
    }

    /// Names reached from the roots, and each call on the way with the first place it is made.
    static func reach(_ declarations: [Declaration], receivers: Receivers) -> (names: Set<String>, calls: [(call: Call, caller: String)]) {
        let byName = Dictionary(grouping: declarations, by: \.name)
        var names: Set<String> = []
        var calls: [Call: String] = [:]
        var pending = declarations.filter(\.isRoot)
        var visited: Set<Int> = []
        while let declaration = pending.popLast() {
            guard visited.insert(declaration.id).inserted else { continue }
            names.formUnion(declaration.references)
            for name in declaration.references {
                pending += (byName[name] ?? []).filter { !$0.isFunction || $0.file == declaration.file && declaration.values.contains(name) }
            }
            for call in declaration.calls where calls[call] == nil {
                calls[call] = "\(declaration.file):\(call.line)"
                names.insert(call.name)
                // `f(…)` without a receiver is a function of the caller's own type, a protocol's or a free one;
                // `x.f(…)` one of x's types when they are known.
                let types: Set<String>? = call.isMember ? receivers.types(of: call) : Set([declaration.type].compactMap { $0 })
                pending += (byName[call.name] ?? []).filter { callee in
                    guard callee.isFunction else { return true }
                    guard callee.parameters.accept(call) else { return false }
                    guard let types, let type = callee.type else { return call.isMember || callee.type == nil }
                    return types.contains(type) || receivers.protocols.contains(type)
                }
            }
        }
        return (names, calls.map { (call: $0.key, caller: $0.value) }.sorted { $0.caller < $1.caller })
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

/// What the receiver of `x.f(…)` may be, where the sources say.
struct Receivers {
    static let unknown = "?"
    let protocols: Set<String>
    /// `scanner: CSVScanner`, `s3 = S3(…)`: the types each name is given anywhere.
    let typed: [String: Set<String>]

    init(_ declarations: [Declaration]) {
        protocols = Set(declarations.filter(\.isProtocol).map(\.name))
        typed = Dictionary(grouping: declarations.flatMap(\.typings), by: \.name).mapValues { Set($0.map(\.type)) }
    }

    /// A type named (`JobTable.names(…)`), or the types a variable is given; nil when unknown
    /// (no receiver, `self`, `Self`, an expression, a binding of unwritten type or a protocol among them).
    func types(of call: Call) -> Set<String>? {
        guard let receiver = call.receiver, receiver != "Self" else { return nil }
        let types = receiver.first?.isUppercase == true ? [receiver] : typed[receiver] ?? []
        return types.isEmpty || types.contains(Self.unknown) || !types.isDisjoint(with: protocols) ? nil : types
    }
}

/// A method of an AWSServices client type and the operations it sends, itself or through
/// another method of its type.
struct ServiceMethod {
    var type: String
    var name: String
    var parameters: [Declaration.Parameter]
    /// `dynamodb:GetItem`, and where the name is written.
    var operations: [(name: String, site: String)]

    /// Every method of a type built with a service (`service: .dynamoDB`), Provisioning included:
    /// a method counts only where a program calls it.
    static func all(in folder: URL) throws -> [ServiceMethod] {
        let root = Repository.root
        let serviceFile = try String(contentsOf: root.appendingPathComponent("Sources/AWSCore/AWSService.swift"), encoding: .utf8)
        let signingNames = Dictionary(
            CodeOperations.allMatches(#"static let (\w+ = AWSService\([^)]*?signingName: "\w+)""#, in: serviceFile).compactMap { pair -> (String, String)? in
                let parts = pair.components(separatedBy: " = AWSService(")
                guard let name = parts.first, let signing = CodeOperations.firstMatch(#"signingName: "(\w+)"#, in: pair) else { return nil }
                return (name, signing)
            }, uniquingKeysWith: { first, _ in first })
        let files = try CodeOperations.swiftFiles(folder)
        // A client type → its service's signing name: `struct S3` … `service: .s3` in one file.
        var prefixes: [String: String] = [:]
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            guard let type = CodeOperations.firstMatch(#"^public struct (\w+)"#, in: text),
                  let service = CodeOperations.firstMatch(#"service: \.(\w+)"#, in: text), let prefix = signingNames[service] else { continue }
            prefixes[type] = prefix
        }
        var methods: [ServiceMethod] = []
        var callees: [[String]] = []
        for file in files {
            for declaration in try Declaration.all(in: file, root: false) where declaration.isFunction {
                guard let type = declaration.type, let prefix = prefixes[type] else { continue }
                methods.append(ServiceMethod(
                    type: type, name: declaration.name, parameters: declaration.parameters,
                    operations: declaration.operations.map { ("\(prefix):\($0.name)", "\(declaration.file):\($0.line)") }))
                callees.append(declaration.calls.map(\.name))
            }
        }
        // What a method sends through others of its type, until nothing more is added.
        var changed = true
        while changed {
            changed = false
            for index in methods.indices {
                let known = Set(methods[index].operations.map(\.name))
                let through = methods.filter { $0.type == methods[index].type && callees[index].contains($0.name) }.flatMap(\.operations)
                let new = through.filter { !known.contains($0.name) }
                guard !new.isEmpty else { continue }
                methods[index].operations += Dictionary(new.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }).values.sorted { $0.name < $1.name }
                changed = true
            }
        }
        return methods.filter { !$0.operations.isEmpty }
    }
}

/// A call `name(…)`, `x.name(…)` (a member) or `name { … }`: its argument labels (nil for an
/// unlabelled one) and whether a closure follows.
struct Call: Hashable {
    var name: String
    var isMember: Bool
    /// `x` in `x.name(…)`, when a plain identifier.
    var receiver: String?
    var labels: [String?]
    var hasTrailingClosure: Bool
    var line: Int
}

extension [Declaration.Parameter] {
    /// Whether a call's labels fit: in order, those left out having defaults, but for the last
    /// when a closure follows (`for x in files {` is no call of `files(bucket:key:)`).
    func accept(_ call: Call) -> Bool {
        var labels = call.labels[...]
        var closures = call.hasTrailingClosure ? 1 : 0
        for parameter in self {
            if let label = labels.first, label == parameter.label {
                labels = labels.dropFirst()
            } else if !parameter.hasDefault {
                guard labels.isEmpty, closures > 0 else { return false }
                closures -= 1
            }
        }
        return labels.isEmpty
    }
}

/// A piece of Swift code reached as a whole: a function's or initializer's body (named after the
/// function, or the type for an initializer), or a type's code outside them (named after the type).
struct Declaration {
    struct Parameter {
        /// The argument label; nil for `_`.
        var label: String?
        var hasDefault: Bool
    }

    nonisolated(unsafe) private static var counter = 0
    let id: Int
    let name: String
    let isRoot: Bool
    let isType: Bool
    let isProtocol: Bool
    let isFunction: Bool
    /// The innermost type or extension it is declared in.
    let type: String?
    /// The file, relative to the repository.
    let file: String
    var parameters: [Parameter] = []
    /// Identifiers named other than as the callee of a call.
    var references: Set<String> = []
    /// Of those, the ones that may be a function as a value: `f` or `Self.f`, not `.f` (an enum case) or `x.f`.
    var values: Set<String> = []
    /// `name: Type` and `name = Type(…)`: the types a name is given (`Receivers.unknown` where not written).
    var typings: [(name: String, type: String)] = []
    var calls: [Call] = []
    /// `call("GetItem", …)` / `send("PutObject", …)`: an operation named where it is sent.
    var operations: [(name: String, line: Int)] = []

    init(name: String, isRoot: Bool, isType: Bool = false, isProtocol: Bool = false, isFunction: Bool = false, type: String?, file: String) {
        Self.counter += 1
        id = Self.counter
        self.name = name
        self.isRoot = isRoot
        self.isType = isType
        self.isProtocol = isProtocol
        self.isFunction = isFunction
        self.type = type
        self.file = file
    }

    private static let typeKeywords: Set<String> = ["struct", "class", "enum", "actor", "extension", "protocol"]

    /// A file's declarations; every one a root for the executable target's files (`root`).
    static func all(in url: URL, root: Bool) throws -> [Declaration] {
        let tokens = Token.scan(try String(contentsOf: url, encoding: .utf8))
        let file = String(url.path.dropFirst(Repository.root.path.count).drop { $0 == "/" })
        let texts = tokens.map(\.text)
        var finished: [Declaration] = []
        // The open scopes, each with the brace depth it began at; the file's top level is always open.
        var scopes: [(declaration: Declaration, depth: Int)] = [(Declaration(name: "(file)", isRoot: true, type: nil, file: file), -1)]
        var depth = 0
        var index = 0
        var pending: Declaration?
        var enclosingType: String? { scopes.last { $0.declaration.isType }?.declaration.name }
        func note(_ name: String) { scopes[scopes.count - 1].declaration.references.insert(name) }
        while index < tokens.count {
            let token = texts[index]
            switch token {
            case "{":
                if let declaration = pending { scopes.append((declaration, depth)) }
                pending = nil
                depth += 1
            case "}":
                depth -= 1
                if scopes.count > 1, scopes[scopes.count - 1].depth == depth { finished.append(scopes.removeLast().declaration) }
            case "func" where index + 1 < tokens.count:
                let name = texts[index + 1]
                var function = Declaration(
                    name: name.first?.isLetter == true || name.first == "_" ? name : "(operator)", isRoot: root, isFunction: true,
                    type: enclosingType, file: file)
                (index, function.parameters) = parameters(texts, from: index + 1)
                pending = function
                continue
            case "init" where index == 0 || texts[index - 1] != ".":
                // An initializer is reached through its type's name (`.init(…)` is a call, below).
                var initializer = Declaration(name: enclosingType ?? "init", isRoot: root, type: enclosingType, file: file)
                (index, initializer.parameters) = parameters(texts, from: index + 1)
                pending = initializer
                continue
            case _ where typeKeywords.contains(token) && index + 1 < tokens.count:
                pending = Declaration(
                    name: texts[index + 1], isRoot: root, isType: true, isProtocol: token == "protocol", type: enclosingType, file: file)
                note(texts[index + 1])
                index += 2
                continue
            default:
                guard token.first?.isLetter == true || token.first == "_" else { break }
                let before = index > 0 ? texts[index - 1] : ""
                let after = index + 1 < tokens.count ? texts[index + 1] : ""
                switch after {
                case "(":
                    let (end, arguments) = split(texts, from: index + 1)
                    let labels = arguments.map { $0.count > 1 && $0[1] == ":" && $0[0].first?.isLetter == true ? $0[0] : nil }
                    let receiver = index > 1 && before == "." && texts[index - 2].first?.isLetter == true ? texts[index - 2] : nil
                    scopes[scopes.count - 1].declaration.calls.append(Call(
                        name: token, isMember: before == ".", receiver: receiver, labels: labels, hasTrailingClosure: end < tokens.count && texts[end] == "{",
                        line: tokens[index].line))
                case "{":
                    scopes[scopes.count - 1].declaration.calls.append(
                        Call(name: token, isMember: before == ".", labels: [], hasTrailingClosure: true, line: tokens[index].line))
                default:
                    note(token)
                    if before != "." || (index > 1 && ["self", "Self"].contains(texts[index - 2])) {
                        scopes[scopes.count - 1].declaration.values.insert(token)
                    }
                    let type = after == ":" || after == "=" ? texts[(index + 2)...].first { $0 != "try" && $0 != "await" } : nil
                    if let type, type.first?.isUppercase == true {
                        scopes[scopes.count - 1].declaration.typings.append((token, type))
                    } else if before == "let" || before == "var" || before == "for" || after == "in",
                              texts[(index + 1)...].prefix(4) != ["=", "self", ".", token] {
                        // Bound to something of a type not written here (a copy of `self.name` has the
                        // property's): the name's types are unknown.
                        scopes[scopes.count - 1].declaration.typings.append((token, Receivers.unknown))
                    }
                }
                if token == "call" || token == "send", index + 2 < tokens.count, texts[index + 2].first == "\"" {
                    scopes[scopes.count - 1].declaration.operations.append((String(texts[index + 2].dropFirst()), tokens[index + 2].line))
                }
            }
            index += 1
        }
        return finished + scopes.map(\.declaration)
    }

    /// A declaration's parameter list `( … )`, and the token after it.
    private static func parameters(_ tokens: [String], from start: Int) -> (Int, [Parameter]) {
        var index = start
        while index < tokens.count, tokens[index] != "(", tokens[index] != "{" { index += 1 }
        guard index < tokens.count, tokens[index] == "(" else { return (index, []) }
        let (end, pieces) = split(tokens, from: index)
        return (end, pieces.compactMap { piece in
            piece.first.map { Parameter(label: $0 == "_" ? nil : $0, hasDefault: piece.contains("=")) }
        })
    }

    /// The comma-separated pieces of the bracketed list opening at `start` (nested brackets kept
    /// whole), and the token after its close.
    private static func split(_ tokens: [String], from start: Int) -> (Int, [[String]]) {
        var pieces: [[String]] = [[]]
        var level = 0
        var index = start
        repeat {
            let token = tokens[index]
            if "([{".contains(token) { level += 1 } else if ")]}".contains(token) { level -= 1 }
            if level == 1 && token == "," {
                pieces.append([])
            } else if level > 1 || (level == 1 && token != "(") {
                pieces[pieces.count - 1].append(token)
            }
            index += 1
        } while index < tokens.count && level > 0
        return (index, pieces.filter { !$0.isEmpty })
    }
}

/// Swift source as identifiers, punctuation and string literals (`"` and their text, when they
/// have no interpolation: an operation's name), without comments; an interpolation is code, and kept.
struct Token {
    var text: String
    var line: Int

    static func scan(_ text: String) -> [Token] {
        let characters = Array(text.unicodeScalars)
        var lines: [Int] = []
        lines.reserveCapacity(characters.count)
        var line = 1
        for character in characters {
            lines.append(line)
            if character == "\n" { line += 1 }
        }
        var tokens: [Token] = []
        scan(characters[...], lines: lines, into: &tokens)
        return tokens
    }

    private static func isWord(_ character: Unicode.Scalar) -> Bool { CharacterSet.alphanumerics.contains(character) || character == "_" }

    private static func scan(_ characters: ArraySlice<Unicode.Scalar>, lines: [Int], into tokens: inout [Token]) {
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
                index = string(characters, from: index, lines: lines, into: &tokens)
            } else if isWord(character) {
                let start = index
                var word = ""
                while index < characters.endIndex, isWord(characters[index]) {
                    word.unicodeScalars.append(characters[index])
                    index += 1
                }
                tokens.append(Token(text: word, line: lines[start]))
            } else {
                if !CharacterSet.whitespacesAndNewlines.contains(character) { tokens.append(Token(text: String(character), line: lines[index])) }
                index += 1
            }
        }
    }

    /// Past a string literal (`"…"`, `"""…"""`, `#"…"#`), its interpolations scanned as code.
    private static func string(_ characters: ArraySlice<Unicode.Scalar>, from start: Int, lines: [Int], into tokens: inout [Token]) -> Int {
        var index = start
        var hashes = 0
        while index < characters.endIndex, characters[index] == "#" {
            hashes += 1
            index += 1
        }
        let multiline = index + 2 < characters.endIndex && characters[index + 1] == "\"" && characters[index + 2] == "\""
        let quotes = multiline ? 3 : 1
        index += quotes
        let contents = index
        var interpolated = false
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
                    scan(characters[(escape + 1)..<max(escape + 1, end - 1)], lines: lines, into: &tokens)
                    interpolated = true
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
                if count == quotes && closing == hashes {
                    if !interpolated {
                        var literal = "\""
                        literal.unicodeScalars.append(contentsOf: characters[contents..<index])
                        tokens.append(Token(text: literal, line: lines[start]))
                    }
                    return end
                }
                index = end
                continue
            }
            index += 1
        }
        return index
    }
}
