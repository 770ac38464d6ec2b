import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Providers tried in order, as the SDKs' default chain does; the first that answers is
/// remembered, and its credentials are reused until five minutes before they expire.
public final class CredentialChain: AWSCredentialProvider {
    public let providers: [(name: String, provider: any AWSCredentialProvider)]
    private let refreshMargin: TimeInterval
    private let clock: @Sendable () -> Date
    private let state = Mutex<(credentials: AWSCredentials?, providerIndex: Int?)>((nil, nil))

    public init(
        _ providers: [(name: String, provider: any AWSCredentialProvider)],
        refreshMargin: TimeInterval = 300, clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.providers = providers
        self.refreshMargin = refreshMargin
        self.clock = clock
    }

    /// Environment variables, then the shared files with `AWS_PROFILE`, then the container
    /// credentials endpoint when `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `_FULL_URI` is set
    /// (ECS, Batch), then EC2 instance metadata (IMDSv2) unless `AWS_EC2_METADATA_DISABLED=true`.
    public static func `default`(
        _ environment: AWSEnvironment, transport: any HTTPTransport = CurlTransport(),
        clock: @escaping @Sendable () -> Date = Date.init
    ) -> CredentialChain {
        var providers: [(name: String, provider: any AWSCredentialProvider)] = [
            ("environment", EnvironmentCredentialProvider(environment)),
            ("shared files", ProfileCredentialProvider(environment, transport: transport)),
        ]
        if ContainerCredentialProvider.isConfigured(environment) {
            providers.append(("container endpoint", ContainerCredentialProvider(environment, transport: transport)))
        }
        if !environment.flag("AWS_EC2_METADATA_DISABLED") {
            let metadata = InstanceMetadataClient(environment: environment, transport: transport, clock: clock)
            providers.append(("instance metadata", InstanceMetadataCredentialProvider(client: metadata, clock: clock)))
        }
        return CredentialChain(providers, clock: clock)
    }

    // Resolution holds the lock on purpose: concurrent callers wait for one IMDS round trip
    // instead of each making their own.
    public func credentials() throws(AWSError) -> AWSCredentials {
        let now = clock()
        return try state.withLock { (state: inout (credentials: AWSCredentials?, providerIndex: Int?)) throws(AWSError) -> AWSCredentials in
            if let cached = state.credentials, !cached.expires(within: refreshMargin, of: now) {
                return cached
            }
            var reasons: [String] = []
            let order = state.providerIndex.map { [$0] + providers.indices.filter { $0 != state.providerIndex } } ?? Array(providers.indices)
            for index in order {
                do throws(AWSError) {
                    let credentials = try providers[index].provider.credentials()
                    state = (credentials, index)
                    return credentials
                } catch {
                    reasons.append("\(providers[index].name): \(error.message)")
                }
            }
            throw .credentials("no AWS credentials found; " + reasons.joined(separator: "; "))
        }
    }
}
