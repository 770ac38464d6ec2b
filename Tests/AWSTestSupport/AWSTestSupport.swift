import AWSCore
import Foundation
import Logging
import SortieTestSupport
import Testing

/// Runs `body` expecting an `AWSError`; records an issue and returns nil when it succeeds or throws something else.
public func awsError<T: Sendable>(
    _ body: @escaping @Sendable () throws(AWSError) -> T, sourceLocation: SourceLocation = #_sourceLocation
) async -> AWSError? {
    let result: Result<T, AWSError> = await withCheckedContinuation { continuation in
        let thread = Thread {
            do throws(AWSError) {
                continuation.resume(returning: .success(try body()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        thread.stackSize = 4 << 20
        thread.start()
    }
    switch result {
    case .success(let value):
        Issue.record("expected an AWSError, got \(value)", sourceLocation: sourceLocation)
        return nil
    case .failure(let error):
        return error
    }
}

/// A client for `server`, retrying quickly so failures stay fast.
public func motoClient(
    _ server: MotoServer, credentials: AWSCredentials? = nil, maxAttempts: Int = 3, logger: Logger = Logger(label: "test.aws")
) -> AWSClient {
    let credentials = credentials ?? AWSCredentials(accessKeyID: MotoServer.accessKeyID, secretAccessKey: MotoServer.secretAccessKey)
    return AWSClient(AWSConfiguration(
        region: MotoServer.region, credentials: StaticCredentialProvider(credentials),
        endpoints: EndpointResolver(globalOverride: server.endpoint),
        retry: RetryPolicy(maxAttempts: maxAttempts, baseDelay: .milliseconds(10), throttlingBaseDelay: .milliseconds(10)),
        logger: logger, timeout: .seconds(30)))
}

/// Free-form JSON for setting up resources the clients under test do not create.
public enum JSON: Codable, Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    case string(String), number(Double), bool(Bool), null, array([JSON]), object([String: JSON])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSON].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSON].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public subscript(key: String) -> JSON? {
        if case .object(let object) = self { object[key] } else { nil }
    }

    public var string: String? {
        if case .string(let value) = self { value } else { nil }
    }
}
