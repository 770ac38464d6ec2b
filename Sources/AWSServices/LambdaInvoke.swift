import AWSCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Lambda's Invoke over REST-JSON: Sortie fires functions asynchronously.
public struct LambdaInvoke: Sendable {
    let rest: RestJSONProtocolClient

    public init(client: AWSClient) {
        rest = RestJSONProtocolClient(client: client, service: .lambda)
    }

    public enum InvocationType: String, Sendable {
        /// Queued: Lambda answers 202 at once and runs the function later, retrying on failure.
        case event = "Event"
        case requestResponse = "RequestResponse"
        case dryRun = "DryRun"
    }

    public struct InvokeOutput: Sendable {
        /// 202 for `Event`, 200 for `RequestResponse`, 204 for `DryRun`.
        public var statusCode: Int
        /// `Unhandled` when a synchronous invocation's function threw.
        public var functionError: String?
        public var executedVersion: String?
        public var payload: Data
    }

    /// `functionName` may be a name, a partial or a full ARN (its colons are encoded in the path).
    @discardableResult
    public func invoke(
        functionName: String, payload: Data, invocationType: InvocationType = .event, qualifier: String? = nil
    ) throws(AWSError) -> InvokeOutput {
        let request = AWSRequest(
            method: "POST", path: "/2015-03-31/functions/\(RestJSONProtocolClient.label(functionName))/invocations",
            query: qualifier.map { [("Qualifier", $0)] } ?? [],
            headers: ["X-Amz-Invocation-Type": invocationType.rawValue, "Content-Type": "application/json"], body: payload)
        let response = try rest.send("Invoke", request)
        return InvokeOutput(
            statusCode: response.status, functionError: response.headers["X-Amz-Function-Error"],
            executedVersion: response.headers["X-Amz-Executed-Version"], payload: response.body)
    }
}
