import AWSCore
import LambdaRuntime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a function reads from its environment when it starts.
public protocol FunctionConfiguration: Sendable {
    /// Reads every setting, noting each problem in `environment` rather than throwing.
    init(reading environment: inout EnvironmentReader)
}

extension FunctionConfiguration {
    /// The configuration, or every problem with it at once.
    public static func fromEnvironment(_ variables: [String: String]) throws(ConfigurationError) -> Self {
        var reader = EnvironmentReader(variables)
        let configuration = Self(reading: &reader)
        try reader.finish()
        return configuration
    }
}

/// A handler built from its function's configuration and AWS client.
public protocol ConfiguredHandler: LambdaHandler {
    associatedtype Configuration: FunctionConfiguration

    /// `client` is a result so that each handler decides whether it can start without AWS
    /// (the chunk functions answer events that need none even where no region is configured).
    init(configuration: Configuration, client: Result<AWSClient, AWSError>) throws
}

extension Lambda {
    /// How every Sortie function starts: its configuration read from the environment, its AWS
    /// client built, both handed to its handler; any failure is the Runtime API's init error.
    /// Inlinable, so each function's main specializes it: run generically, it looked up
    /// `Handler.Configuration` at run time, a search of every conformance in the binary.
    @inlinable
    public static func start<Handler: ConfiguredHandler>(_ handler: Handler.Type, name: String) -> Never {
        run(name: name) { context in
            let environment = AWSEnvironment.process
            let configuration = try Handler.Configuration.fromEnvironment(environment.variables)
            let client = Result { () throws(AWSError) in try AWSClient.fromEnvironment(environment, logger: context.logger) }
            return try Handler(configuration: configuration, client: client)
        }
    }
}
