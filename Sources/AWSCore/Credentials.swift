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

/// `aws_access_key_id` / `aws_secret_access_key` / `aws_session_token` of one profile in the shared files.
public struct ProfileCredentialProvider: AWSCredentialProvider {
    public let profile: String
    let files: SharedConfigFiles

    public init(profile: String, files: SharedConfigFiles) {
        self.profile = profile
        self.files = files
    }

    public init(_ environment: AWSEnvironment) {
        self.init(profile: SharedConfigFiles.profileName(environment), files: .load(environment))
    }

    public func credentials() throws(AWSError) -> AWSCredentials {
        guard let keys = files.profile(profile) else {
            throw .credentials("profile '\(profile)' is not in the shared credentials or config file")
        }
        guard let key = keys["aws_access_key_id"], !key.isEmpty,
              let secret = keys["aws_secret_access_key"], !secret.isEmpty
        else {
            let hint = keys["role_arn"] != nil || keys["sso_session"] != nil || keys["credential_process"] != nil
                ? " (role, SSO and credential_process profiles are not supported)" : ""
            throw .credentials("profile '\(profile)' has no aws_access_key_id and aws_secret_access_key\(hint)")
        }
        let token = keys["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
    }
}
