import Foundation
import JobModel

/// One `functions/<name>.json`, as `sortie dev` and `sortie template` read it (see
/// functions/README.md for every field; `scripts/functions.py` validates the whole file).
/// Free-form JSON (event patterns, IAM conditions, schedule arguments) is read as the job
/// model's untyped tree.
public struct FunctionDefinition: Sendable, Decodable, Equatable {
    public var name: String
    public var kind: String
    public var product: String
    public var description: String?
    public var architecture: String
    public var memory: Int?
    public var timeout: Int?
    public var environment: [String: String]?
    /// Values are `Fn::Sub` strings; `null` leaves a development-only variable out.
    public var deployEnvironment: [String: String?]?
    public var triggers: [Trigger]?
    public var permissions: [Permission]?
    public var parameters: [String: Parameter]?
    /// The packaging test's event file and the response it must produce (paths from the repository root).
    public var sampleEvent: String?
    public var expectedResponse: String?

    public struct Trigger: Sendable, Decodable, Equatable {
        public var type: String
        public var expression: String?
        /// A schedule's job and arguments (the launcher's Scheduled Event `detail`).
        public var job: String?
        public var args: SpecValue?
        public var pattern: SpecValue?
        public var bucket: String?
        public var events: [String]?
        public var prefix: String?
        public var suffix: String?

        /// The arguments when every one is a string, as the launcher takes them; otherwise nil.
        public var stringArguments: [String: String]? {
            guard case .map(let entries)? = args?.kind else { return nil }
            var arguments: [String: String] = [:]
            for entry in entries {
                guard case .scalar(let text, quoted: true) = entry.value.kind else { return nil }
                arguments[entry.key] = text
            }
            return arguments
        }

        /// Whether a bucket trigger fires for an object created at `bucket`/`key`.
        public func matches(bucket: String, key: String) -> Bool {
            type == "bucket" && self.bucket == bucket && key.hasPrefix(prefix ?? "")
        }
    }

    public struct Permission: Sendable, Decodable, Equatable {
        public var actions: [String]
        public var resources: [String]
        public var condition: SpecValue?

        public init(actions: [String], resources: [String], condition: SpecValue? = nil) {
            self.actions = actions
            self.resources = resources
            self.condition = condition
        }
    }

    public struct Parameter: Sendable, Decodable, Equatable {
        public var description: String
        public var `default`: String?
    }

    public var isLambda: Bool { kind == "lambda" }

    /// The variables the deployment sets: `environment` with `deployEnvironment` laid over it (its
    /// values `Fn::Sub` strings), less the development-only ones it sets to `null`.
    public var deployedEnvironment: [String: String] {
        var variables = environment ?? [:]
        for (name, value) in deployEnvironment ?? [:] {
            variables[name] = value
        }
        return variables
    }

    /// This definition with `settings` laid over its environment.
    public func overlaid(_ settings: [String: String]) -> FunctionDefinition {
        guard !settings.isEmpty else { return self }
        var definition = self
        definition.environment = (environment ?? [:]).merging(settings) { $1 }
        return definition
    }

    /// A definition file that does not decode, named.
    public struct LoadError: Error, CustomStringConvertible {
        public let file: String
        public let underlying: any Error
        public var description: String { "\(file): \(underlying)" }
    }

    /// Every definition in `folder`, by file name.
    public static func load(folder: URL) throws -> [FunctionDefinition] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .map { file in
                do {
                    return try JSONDecoder().decode(FunctionDefinition.self, from: Data(contentsOf: file))
                } catch {
                    throw LoadError(file: file.lastPathComponent, underlying: error)
                }
            }
    }
}
