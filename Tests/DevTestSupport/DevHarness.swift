import DevEnvironment
import Foundation
import Logging
import SortieTestSupport
import Testing

/// `sortie dev` for the suites that run against one: DevEnvironmentTests' and the operator commands' in SortieCLITests.
public enum DevHarness {
    public static var quiet: Logger {
        var logger = Logger(label: "test.dev")
        logger.logLevel = .warning
        return logger
    }

    public static func workspace() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("sortie-dev-\(UUID().uuidString.prefix(8))")
    }

    /// Runs `body` against a fresh `sortie dev`, stopped after it whatever happens.
    public static func onDev(_ body: (DevEnvironment, URL) async throws -> Void) async throws {
        let workspace = workspace()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let environment = try await DevEnvironment.start(
            .init(repository: Repository.root, products: BuiltProducts.directory, workspace: workspace), logger: quiet)
        do {
            try await body(environment, workspace)
        } catch {
            await environment.stop()
            throw error
        }
        await environment.stop()
    }

    /// Polls `condition` every 50 ms for at most `timeout`, then fails.
    public static func eventually(timeout: Duration = .seconds(20), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within \(timeout)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
