import AWSCore
import LambdaRuntime
import Reactor
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `retry-reactor` function: EC2 state changes, spot interruption warnings and the sweep's
/// schedule in; decisions, retries and started jobs out. Configuration: see `ReactorConfiguration`.
struct ReactorHandler: LambdaHandler {
    let reactor: Reactor

    init(_ context: InitContext) throws {
        let client = try AWSClient.fromEnvironment(logger: context.logger)
        let configuration = try ReactorConfiguration.fromEnvironment(ProcessInfo.processInfo.environment, region: client.configuration.region)
        reactor = Reactor(configuration: configuration, client: client)
    }

    func handle(_ event: ReactorEvent, context: LambdaContext) throws -> ReactorResponse {
        try reactor.handle(event, logger: context.logger)
    }
}

extension ReactorError: LambdaFunctionError {}

Lambda.run(name: "retry-reactor") { context in try ReactorHandler(context) }
