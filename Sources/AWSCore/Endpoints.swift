/// Where a request goes and which region it is signed for.
public struct ResolvedEndpoint: Sendable, Equatable {
    public var scheme: String
    /// `host` or `host:port`.
    public var authority: String
    /// A path the endpoint URL carried (`http://proxy/aws`), without the trailing slash.
    public var basePath: String
    public var signingRegion: String
    /// True when configured rather than derived: S3 then addresses buckets by path.
    public var isCustom: Bool

    public var url: String { "\(scheme)://\(authority)\(basePath)" }
}

/// The SDKs' endpoint rules for the services Sortie uses: `AWS_ENDPOINT_URL_<SERVICE>`, then
/// `AWS_ENDPOINT_URL`, then the regional default (`https://<prefix>.<region>.amazonaws.com`).
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` turns the overrides off.
public struct EndpointResolver: Sendable {
    /// Per-service overrides keyed by `AWSService.environmentKey`.
    public var serviceOverrides: [String: String]
    public var globalOverride: String?

    public init(serviceOverrides: [String: String] = [:], globalOverride: String? = nil) {
        self.serviceOverrides = serviceOverrides
        self.globalOverride = globalOverride
    }

    public init(_ environment: AWSEnvironment) {
        self.init()
        guard !environment.flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") else { return }
        globalOverride = environment["AWS_ENDPOINT_URL"]
        let prefix = "AWS_ENDPOINT_URL_"
        for (name, value) in environment.variables where name.hasPrefix(prefix) && !value.isEmpty {
            serviceOverrides[String(name.dropFirst(prefix.count))] = value
        }
    }

    public func resolve(_ service: AWSService, region: String) throws(AWSError) -> ResolvedEndpoint {
        if let url = serviceOverrides[service.environmentKey] ?? globalOverride {
            return try Self.parse(url, service: service, signingRegion: service.globalSigningRegion ?? region)
        }
        if let host = service.globalHost {
            return ResolvedEndpoint(scheme: "https", authority: host, basePath: "", signingRegion: service.globalSigningRegion ?? region, isCustom: false)
        }
        guard Self.isValidRegion(region) else {
            throw .configuration("region '\(region)' is not a valid AWS region name", service: service.name)
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return ResolvedEndpoint(
            scheme: "https", authority: "\(service.endpointPrefix).\(region).\(suffix)", basePath: "",
            signingRegion: region, isCustom: false)
    }

    /// Letters, digits and dashes only: a region becomes part of a host name.
    static func isValidRegion(_ region: String) -> Bool {
        !region.isEmpty && region.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-")
        }
    }

    static func parse(_ url: String, service: AWSService, signingRegion: String) throws(AWSError) -> ResolvedEndpoint {
        let parts = URLParts(url)
        guard parts.scheme == "http" || parts.scheme == "https", !parts.authority.isEmpty, parts.query.isEmpty else {
            throw .configuration("endpoint URL '\(url)' for \(service.name) must be http(s)://host[:port][/path]", service: service.name)
        }
        var basePath = String(parts.path)
        while basePath.hasSuffix("/") { basePath.removeLast() }
        return ResolvedEndpoint(
            scheme: String(parts.scheme), authority: String(parts.authority), basePath: basePath,
            signingRegion: signingRegion, isCustom: true)
    }
}
