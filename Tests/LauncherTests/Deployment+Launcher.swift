import AWSCore
import Foundation
import Launcher
import LocalRuntime
import Logging
import SortieTestSupport
import Testing

/// The launcher's side of the shared `Deployment`: its settings, the library and the function under the local Runtime API.
extension Deployment {
    /// Warnings and errors only: a 50-launch run would otherwise print hundreds of lines.
    static var quietLogger: Logger {
        var logger = Logger(label: "test.launcher")
        logger.logLevel = .warning
        return logger
    }

    /// The launcher's environment, as the deployment template would set it, with its role's credentials.
    var environment: [String: String] {
        get throws {
            server.environment.merging(try roles.environment("launcher")) { $1 }.merging([
                "SORTIE_TABLE": table, "SORTIE_SPECS": "s3://\(bucket)/specs/", "SORTIE_RUNNER_URL": try BuiltProducts.executable("sortie-runner"),
                "SORTIE_LOG_BUCKET": bucket, "SORTIE_LOG_GROUP": logGroup,
            ]) { $1 }
        }
    }

    /// `emit` gets the metrics lines (a job FAILED at launch); most tests do not read them.
    func launcher(
        transport: any HTTPTransport = CurlTransport(), settings: [String: String] = [:], emit: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> Launcher {
        let awsEnvironment = AWSEnvironment(try environment)
        let configuration = try LauncherConfiguration.fromEnvironment(try environment.merging(settings) { $1 })
        return Launcher(configuration: configuration, client: AWSClient(try AWSConfiguration.fromEnvironment(awsEnvironment, transport: transport)), emit: emit)
    }

    /// The launcher executable under the local Runtime API, configured for this deployment.
    func launcherFunction(concurrency: Int = 1) async throws -> LocalFunction {
        try await LocalFunction.start(.init(
            executable: try BuiltProducts.executable("launcher"), functionName: "launcher", environment: try environment, concurrency: concurrency,
            logs: .capture))
    }
}

/// What the launcher answered, decoded loosely so a test can look at any field.
struct Answer: Decodable, Sendable {
    var outcome: String
    var job: String
    var jobID: String?
    var attempt: Int?
    var state: String?
    var instanceID: String?
    var instanceType: String?
    var position: Int?

    enum CodingKeys: String, CodingKey {
        case outcome, job, jobID = "jobId", attempt, state, instanceID = "instanceId", instanceType, position
    }
}

extension InvocationOutcome {
    /// The response, decoded; records an issue (with the function's log) for anything else.
    func answer(_ function: LocalFunction, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Answer? {
        guard case .response(_, let body) = self else {
            Issue.record("expected a response, got \(self)\n\(function.capturedLog.suffix(3000))", sourceLocation: sourceLocation)
            return nil
        }
        return try JSONDecoder().decode(Answer.self, from: body)
    }

    /// The reported error's type and message.
    var error: (type: String?, message: String)? {
        guard case .functionError(_, let type, let body) = self else { return nil }
        struct Report: Decodable { var errorMessage: String }
        return (type, (try? JSONDecoder().decode(Report.self, from: body))?.errorMessage ?? "")
    }
}
