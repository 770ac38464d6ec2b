import AWSCore
import AWSServices
import ChunkPlanning
import FunctionStartup
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What both chunk functions read when they start: their own configuration and where the feeds document is.
public struct ChunkFunctionConfiguration<Function: FunctionConfiguration>: FunctionConfiguration {
    public var function: Function
    public var feeds: FeedSource

    public init(reading environment: inout EnvironmentReader) {
        function = Function(reading: &environment)
        feeds = FeedSource(reading: &environment)
    }
}

/// What a chunk function holds once started: its configuration, its AWS client and the feeds document.
public struct ChunkFunctionSetup<Function: FunctionConfiguration>: Sendable {
    public let configuration: Function
    /// Kept as a result: an event that needs no AWS (a skipped object, an expired chunk) is
    /// answered even where no region or credentials are configured.
    public let client: Result<AWSClient, AWSError>
    public let catalog: FeedCatalog

    /// Reads the feeds document, from S3 when it is there.
    public init(_ configuration: ChunkFunctionConfiguration<Function>, client: Result<AWSClient, AWSError>) throws(ConfigurationError) {
        self.configuration = configuration.function
        self.client = client
        catalog = try configuration.feeds.load(client: client)
    }
}

/// The feeds document: inline in `SORTIE_FEEDS`, or an object named by `SORTIE_FEEDS_URI`
/// (`s3://bucket/key`), read once when the function starts.
public enum FeedSource: Sendable {
    case inline(String)
    case s3(bucket: String, key: String)

    public init(reading environment: inout EnvironmentReader) {
        if let inline = environment["SORTIE_FEEDS"] {
            self = .inline(inline)
        } else if let uri = environment["SORTIE_FEEDS_URI"] {
            guard uri.hasPrefix("s3://"), let slash = uri.dropFirst(5).firstIndex(of: "/") else {
                environment.report("SORTIE_FEEDS_URI must be s3://bucket/key, not '\(uri)'")
                self = .inline("")
                return
            }
            self = .s3(bucket: String(uri.dropFirst(5)[..<slash]), key: String(uri[uri.index(after: slash)...]))
        } else {
            environment.report("set SORTIE_FEEDS (the feeds document) or SORTIE_FEEDS_URI (where to read it)")
            self = .inline("")
        }
    }

    /// The validated document; `client` is only needed (and its failure only reported) for `s3`.
    public func load(client: Result<AWSClient, AWSError>) throws(ConfigurationError) -> FeedCatalog {
        // Bytes, not `Data(text.utf8)`: Data's initializer asks at run time whether the UTF-8 view
        // is contiguous bytes, a search of every conformance in the binary at init.
        let document: [UInt8]
        switch self {
        case .inline(let text):
            document = Array(text.utf8)
        case .s3(let bucket, let key):
            do {
                document = Array(try S3(client: client.get()).getObject(bucket: bucket, key: key).body)
            } catch {
                throw ConfigurationError(["the feeds document could not be read: \(error)"])
            }
        }
        do {
            return try FeedCatalog(document: document)
        } catch {
            throw ConfigurationError(["the feeds document is not valid: \(error)"])
        }
    }
}
