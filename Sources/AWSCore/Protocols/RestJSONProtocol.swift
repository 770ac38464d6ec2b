import CurlHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// REST-JSON: the operation is the method and path, input goes into labels, query, headers and
/// a JSON body (Batch, Lambda).
public struct RestJSONProtocolClient: Sendable {
    public let client: AWSClient
    public let service: AWSService

    public init(client: AWSClient, service: AWSService) {
        self.client = client
        self.service = service
    }

    public func call<Output: Decodable>(
        _ operation: String, method: String, path: String, query: [(String, String)] = [], headers: HTTPHeaders = [:],
        body: some Encodable, as output: Output.Type = Output.self
    ) throws(AWSError) -> Output {
        var headers = headers
        headers.set("Content-Type", "application/json")
        let data = try AWSJSON.encode(body, service: service, operation: operation)
        let response = try send(operation, AWSRequest(method: method, path: path, query: query, headers: headers, body: data))
        return try AWSJSON.decode(output, from: response, service: service, operation: operation)
    }

    /// The raw response, for operations whose body is not JSON (Lambda's payload).
    public func send(_ operation: String, _ request: AWSRequest) throws(AWSError) -> HTTPResponse {
        try client.send(request, service: service, operation: operation, decodeError: JSONErrorDecoder.decode)
    }

    /// A path label: everything but the unreserved characters encoded, `/` included.
    public static func label(_ value: String) -> String {
        URIEncoding.encode(value)
    }
}
