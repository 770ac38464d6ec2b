import CurlHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// AWS JSON 1.0 / 1.1: every operation POSTs to `/` with `X-Amz-Target: <prefix>.<Operation>`
/// (DynamoDB, SQS, CloudWatch Logs).
public struct JSONProtocolClient: Sendable {
    public let client: AWSClient
    public let service: AWSService
    public let contentType: String
    public let targetPrefix: String

    /// `version` is `1.0` or `1.1`; `targetPrefix` as in `DynamoDB_20120810`.
    public init(client: AWSClient, service: AWSService, version: String, targetPrefix: String) {
        self.client = client
        self.service = service
        self.contentType = "application/x-amz-json-\(version)"
        self.targetPrefix = targetPrefix
    }

    public func call<Output: Decodable>(_ operation: String, _ input: some Encodable, as output: Output.Type = Output.self) throws(AWSError) -> Output {
        let body = try AWSJSON.encode(input, service: service, operation: operation)
        let request = AWSRequest(
            method: "POST", headers: ["Content-Type": contentType, "X-Amz-Target": "\(targetPrefix).\(operation)"], body: body)
        let response = try client.send(request, service: service, operation: operation, decodeError: JSONErrorDecoder.decode)
        return try AWSJSON.decode(output, from: response, service: service, operation: operation)
    }
}
