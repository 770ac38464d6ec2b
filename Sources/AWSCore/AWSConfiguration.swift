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
    /// or the profile's `region`, else where the code runs (`AWSRegion.discover`); the default
    /// credential chain; `AWS_ENDPOINT_URL[_<SERVICE>]`; `AWS_MAX_ATTEMPTS`.
    public static func fromEnvironment(
        _ environment: AWSEnvironment = .process, logger: Logger = Logger(label: "sortie.aws"),
        transport: any HTTPTransport = CurlTransport()
    ) throws(AWSError) -> AWSConfiguration {
        let region: String
        if let configured = AWSRegion.resolve(environment) {
            region = configured
        } else {
            do throws(AWSError) {
                region = try AWSRegion.discover(environment, transport: transport)
            } catch {
                throw .configuration("no AWS region: set AWS_REGION, AWS_DEFAULT_REGION or the profile's region (\(error.message))")
            }
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
    /// The region of the task or instance the code runs on: in a container (ECS, Batch, Fargate)
    /// the task metadata endpoint's `TaskARN` (`ECS_CONTAINER_METADATA_URI_V4` + `/task`), on EC2
    /// the instance metadata's `placement/region` (unless `AWS_EC2_METADATA_DISABLED=true`).
    public static func discover(_ environment: AWSEnvironment, transport: any HTTPTransport = CurlTransport()) throws(AWSError) -> String {
        if let base = environment["ECS_CONTAINER_METADATA_URI_V4"] {
            let url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/task"
            let response: HTTPResponse
            do throws(HTTPTransportError) {
                response = try transport.send(HTTPRequest(method: "GET", url: url, timeout: .seconds(2)))
            } catch {
                throw .configuration("the task metadata endpoint \(url) is unreachable: \(error.message)")
            }
            struct Task: Decodable { var TaskARN: String? }
            guard response.isSuccess, let arn = (try? JSONDecoder().decode(Task.self, from: response.body))?.TaskARN else {
                throw .configuration("the task metadata endpoint \(url) answered HTTP \(response.status) without a TaskARN")
            }
            // arn:aws:ecs:<region>:<account>:task/<cluster>/<id>
            let fields = arn.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
            guard fields.count == 5, fields[0] == "arn", fields[2] == "ecs", !fields[3].isEmpty else {
                throw .configuration("the task metadata's TaskARN '\(arn)' names no region")
            }
            return String(fields[3])
        }
        guard !environment.flag("AWS_EC2_METADATA_DISABLED") else {
            throw .configuration("not in a container (no ECS_CONTAINER_METADATA_URI_V4) and AWS_EC2_METADATA_DISABLED is true")
        }
        do throws(AWSError) {
            let region = try InstanceMetadataClient(environment: environment, transport: transport).region()
            guard !region.isEmpty else { throw AWSError.configuration("the instance metadata names no region") }
            return region
        } catch {
            throw .configuration("not in a container (no ECS_CONTAINER_METADATA_URI_V4), and \(error.message)")
        }
    }

    /// `AWS_REGION`, then `AWS_DEFAULT_REGION`, then `region` in the profile's config.
    public static func resolve(_ environment: AWSEnvironment, files: SharedConfigFiles? = nil) -> String? {
        if let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] { return region }
        let files = files ?? .load(environment)
        return files.profile(SharedConfigFiles.profileName(environment))?["region"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
