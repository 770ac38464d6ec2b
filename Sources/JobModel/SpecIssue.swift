/// One problem with a job spec: where it is (file, line, field) and what was expected.
public struct SpecIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public var location: SourceLocation?
    /// The field's path, `steps[1].timeout`; `(spec)` for the document itself.
    public var field: String
    public var message: String

    public init(file: String? = nil, location: SourceLocation? = nil, field: String, message: String) {
        self.file = file
        self.location = location
        self.field = field
        self.message = message
    }

    /// `jobs/etl.yaml:12:5: steps[1].timeout: expected …`, the way compilers point at things.
    public var description: String {
        var place = file ?? ""
        if let location { place += place.isEmpty ? "line \(location)" : ":\(location)" }
        return place.isEmpty ? "\(field): \(message)" : "\(place): \(field): \(message)"
    }
}

/// Everything wrong with one spec, in source order.
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var issues: [SpecIssue]

    public init(_ issues: [SpecIssue]) {
        self.issues = issues
    }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
