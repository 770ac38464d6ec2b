import CurlHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Form parameters of the Query protocols (EC2's and the `awsQuery` of IAM, STS and SNS).
public struct QueryParameters: Sendable {
    public private(set) var pairs: [(String, String)] = []

    public init() {}

    public mutating func add(_ name: String, _ value: String?) {
        if let value { pairs.append((name, value)) }
    }

    public mutating func add(_ name: String, _ value: Int?) {
        if let value { pairs.append((name, String(value))) }
    }

    public mutating func add(_ name: String, _ value: Bool?) {
        if let value { pairs.append((name, value ? "true" : "false")) }
    }

    /// A list flattened the Query way: `name.1`, `name.2`, … (EC2), or with `.member` for awsQuery.
    public mutating func addList(_ name: String, _ values: [String]) {
        for (index, value) in values.enumerated() { pairs.append(("\(name).\(index + 1)", value)) }
    }
}

/// POSTs `Action=…&Version=…` forms and reads XML answers: EC2, IAM, STS, SNS.
public struct QueryProtocolClient: Sendable {
    public let client: AWSClient
    public let service: AWSService
    public let version: String

    public init(client: AWSClient, service: AWSService, version: String) {
        self.client = client
        self.service = service
        self.version = version
    }

    /// The response document's root element (`<RunInstancesResponse>`).
    public func call(_ action: String, _ parameters: QueryParameters = QueryParameters()) throws(AWSError) -> XML.Element {
        let body = URIEncoding.formEncode([("Action", action), ("Version", version)] + parameters.pairs)
        let request = AWSRequest(
            method: "POST", headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"], body: Data(body.utf8))
        let response = try client.send(request, service: service, operation: action, decodeError: XMLErrorDecoder.decode)
        do {
            return try XML.parse(response.body)
        } catch {
            throw .invalidResponse(
                "response is not XML: \(error)", service: service.name, operation: action, status: response.status,
                requestID: response.headers["x-amzn-RequestId"])
        }
    }
}
