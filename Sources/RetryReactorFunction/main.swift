import AWSCore
import FunctionStartup
import LambdaRuntime
import Reactor

/// The `retry-reactor` function: EC2 state changes, spot interruption warnings and the sweep's
/// schedule in; decisions, retries and started jobs out. Configuration: see `ReactorConfiguration`.
struct ReactorHandler: ConfiguredHandler {
    let reactor: Reactor

    init(configuration: ReactorConfiguration, client: Result<AWSClient, AWSError>) throws(AWSError) {
        reactor = Reactor(configuration: configuration, client: try client.get(), emit: Lambda.writeLogLine)
    }

    func handle(_ event: ReactorEvent, context: LambdaContext) throws -> ReactorResponse {
        try reactor.handle(event, logger: context.logger)
    }
}

extension ReactorError: LambdaFunctionError {}

Lambda.start(ReactorHandler.self, name: "retry-reactor")
