import CurlHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Error bodies of the XML protocols: EC2's `<Response><Errors><Error>…</Errors><RequestID>`,
/// the Query services' `<ErrorResponse><Error>…</Error><RequestId>` and S3's `<Error>…<RequestId>`.
public enum XMLErrorDecoder {
    public static func decode(_ response: HTTPResponse) -> ServiceErrorFields {
        let headerID = response.headers["x-amz-request-id"] ?? response.headers["x-amzn-RequestId"]
        guard !response.body.isEmpty, let root = try? XML.parse(response.body), let error = root.first(named: "Error") else {
            return .fromStatus(response.status, requestID: headerID)
        }
        let requestID = root.first(named: "RequestID")?.text ?? root.first(named: "RequestId")?.text ?? headerID
        guard let code = error.string("Code"), !code.isEmpty else {
            var fields = ServiceErrorFields.fromStatus(response.status, requestID: requestID)
            fields.message = error.string("Message") ?? ""
            return fields
        }
        return ServiceErrorFields(code: code, message: error.string("Message") ?? "", requestID: requestID)
    }
}

/// Error bodies of the JSON protocols: the code from `x-amzn-ErrorType`, `__type`, `code` or
/// `Code`, with any `namespace#` prefix and `:detail` suffix removed; the message from
/// `message`, `Message` or `errorMessage`.
public enum JSONErrorDecoder {
    struct Body: Decodable {
        var type: String?
        var code: String?
        var Code: String?
        var message: String?
        var Message: String?
        var errorMessage: String?

        enum CodingKeys: String, CodingKey {
            case type = "__type", code, Code, message, Message, errorMessage
        }
    }

    public static func decode(_ response: HTTPResponse) -> ServiceErrorFields {
        let requestID = response.headers["x-amzn-RequestId"] ?? response.headers["x-amz-request-id"]
        // Front ends (and moto's signature check) can answer a JSON service in XML.
        if response.headers["x-amzn-ErrorType"] == nil, response.body.first(where: { $0 > 0x20 }) == UInt8(ascii: "<") {
            var fields = XMLErrorDecoder.decode(response)
            fields.requestID = fields.requestID ?? requestID
            return fields
        }
        let body = response.body.isEmpty ? nil : try? JSONDecoder().decode(Body.self, from: response.body)
        let raw = response.headers["x-amzn-ErrorType"] ?? body?.type ?? body?.code ?? body?.Code
        guard let raw, case let code = sanitize(raw), !code.isEmpty else {
            var fields = ServiceErrorFields.fromStatus(response.status, requestID: requestID)
            fields.message = body?.message ?? body?.Message ?? ""
            return fields
        }
        return ServiceErrorFields(code: code, message: body?.message ?? body?.Message ?? body?.errorMessage ?? "", requestID: requestID)
    }

    /// `aws.dynamodb#ConditionalCheckFailedException:http://…` → `ConditionalCheckFailedException`.
    public static func sanitize(_ raw: String) -> String {
        var code = Substring(raw)
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        return String(code.trimmingSpaces)
    }
}

/// JSON coding shared by the JSON protocols.
enum AWSJSON {
    static func encode(_ value: some Encodable, service: AWSService, operation: String) throws(AWSError) -> Data {
        do {
            return try JSONEncoder().encode(value)
        } catch {
            throw .configuration("cannot encode the request: \(error)", service: service.name, operation: operation)
        }
    }

    /// An empty body decodes as `{}`: operations with no output answer with nothing at all.
    static func decode<Output: Decodable>(_ type: Output.Type, from response: HTTPResponse, service: AWSService, operation: String) throws(AWSError) -> Output {
        do {
            return try JSONDecoder().decode(type, from: response.body.isEmpty ? Data("{}".utf8) : response.body)
        } catch {
            throw .invalidResponse(
                "response is not the expected JSON: \(error)", service: service.name, operation: operation,
                status: response.status, requestID: response.headers["x-amzn-RequestId"])
        }
    }
}

/// The output of operations that return nothing worth reading.
public struct EmptyOutput: Codable, Sendable, Equatable {
    public init() {}
}
