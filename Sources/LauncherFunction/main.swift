import AWSCore
import FunctionStartup
import JobModel
import LambdaRuntime
import Launcher

/// The `launcher` function: EventBridge schedules and manual events in, instances (or queue
/// places) out. Configuration: see `LauncherConfiguration`.
struct LauncherHandler: ConfiguredHandler {
    let launcher: Launcher

    init(configuration: LauncherConfiguration, client: Result<AWSClient, AWSError>) throws(AWSError) {
        launcher = Launcher(configuration: configuration, client: try client.get(), emit: Lambda.writeLogLine)
    }

    func handle(_ event: LaunchEvent, context: LambdaContext) throws -> LaunchResponse {
        try launcher.launch(event, requestID: context.requestID, logger: context.logger)
    }
}

extension LaunchError: LambdaFunctionError {}

Lambda.start(LauncherHandler.self, name: "launcher")
