import CurlHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Amazon MSK's IAM authentication token: a SigV4 query-presigned `GET
/// https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect`, base64url-encoded without
/// padding, sent as the SASL/OAUTHBEARER bearer token. The layout (parameter order, the trailing
/// `User-Agent`) is that of AWS's own signers (aws-msk-iam-sasl-signer-*), checked byte for byte.
public enum MSKAuthToken {
    public static let defaultLifetimeSeconds = 900

    public static func make(
        region: String, credentials: AWSCredentials, date: AMZDate, userAgent: String = "sortie",
        lifetimeSeconds: Int = defaultLifetimeSeconds
    ) -> String {
        let host = "kafka.\(region).amazonaws.com"
        let scope = "\(credentials.accessKeyID)/\(date.dateStamp)/\(region)/kafka-cluster/aws4_request"
        var query = "Action=kafka-cluster%3AConnect&X-Amz-Algorithm=\(SigV4Signer.algorithm)"
        query += "&X-Amz-Credential=\(URIEncoding.encode(scope))&X-Amz-Date=\(date.timestamp)"
        query += "&X-Amz-Expires=\(lifetimeSeconds)&X-Amz-SignedHeaders=host"
        if let token = credentials.sessionToken { query += "&X-Amz-Security-Token=\(URIEncoding.encode(token))" }
        var headers = HTTPHeaders()
        headers.add("Host", host)
        let signature = SigV4Signer().signature(
            method: "GET", path: "/", query: Substring(query), headers: headers, payloadHash: Hashing.hex(Hashing.sha256("")),
            style: .standard, credentials: credentials, region: region, service: "kafka-cluster", date: date)
        let url = "https://\(host)/?\(query)&X-Amz-Signature=\(signature.signature)&User-Agent=\(URIEncoding.encode(userAgent))"
        var encoded = Data(url.utf8).base64EncodedString()
        encoded = String(encoded.compactMap { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 == "=" ? nil : $0 })
        return encoded
    }

    /// The region of an MSK broker name (`b-1.cluster.abc123.c2.kafka.eu-west-1.amazonaws.com`),
    /// or nil when the name does not say.
    public static func region(ofBroker host: String) -> String? {
        let labels = host.split(separator: ".")
        guard let kafka = labels.lastIndex(of: "kafka"), kafka + 1 < labels.count else { return nil }
        return String(labels[kafka + 1])
    }
}
