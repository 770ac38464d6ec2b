#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An access key pair with its optional session token. Printing, dumping or interpolating it
/// shows the access key id only: the secret and token never reach a log line.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; `nil` for long-lived keys.
    public var expiration: Date?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String {
        var text = "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
        if sessionToken != nil { text += ", sessionToken: <redacted>" }
        if let expiration { text += ", expiration: \(expiration)" }
        return text + ")"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID, "secretAccessKey": "<redacted>"], displayStyle: .struct)
    }

    /// True when the credentials expire within `margin` of `now`, so they are refreshed before AWS refuses them.
    public func expires(within margin: TimeInterval, of now: Date) -> Bool {
        guard let expiration else { return false }
        return expiration.timeIntervalSince(now) <= margin
    }
}

/// Something that produces credentials; called before every request, so it caches.
public protocol AWSCredentialProvider: Sendable {
    func credentials() throws(AWSError) -> AWSCredentials
}

/// Fixed credentials (tests, or keys the caller resolved itself).
public struct StaticCredentialProvider: AWSCredentialProvider {
    let value: AWSCredentials

    public init(_ credentials: AWSCredentials) {
        value = credentials
    }

    public func credentials() throws(AWSError) -> AWSCredentials { value }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: what Lambda hands every function.
public struct EnvironmentCredentialProvider: AWSCredentialProvider {
    let environment: AWSEnvironment

    public init(_ environment: AWSEnvironment) {
        self.environment = environment
    }

    public func credentials() throws(AWSError) -> AWSCredentials {
        guard let key = environment["AWS_ACCESS_KEY_ID"] else {
            throw .credentials("AWS_ACCESS_KEY_ID is not set")
        }
        guard let secret = environment["AWS_SECRET_ACCESS_KEY"] else {
            throw .credentials("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
    }
}

/// One profile of the shared files, resolved as the AWS CLI resolves it: `role_arn` (STS
/// AssumeRole with the credentials of `source_profile`, itself resolved the same way, or of
/// `credential_source`: `Environment`, `Ec2InstanceMetadata`, `EcsContainer`), then SSO
/// (`sso_session` or a legacy `sso_start_url`), then the static `aws_access_key_id` /
/// `aws_secret_access_key` / `aws_session_token`, then `credential_process`.
public struct ProfileCredentialProvider: AWSCredentialProvider {
    public let profile: String
    let files: SharedConfigFiles
    let environment: AWSEnvironment
    let transport: any HTTPTransport

    public init(profile: String, files: SharedConfigFiles, environment: AWSEnvironment = AWSEnvironment(), transport: any HTTPTransport = CurlTransport()) {
        self.profile = profile
        self.files = files
        self.environment = environment
        self.transport = transport
    }

    public init(_ environment: AWSEnvironment, transport: any HTTPTransport = CurlTransport()) {
        self.init(profile: SharedConfigFiles.profileName(environment), files: .load(environment), environment: environment, transport: transport)
    }

    public func credentials() throws(AWSError) -> AWSCredentials {
        try provider(for: profile, visited: []).credentials()
    }

    /// What gives `name`'s credentials; `visited` are the profiles whose source it is (a loop is an error).
    func provider(for name: String, visited: [String]) throws(AWSError) -> any AWSCredentialProvider {
        guard let keys = files.profile(name) else {
            throw .credentials("profile '\(name)' is not in the shared credentials or config file")
        }
        func value(_ key: String) -> String? { keys[key].flatMap { $0.isEmpty ? nil : $0 } }
        let staticKeys = value("aws_access_key_id").flatMap { key in
            value("aws_secret_access_key").map { AWSCredentials(accessKeyID: key, secretAccessKey: $0, sessionToken: value("aws_session_token")) }
        }
        if let roleArn = value("role_arn") {
            guard value("mfa_serial") == nil else {
                throw .credentials("profile '\(name)' needs an MFA code (mfa_serial), which only an interactive tool can ask for")
            }
            let source: any AWSCredentialProvider
            if let sourceProfile = value("source_profile") {
                if sourceProfile == name, let staticKeys {
                    source = StaticCredentialProvider(staticKeys)  // a profile may assume a role with its own keys
                } else {
                    guard !visited.contains(sourceProfile), sourceProfile != name else {
                        throw .credentials("profile '\(name)': source_profile loops (\((visited + [name, sourceProfile]).joined(separator: " → ")))")
                    }
                    source = try provider(for: sourceProfile, visited: visited + [name])
                }
            } else if let credentialSource = value("credential_source") {
                source = try Self.credentialSource(credentialSource, profile: name, environment: environment, transport: transport)
            } else {
                throw .credentials("profile '\(name)' has role_arn but neither source_profile nor credential_source")
            }
            var configuration = AWSConfiguration(
                region: value("region") ?? AWSRegion.resolve(environment, files: files) ?? "us-east-1", credentials: source,
                endpoints: EndpointResolver(environment), transport: transport)
            configuration.retry.maxAttempts = 3
            return AssumeRoleCredentialProvider(
                roleArn: roleArn, sessionName: value("role_session_name") ?? "sortie-\(Int(Date().timeIntervalSince1970))",
                externalId: value("external_id"), durationSeconds: value("duration_seconds").flatMap { Int($0) }, source: source,
                configuration: configuration)
        }
        if let session = value("sso_session") ?? value("sso_start_url") {
            let settings = value("sso_session") != nil ? files.ssoSessions[session] ?? [:] : keys
            guard let region = settings["sso_region"].flatMap({ $0.isEmpty ? nil : $0 }) else {
                throw .credentials("profile '\(name)': \(value("sso_session") != nil ? "sso-session '\(session)'" : "the profile") has no sso_region")
            }
            guard let account = value("sso_account_id"), let role = value("sso_role_name") else {
                throw .credentials("profile '\(name)' signs in with SSO but lacks sso_account_id or sso_role_name")
            }
            return SSOCredentialProvider(
                accountId: account, roleName: role, region: region, cacheKey: session,
                cacheFolder: environment.expandingHome("~/.aws/sso/cache"), endpoints: EndpointResolver(environment), transport: transport)
        }
        if let staticKeys { return StaticCredentialProvider(staticKeys) }
        if let command = value("credential_process") { return ProcessCredentialProvider(command: command) }
        throw .credentials("profile '\(name)' has no aws_access_key_id and aws_secret_access_key, role_arn, SSO or credential_process")
    }

    /// `credential_source`: where a role profile's source credentials come from on a host.
    static func credentialSource(
        _ source: String, profile: String, environment: AWSEnvironment, transport: any HTTPTransport
    ) throws(AWSError) -> any AWSCredentialProvider {
        switch source {
        case "Environment": EnvironmentCredentialProvider(environment)
        case "Ec2InstanceMetadata":
            InstanceMetadataCredentialProvider(client: InstanceMetadataClient(environment: environment, transport: transport))
        case "EcsContainer": ContainerCredentialProvider(environment, transport: transport)
        default:
            throw .credentials("profile '\(profile)': credential_source '\(source)' is not Environment, Ec2InstanceMetadata or EcsContainer")
        }
    }
}
