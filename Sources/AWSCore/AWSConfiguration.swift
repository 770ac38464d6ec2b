import Logging
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything a client needs: where, as whom, how persistently, over what.
public struct AWSConfiguration: Sendable {
    public var region: String
    public var credentials: any AWSCredentialProvider
    public var endpoints: EndpointResolver
    public var retry: RetryPolicy
    public var transport: any HTTPTransport
    public var logger: Logger
    /// Per attempt, whole request.
    public var timeout: Duration
    public var userAgent: String
    public var clock: @Sendable () -> Date

    public init(
        region: String, credentials: any AWSCredentialProvider, endpoints: EndpointResolver = EndpointResolver(),
        retry: RetryPolicy = RetryPolicy(), transport: any HTTPTransport = CurlTransport(),
        logger: Logger = Logger(label: "sortie.aws"), timeout: Duration = .seconds(30), userAgent: String = "sortie/1",
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.region = region
        self.credentials = credentials
        self.endpoints = endpoints
        self.retry = retry
        self.transport = transport
        self.logger = logger
        self.timeout = timeout
        self.userAgent = userAgent
        self.clock = clock
    }

    /// The SDKs' resolution from the environment: region from `AWS_REGION`, `AWS_DEFAULT_REGION`
    /// or the profile's `region`; the default credential chain; `AWS_ENDPOINT_URL[_<SERVICE>]`;
    /// `AWS_MAX_ATTEMPTS`.
    public static func fromEnvironment(
        _ environment: AWSEnvironment = .process, logger: Logger = Logger(label: "sortie.aws"),
        transport: any HTTPTransport = CurlTransport()
    ) throws(AWSError) -> AWSConfiguration {
        guard let region = AWSRegion.resolve(environment) else {
            throw .configuration("no AWS region: set AWS_REGION, AWS_DEFAULT_REGION or the profile's region")
        }
        var retry = RetryPolicy()
        if let text = environment["AWS_MAX_ATTEMPTS"] {
            guard let attempts = Int(text), attempts >= 1 else {
                throw .configuration("AWS_MAX_ATTEMPTS must be a positive integer, not '\(text)'")
            }
            retry.maxAttempts = attempts
        }
        return AWSConfiguration(
            region: region, credentials: CredentialChain.default(environment, transport: transport),
            endpoints: EndpointResolver(environment), retry: retry, transport: transport, logger: logger)
    }
}

public enum AWSRegion {
    /// `AWS_REGION`, then `AWS_DEFAULT_REGION`, then `region` in the profile's config.
    public static func resolve(_ environment: AWSEnvironment, files: SharedConfigFiles? = nil) -> String? {
        if let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] { return region }
        let files = files ?? .load(environment)
        return files.profile(SharedConfigFiles.profileName(environment))?["region"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
