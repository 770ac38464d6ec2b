#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import WallTime

/// What Lambda tells a handler about the invocation it is serving and the function it runs in.
public struct LambdaContext: Sendable {
    public let requestID: String
    /// Lambda's nonce for this attempt (`Lambda-Runtime-Invocation-Id`), echoed on its answer; `nil` when none was sent.
    public let invocationID: String?
    /// When Lambda stops the invocation, in milliseconds since the Unix epoch.
    public let deadlineMilliseconds: Int64
    public let invokedFunctionARN: String
    /// The X-Ray trace header; under concurrency 1 it is also in `_X_AMZN_TRACE_ID` while the handler runs.
    public let traceID: String?
    /// Set when the function runs in tenant isolation mode.
    public let tenantID: String?
    public let clientContext: ClientContext?
    public let cognitoIdentity: CognitoIdentity?
    public let function: FunctionInfo
    public let logger: Logger

    public init(
        requestID: String, invocationID: String? = nil, deadlineMilliseconds: Int64, invokedFunctionARN: String,
        traceID: String? = nil, tenantID: String? = nil,
        clientContext: ClientContext? = nil, cognitoIdentity: CognitoIdentity? = nil,
        function: FunctionInfo, logger: Logger
    ) {
        self.requestID = requestID
        self.invocationID = invocationID
        self.deadlineMilliseconds = deadlineMilliseconds
        self.invokedFunctionARN = invokedFunctionARN
        self.traceID = traceID
        self.tenantID = tenantID
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
        self.function = function
        self.logger = logger
    }

    /// Time left before the deadline; negative once it has passed.
    public var remainingTime: Duration {
        .milliseconds(deadlineMilliseconds - WallClock.unixMilliseconds())
    }

    var address: InvocationAddress { InvocationAddress(requestID: requestID, invocationID: invocationID) }

    /// The invocation the current thread or task is serving; log lines read their request id here.
    @TaskLocal public static var current: LambdaContext?
}

/// The function's own settings, from the environment Lambda documents.
public struct FunctionInfo: Sendable, Equatable {
    public var name: String
    public var version: String
    public var memoryMegabytes: Int
    public var logGroupName: String
    public var logStreamName: String

    public init(name: String, version: String, memoryMegabytes: Int, logGroupName: String, logStreamName: String) {
        self.name = name
        self.version = version
        self.memoryMegabytes = memoryMegabytes
        self.logGroupName = logGroupName
        self.logStreamName = logStreamName
    }
}

/// The mobile SDK's client context (`Lambda-Runtime-Client-Context`).
public struct ClientContext: Codable, Sendable, Equatable {
    public struct Client: Codable, Sendable, Equatable {
        public var installationID: String?
        public var appTitle: String?
        public var appVersionName: String?
        public var appVersionCode: String?
        public var appPackageName: String?

        enum CodingKeys: String, CodingKey {
            case installationID = "installation_id", appTitle = "app_title", appVersionName = "app_version_name"
            case appVersionCode = "app_version_code", appPackageName = "app_package_name"
        }
    }

    public var client: Client?
    public var custom: [String: String]?
    public var environment: [String: String]?

    enum CodingKeys: String, CodingKey {
        case client, custom, environment = "env"
    }
}

/// The Amazon Cognito identity that invoked the function (`Lambda-Runtime-Cognito-Identity`).
public struct CognitoIdentity: Codable, Sendable, Equatable {
    public var identityID: String?
    public var identityPoolID: String?

    enum CodingKeys: String, CodingKey {
        case identityID = "cognitoIdentityId", identityPoolID = "cognitoIdentityPoolId"
    }
}
