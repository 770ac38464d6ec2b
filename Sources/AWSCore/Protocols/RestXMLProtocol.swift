import CurlHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// REST-XML (S3): input in the path, query and headers, raw or XML bodies, XML errors.
public struct RestXMLProtocolClient: Sendable {
    public let client: AWSClient
    public let service: AWSService

    public init(client: AWSClient, service: AWSService) {
        self.client = client
        self.service = service
    }

    public func send(_ operation: String, _ request: AWSRequest) throws(AWSError) -> HTTPResponse {
        try client.send(request, service: service, operation: operation, decodeError: XMLErrorDecoder.decode)
    }

    /// Sends and parses an XML answer.
    public func call(_ operation: String, _ request: AWSRequest) throws(AWSError) -> XML.Element {
        let response = try send(operation, request)
        do {
            return try XML.parse(response.body)
        } catch {
            throw .invalidResponse(
                "response is not XML: \(error)", service: service.name, operation: operation, status: response.status,
                requestID: response.headers["x-amz-request-id"])
        }
    }
}
