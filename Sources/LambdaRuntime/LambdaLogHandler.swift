#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import WallTime
import JSONText

enum LogFormat: Sendable {
    case text, json
}

/// `AWS_LAMBDA_LOG_LEVEL`, in Lambda's names, mapped onto swift-log's levels.
struct LogLevelSetting: Sendable {
    var level: Logger.Level

    init(_ name: String?) {
        level = switch name?.uppercased() {
        case "TRACE": .trace
        case "DEBUG": .debug
        case "WARN": .warning
        case "ERROR": .error
        case "FATAL": .critical
        default: .info
        }
    }

    static func lambdaName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info, .notice: "INFO"
        case .warning: "WARN"
        case .error: "ERROR"
        case .critical: "FATAL"
        }
    }
}

/// Writes one line per log event to stderr, as text or as Lambda's JSON log format,
/// stamped with the request id of the invocation that wrote it.
struct LambdaLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, format: LogFormat, level: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        let line = render(
            level: event.level, message: "\(event.message)", metadata: fields,
            requestID: LambdaContext.current?.requestID, timestamp: WallClock.unixMilliseconds())
        Self.writeLine(line)
    }

    func render(level: Logger.Level, message: String, metadata: Logger.Metadata, requestID: String?, timestamp: Int64) -> String {
        let time = WallClock.iso8601(milliseconds: timestamp)
        let levelName = LogLevelSetting.lambdaName(level)
        switch format {
        case .text:
            let extra = metadata.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            return "\(time)\t\(requestID ?? "-")\t\(levelName)\t\(message)\(extra)"
        case .json:
            var object = "{\"timestamp\":\(JSONText.quote(time)),\"level\":\(JSONText.quote(levelName))"
            if let requestID { object += ",\"requestId\":\(JSONText.quote(requestID))" }
            object += ",\"message\":\(JSONText.quote(message))"
            for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
                object += ",\(JSONText.quote(key)):\(JSONText.quote("\(value)"))"
            }
            return object + "}"
        }
    }

    /// One `write` per line, so lines from concurrent invocations never interleave mid-line.
    static func writeLine(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
