import JSONText

/// Reading the feeds document by hand, over `JSONValue`: both chunk functions read it when they
/// start, where `JSONDecoder` cost half of their init in runtime lookups. Every mistake names the
/// feed and the key; a key the document does not define is a mistake too (a misspelt
/// `recordsPerMessage` would otherwise silently mean 1).
extension FeedCatalog {
    public init(document: some Collection<UInt8>) throws(FeedError) {
        let root: JSONValue
        do {
            root = try JSONValue(parsing: document)
        } catch {
            throw FeedError(feed: "", reason: "\(error)")
        }
        let top = try FeedObject(root, feed: "", path: "the document")
        try top.allow(["feeds"])
        guard case .array(let list)? = top.value("feeds") else {
            throw FeedError(feed: "", reason: "the document must be {\"feeds\": [...]}, got \(top.value("feeds")?.kind ?? "no 'feeds'")")
        }
        feeds = try list.enumerated().map { (index, value) throws(FeedError) in try Feed(value, index: index) }
        try validate()
    }
}

extension Feed {
    init(_ value: JSONValue, index: Int) throws(FeedError) {
        let unnamed = try FeedObject(value, feed: "#\(index + 1)", path: "")
        let name = try unnamed.string("name")
        let fields = try FeedObject(unnamed.value, feed: name, path: "")
        try fields.allow(["name", "prefix", "format", "delimiter", "header", "fields", "destination", "rejects", "batchTimeoutSeconds"])
        guard case .array(let rules)? = fields.value("fields") else { throw fields.fail("fields", "must be an array of field rules") }
        self.init(
            name: name, prefix: try fields.string("prefix"), format: try fields.string("format"), delimiter: try fields.optionalString("delimiter"),
            header: try fields.optionalBool("header"),
            fields: try rules.enumerated().map { (index, rule) throws(FeedError) in try FieldRule(rule, feed: name, index: index) },
            destination: try Destination(fields.object("destination")), rejects: try Self.rejects(fields.object("rejects")),
            batchTimeoutSeconds: try fields.optionalInt("batchTimeoutSeconds"))
    }

    private static func rejects(_ location: FeedObject) throws(FeedError) -> S3Location {
        try location.allow(["bucket", "prefix"])
        return try S3Location(location)
    }
}

extension FieldRule {
    init(_ value: JSONValue, feed: String, index: Int) throws(FeedError) {
        let rule = try FeedObject(value, feed: feed, path: "fields[\(index)]")
        try rule.allow(["name", "type", "required", "pattern"])
        let type = try rule.string("type")
        guard let kind = Kind(rawValue: type) else { throw rule.fail("type", "'\(type)' is not string, integer, number, boolean or date") }
        self.init(name: try rule.string("name"), type: kind, required: try rule.optionalBool("required"), pattern: try rule.optionalString("pattern"))
    }
}

extension S3Location {
    /// `prefix` is optional (the bucket's root); the caller says which other keys may be beside these.
    init(_ location: FeedObject) throws(FeedError) {
        self.init(bucket: try location.string("bucket"), prefix: try location.optionalString("prefix") ?? "")
    }
}

extension Destination {
    init(_ destination: FeedObject) throws(FeedError) {
        switch try destination.string("type") {
        case "sqs":
            try destination.allow(["type", "queueUrl", "recordsPerMessage"])
            let perMessage = try destination.optionalInt("recordsPerMessage") ?? 1
            guard perMessage >= 1 else { throw destination.fail("recordsPerMessage", "must be at least 1, not \(perMessage)") }
            self = .sqs(queueURL: try destination.string("queueUrl"), recordsPerMessage: perMessage)
        case "s3":
            try destination.allow(["type", "bucket", "prefix"])
            self = .s3(try S3Location(destination))
        case "kafka":
            self = .kafka(try KafkaDestination(destination))
        case let other:
            throw destination.fail("type", "unknown destination type '\(other)' (sqs, s3 or kafka)")
        }
    }
}

extension KafkaDestination {
    init(_ destination: FeedObject) throws(FeedError) {
        let keys = ["type", "bootstrapServers", "topic", "auth", "tls", "key", "compression"]
        try destination.allow(keys, saying: "unknown for type kafka (it takes \(keys.dropFirst().joined(separator: ", ")))")
        let servers = try destination.string("bootstrapServers", "required (host:port, comma-separated)")
        let bootstrapServers = servers.split(separator: ",").map { String($0.filter { $0 != " " }) }.filter { !$0.isEmpty }
        for server in bootstrapServers {
            guard let colon = server.lastIndex(of: ":"), colon != server.startIndex, let port = Int(server[server.index(after: colon)...]), (1...65535).contains(port) else {
                throw destination.fail("bootstrapServers", "'\(server)' is not host:port")
            }
        }
        guard !bootstrapServers.isEmpty else { throw destination.fail("bootstrapServers", "names no server") }
        let topic = try destination.string("topic")
        guard !topic.isEmpty, topic.count <= 249, topic != ".", topic != "..",
            topic.utf8.allSatisfy({ $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        else { throw destination.fail("topic", "'\(topic)' is not a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -)") }
        let authText = try destination.optionalString("auth") ?? "none"
        guard let auth = Auth(rawValue: authText) else { throw destination.fail("auth", "'\(authText)' is not one of \(Auth.allCases.map(\.rawValue).joined(separator: ", "))") }
        let tls = try destination.optionalBool("tls") ?? (auth != .none)
        if auth != .none && !tls { throw destination.fail("tls", "must be true with auth \(auth.rawValue): MSK takes SASL only over TLS") }
        let compressionText = try destination.optionalString("compression") ?? "none"
        guard let compression = Compression(rawValue: compressionText) else {
            throw destination.fail("compression", "'\(compressionText)' is not one of \(Compression.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.init(bootstrapServers: bootstrapServers, topic: topic, auth: auth, tls: tls, key: try destination.optionalString("key"), compression: compression)
    }
}

/// One object of the document, and where it is, for errors: "feed 'orders': destination key 'topic': …".
struct FeedObject {
    let value: JSONValue
    let feed: String
    let path: String

    init(_ value: JSONValue, feed: String, path: String) throws(FeedError) {
        guard case .object = value else { throw FeedError(feed: feed, reason: "\(path.isEmpty ? "the feed" : path) must be an object, got \(value.kind)") }
        self.value = value
        self.feed = feed
        self.path = path
    }

    func fail(_ key: String, _ reason: String) -> FeedError {
        FeedError(feed: feed, reason: (path.isEmpty ? "key" : "\(path) key") + " '\(key)': \(reason)")
    }

    func value(_ key: String) -> JSONValue? {
        value[key]
    }

    /// `reason` is only made for a document that has an unknown key (an autoclosure: a function's init reads this).
    func allow(_ keys: [String], saying reason: @autoclosure () -> String? = nil) throws(FeedError) {
        guard case .object(let members) = value, let unknown = members.first(where: { !keys.contains($0.key) }) else { return }
        throw fail(unknown.key, reason() ?? "unknown (it takes \(keys.joined(separator: ", ")))")
    }

    func object(_ key: String) throws(FeedError) -> FeedObject {
        guard let member = value[key] else { throw fail(key, "required") }
        return try FeedObject(member, feed: feed, path: key)
    }

    func string(_ key: String, _ missing: String = "required") throws(FeedError) -> String {
        guard let text = try optionalString(key) else { throw fail(key, missing) }
        return text
    }

    func optionalString(_ key: String) throws(FeedError) -> String? {
        switch value[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw fail(key, "must be a string, got \(other.kind)")
        }
    }

    func optionalBool(_ key: String) throws(FeedError) -> Bool? {
        switch value[key] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?: throw fail(key, "must be true or false, got \(other.kind)")
        }
    }

    func optionalInt(_ key: String) throws(FeedError) -> Int? {
        switch value[key] {
        case nil, .null?: return nil
        case .number(let text)?:
            guard let number = Int(text) else { throw fail(key, "must be a whole number, got \(text)") }
            return number
        case let other?: throw fail(key, "must be a whole number, got \(other.kind)")
        }
    }
}
