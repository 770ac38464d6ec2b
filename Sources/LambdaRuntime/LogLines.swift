extension Lambda {
    /// Writes one line to the function's log exactly as given, without the log format's
    /// prefix: CloudWatch reads Embedded Metric Format only from lines that are the JSON alone.
    public static func writeLogLine(_ line: String) {
        LambdaLogHandler.writeLine(line)
    }
}
