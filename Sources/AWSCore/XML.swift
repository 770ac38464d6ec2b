#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A small XML reader for AWS responses. Foundation's XMLParser lives in full Foundation,
/// which the bootstraps do not ship; AWS's XML needs elements, text, entities (named and
/// numeric), CDATA, comments and the prolog — attributes and namespaces carry nothing we read.
public enum XML {
    public struct Element: Sendable, Equatable {
        /// The local name: a `prefix:` is dropped.
        public var name: String
        public var children: [Element]
        /// The character data directly inside this element, entities decoded.
        public var text: String

        public init(name: String, children: [Element] = [], text: String = "") {
            self.name = name
            self.children = children
            self.text = text
        }

        public func child(_ name: String) -> Element? {
            children.first { $0.name == name }
        }

        public func children(_ name: String) -> [Element] {
            children.filter { $0.name == name }
        }

        /// Follows a path of child names: `element["reservationSet", "item"]`.
        public subscript(path: String...) -> Element? {
            var current = self
            for name in path {
                guard let next = current.child(name) else { return nil }
                current = next
            }
            return current
        }

        /// The text of the first child called `name`.
        public func string(_ name: String) -> String? {
            child(name)?.text
        }

        /// The first element called `name` here or below, depth first.
        public func first(named name: String) -> Element? {
            if self.name == name { return self }
            for child in children {
                if let found = child.first(named: name) { return found }
            }
            return nil
        }

        /// `<item>` children of the child `name`: EC2's and S3's list shape.
        public func items(_ name: String, item: String = "item") -> [Element] {
            child(name)?.children(item) ?? []
        }
    }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var offset: Int
        public var description: String { "XML parse error at byte \(offset): \(message)" }
    }

    public static func parse(_ data: Data) throws(ParseError) -> Element {
        var parser = Parser(bytes: Array(data))
        return try parser.document()
    }

    public static func parse(_ text: String) throws(ParseError) -> Element {
        try parse(Data(text.utf8))
    }

    /// Escapes text for element content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}

private struct Parser {
    let bytes: [UInt8]
    var index = 0
    var stack: [XML.Element] = []
    var root: XML.Element?

    init(bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }  // UTF-8 byte order mark
    }

    mutating func document() throws(XML.ParseError) -> XML.Element {
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "<") {
                try markup()
            } else {
                try characterData()
            }
        }
        guard stack.isEmpty else { throw fail("unclosed element <\(stack.last?.name ?? "")>") }
        guard let root else { throw fail("no root element") }
        return root
    }

    private mutating func markup() throws(XML.ParseError) {
        if starts("<?") {
            try skip(past: "?>")
        } else if starts("<!--") {
            try skip(past: "-->")
        } else if starts("<![CDATA[") {
            index += 9
            let start = index
            try skip(past: "]]>")
            try appendText(String(decoding: bytes[start..<(index - 3)], as: UTF8.self))
        } else if starts("<!") {
            try skipDeclaration()
        } else if starts("</") {
            index += 2
            let name = readName()
            skipSpaces()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw fail("malformed end tag </\(name)") }
            index += 1
            guard let open = stack.popLast() else { throw fail("end tag </\(name)> without a start tag") }
            guard open.name == localName(name) else { throw fail("</\(name)> closes <\(open.name)>") }
            try finish(open)
        } else {
            index += 1
            let name = readName()
            guard !name.isEmpty else { throw fail("element without a name") }
            let selfClosing = try skipAttributes()
            let element = XML.Element(name: localName(name))
            if selfClosing { try finish(element) } else { stack.append(element) }
        }
    }

    private mutating func characterData() throws(XML.ParseError) {
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "<") { index += 1 }
        let raw = bytes[start..<index]
        if stack.isEmpty {
            guard raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else {
                throw XML.ParseError(message: "text outside the root element", offset: start)
            }
            return
        }
        try appendText(decodeEntities(raw, at: start))
    }

    private mutating func appendText(_ text: String) throws(XML.ParseError) {
        guard !stack.isEmpty else { throw fail("text outside the root element") }
        stack[stack.count - 1].text += text
    }

    private mutating func finish(_ element: XML.Element) throws(XML.ParseError) {
        if stack.isEmpty {
            guard root == nil else { throw fail("a second root element <\(element.name)>") }
            root = element
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }

    private func starts(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return text.withUTF8Buffer { bytes[index..<(index + count)].elementsEqual($0) }
    }

    private mutating func skip(past terminator: StaticString) throws(XML.ParseError) {
        let start = index
        while index < bytes.count {
            if starts(terminator) {
                index += terminator.utf8CodeUnitCount
                return
            }
            index += 1
        }
        throw XML.ParseError(message: "unterminated markup", offset: start)
    }

    /// `<!DOCTYPE …>`, possibly with an internal subset in brackets.
    private mutating func skipDeclaration() throws(XML.ParseError) {
        let start = index
        var depth = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ">") where depth <= 0:
                index += 1
                return
            default: break
            }
            index += 1
        }
        throw XML.ParseError(message: "unterminated declaration", offset: start)
    }

    private mutating func readName() -> String {
        let start = index
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"),
                 UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "="):
                return String(decoding: bytes[start..<index], as: UTF8.self)
            default:
                index += 1
            }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func skipSpaces() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    /// Skips attributes (quoted values may hold `>`); true when the tag closes itself.
    private mutating func skipAttributes() throws(XML.ParseError) -> Bool {
        let start = index
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                let quote = bytes[index]
                index += 1
                while index < bytes.count, bytes[index] != quote { index += 1 }
                index += 1
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: ">"):
                index += 2
                return true
            case UInt8(ascii: ">"):
                index += 1
                return false
            default:
                index += 1
            }
        }
        throw XML.ParseError(message: "unterminated start tag", offset: start)
    }

    private func localName(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":") else { return name }
        return String(name[name.index(after: colon)...])
    }

    private func decodeEntities(_ raw: ArraySlice<UInt8>, at offset: Int) throws(XML.ParseError) -> String {
        guard raw.contains(UInt8(ascii: "&")) else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            guard raw[i] == UInt8(ascii: "&"), let semicolon = raw[i...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                out.append(raw[i])
                i += 1
                continue
            }
            let entity = String(decoding: raw[(i + 1)..<semicolon], as: UTF8.self)
            if let scalar = Self.scalar(for: entity) {
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
                i = semicolon + 1
            } else {
                throw XML.ParseError(message: "unknown entity &\(entity);", offset: offset + (i - raw.startIndex))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func scalar(for entity: String) -> Unicode.Scalar? {
        switch entity {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        default:
            guard entity.hasPrefix("#") else { return nil }
            let number = entity.dropFirst()
            let value = number.hasPrefix("x") || number.hasPrefix("X") ? UInt32(number.dropFirst(), radix: 16) : UInt32(number, radix: 10)
            return value.flatMap(Unicode.Scalar.init)
        }
    }

    private func fail(_ message: String) -> XML.ParseError {
        XML.ParseError(message: message, offset: index)
    }
}
