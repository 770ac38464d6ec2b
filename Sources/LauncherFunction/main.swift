import AWSCore
import LambdaRuntime
import Launcher
import JobModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `launcher` function: EventBridge schedules and manual events in, instances (or queue
/// places) out. Configuration: see `LauncherConfiguration`.
struct LauncherHandler: LambdaHandler {
    let launcher: Launcher

    init(_ context: InitContext) throws {
        let client = try AWSClient.fromEnvironment(logger: context.logger)
        let configuration = try LauncherConfiguration.fromEnvironment(ProcessInfo.processInfo.environment, region: client.configuration.region)
        launcher = Launcher(configuration: configuration, client: client)
    }

    func handle(_ event: LaunchEvent, context: LambdaContext) throws -> LaunchResponse {
        try launcher.launch(event, requestID: context.requestID, logger: context.logger)
    }
}

extension LaunchError: LambdaFunctionError {}

Lambda.run(name: "launcher") { context in try LauncherHandler(context) }
