import AWSCore
import AWSServices
import CurlHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What AWS (or something in its place) answers: XML and JSON bodies, error bodies, DynamoDB
/// items, the instance metadata service's credentials.
extension FuzzTarget {
    static let awsResponses: [FuzzTarget] = [
        FuzzTarget(name: "xml-response", summary: "AWS XML bodies (EC2, S3, the Query services) and their error bodies",
                   seeds: { Seeds.text(ec2Error, s3Error, "<ListBucketResult><Contents><Key>a&amp;b</Key><Size>3</Size></Contents></ListBucketResult>") }) { input in
            _ = try? XML.parse(Data(input))
            let fields = XMLErrorDecoder.decode(HTTPResponse(status: 403, headers: [:], body: Data(input)))
            precondition(!fields.code.isEmpty, "an error with no code")
        },
        FuzzTarget(name: "json-error", summary: "AWS JSON error bodies (DynamoDB, Batch, Lambda, SQS, Logs)",
                   seeds: { Seeds.text(#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#, #"{"code":"ClientException","message":"x:y"}"#) }) { input in
            let fields = JSONErrorDecoder.decode(HTTPResponse(status: 400, headers: [:], body: Data(input)))
            precondition(!fields.code.isEmpty, "an error with no code")
        },
        FuzzTarget(name: "dynamodb-item", summary: "DynamoDB items as GetItem/Query answer them: decoded, and the same after a round trip",
                   seeds: { Seeds.text(#"{"pk":{"S":"JOB#1"},"n":{"N":"42"},"b":{"B":"AAE="},"l":{"L":[{"BOOL":true},{"NULL":true}]},"m":{"M":{"ss":{"SS":["a","b"]}}}}"#) }) { input in
            guard let item = try? JSONDecoder().decode(DynamoDB.Item.self, from: Data(input)) else { return }
            let again = (try? JSONEncoder().encode(item)).flatMap { try? JSONDecoder().decode(DynamoDB.Item.self, from: $0) }
            precondition(again == item, "an item changes in a round trip: \(item) vs \(String(describing: again))")
        },
        FuzzTarget(name: "imds-credentials", summary: "IMDSv2 role credentials documents: credentials or a named credentials error",
                   seeds: { Seeds.text(#"{"Code":"Success","LastUpdated":"2026-12-05T09:00:00Z","Type":"AWS-HMAC","AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"secret","Token":"token","Expiration":"2026-12-05T15:00:00Z"}"#) }) { input in
            let client = InstanceMetadataClient(endpoint: "http://imds.invalid", transport: MetadataAnswers(document: Data(input)), attempts: 1)
            do throws(AWSError) {
                let credentials = try InstanceMetadataCredentialProvider(client: client).credentials()
                precondition(!credentials.accessKeyID.isEmpty && !credentials.secretAccessKey.isEmpty, "credentials with an empty key were taken")
            } catch {
                precondition(!error.description.isEmpty, "a credentials error must say what was wrong")
            }
        },
    ]

    static let ec2Error = #"<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>InsufficientInstanceCapacity</Code><Message>We currently do not have sufficient capacity.</Message></Error></Errors><RequestID>5ad1b0d6</RequestID></Response>"#
    static let s3Error = #"<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a/b.csv</Key><RequestId>4442587FB7D0A2F9</RequestId></Error>"#
}

/// The instance metadata service, answering with the fuzzed document for the role's credentials.
private struct MetadataAnswers: HTTPTransport {
    let document: Data

    func send(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse {
        let body: Data = switch request.url {
        case let url where url.hasSuffix("/api/token"): Data("token".utf8)
        case let url where url.hasSuffix("/security-credentials/"): Data("sortie-role\n".utf8)
        default: document
        }
        return HTTPResponse(status: 200, headers: [:], body: body)
    }
}
