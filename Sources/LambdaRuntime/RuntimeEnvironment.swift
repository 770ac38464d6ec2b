#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The process-wide settings Lambda passes in environment variables, read once at start-up.
struct RuntimeEnvironment: Sendable {
    var runtimeAPI: String
    var function: FunctionInfo
    var concurrency: Int
    var logFormat: LogFormat
    var logLevel: LogLevelSetting

    static func load(defaultName: String, read: (String) -> String? = Self.variable) throws(RuntimeAPIError) -> RuntimeEnvironment {
        guard let runtimeAPI = read("AWS_LAMBDA_RUNTIME_API"), !runtimeAPI.isEmpty else {
            throw RuntimeAPIError(description: "AWS_LAMBDA_RUNTIME_API is not set: this is a Lambda bootstrap; run it on Lambda or under `sortie-local invoke`")
        }
        return RuntimeEnvironment(
            runtimeAPI: runtimeAPI,
            function: FunctionInfo(
                name: read("AWS_LAMBDA_FUNCTION_NAME") ?? defaultName,
                version: read("AWS_LAMBDA_FUNCTION_VERSION") ?? "$LATEST",
                memoryMegabytes: read("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").flatMap { Int($0) } ?? 128,
                logGroupName: read("AWS_LAMBDA_LOG_GROUP_NAME") ?? "",
                logStreamName: read("AWS_LAMBDA_LOG_STREAM_NAME") ?? ""
            ),
            concurrency: concurrency(read("AWS_LAMBDA_MAX_CONCURRENCY")),
            logFormat: read("AWS_LAMBDA_LOG_FORMAT")?.uppercased() == "JSON" ? .json : .text,
            logLevel: LogLevelSetting(read("AWS_LAMBDA_LOG_LEVEL"))
        )
    }

    /// Absent, unparsable or below 1 means one invocation at a time.
    static func concurrency(_ value: String?) -> Int {
        guard let value, let count = Int(value), count >= 1 else { return 1 }
        return count
    }

    static func variable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
