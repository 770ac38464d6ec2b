#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CurlHTTP

/// An error that names its own `errorType` in the report Lambda shows the caller.
public protocol LambdaFunctionError: Error {
    var errorType: String { get }
}

/// The body of `/invocation/{id}/error` and `/init/error`, as the Runtime API documents it.
struct ErrorReport: Codable, Sendable, Equatable {
    var errorMessage: String
    var errorType: String
    var stackTrace: [String] = []

    init(errorMessage: String, errorType: String) {
        self.errorMessage = errorMessage
        self.errorType = errorType
    }

    init(_ error: any Error) {
        errorMessage = String(describing: error)
        errorType = (error as? any LambdaFunctionError)?.errorType ?? String(describing: type(of: error))
    }

    func json() -> Data {
        // Encoding three strings cannot fail; an empty body would still be a valid report.
        (try? JSONEncoder().encode(self)) ?? Data()
    }

    /// The header naming the error type on `/error`, and the trailer doing so after a streamed response.
    static let typeHeader = "Lambda-Runtime-Function-Error-Type"
    /// The trailer carrying the report after a streamed response, base64-encoded (a trailer is one line).
    static let bodyTrailer = "Lambda-Runtime-Function-Error-Body"

    /// The trailers that end a streamed response which failed after its first byte.
    func trailers() -> HTTPHeaders {
        [Self.typeHeader: errorType, Self.bodyTrailer: json().base64EncodedString()]
    }
}

/// The event did not decode as the handler's `Event` type; the message names the field or offset.
public struct EventDecodingError: LambdaFunctionError, CustomStringConvertible {
    public let errorType = "Runtime.UnmarshalError"
    public let description: String

    init(eventType: Any.Type, error: DecodingError) {
        description = "could not decode the event as \(eventType): \(Self.explain(error))"
    }

    static func explain(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(path(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context):
            return "field '\(path(context.codingPath))' is not \(article(type)) (\(context.debugDescription))"
        case .valueNotFound(let type, let context):
            return "field '\(path(context.codingPath))' is null, expected \(article(type))"
        case .dataCorrupted(let context):
            let underlying = context.underlyingError.map { ": \($0)" } ?? ""
            let field = context.codingPath.isEmpty ? "" : " at '\(path(context.codingPath))'"
            return "\(context.debugDescription)\(field)\(underlying)"
        @unknown default:
            return String(describing: error)
        }
    }

    /// `Records[0].s3.object.key`, the way a person would point at the field.
    static func path(_ keys: [any CodingKey]) -> String {
        guard !keys.isEmpty else { return "(root)" }
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    private static func article(_ type: Any.Type) -> String {
        let name = String(describing: type)
        return ("AEIOU".contains(name.prefix(1)) ? "an " : "a ") + name
    }
}
