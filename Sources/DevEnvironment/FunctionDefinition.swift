import Foundation

/// One `functions/<name>.json`, as `sortie dev` reads it: which product to run and with what
/// settings (see functions/README.md for every field).
public struct FunctionDefinition: Sendable, Decodable, Equatable {
    public var name: String
    public var kind: String
    public var product: String
    public var timeout: Int?
    public var environment: [String: String]?
    public var triggers: [Trigger]?

    public struct Trigger: Sendable, Decodable, Equatable {
        public var type: String
        public var bucket: String?
        public var prefix: String?
        public var expression: String?
        /// A schedule's job and arguments (the launcher's Scheduled Event `detail`).
        public var job: String?
        public var args: [String: String]?

        enum CodingKeys: String, CodingKey { case type, bucket, prefix, expression, job, args }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decode(String.self, forKey: .type)
            bucket = try container.decodeIfPresent(String.self, forKey: .bucket)
            prefix = try container.decodeIfPresent(String.self, forKey: .prefix)
            expression = try container.decodeIfPresent(String.self, forKey: .expression)
            job = try container.decodeIfPresent(String.self, forKey: .job)
            // Arguments are strings for the launcher; anything else is the template's business.
            args = try? container.decodeIfPresent([String: String].self, forKey: .args)
        }

        /// Whether a bucket trigger fires for an object created at `bucket`/`key`.
        public func matches(bucket: String, key: String) -> Bool {
            type == "bucket" && self.bucket == bucket && key.hasPrefix(prefix ?? "")
        }
    }

    public var isLambda: Bool { kind == "lambda" }

    /// Every definition in `folder`, by name.
    public static func load(folder: URL) throws -> [FunctionDefinition] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .map { try JSONDecoder().decode(FunctionDefinition.self, from: Data(contentsOf: $0)) }
    }
}
