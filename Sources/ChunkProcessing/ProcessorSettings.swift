import ChunkStore

/// The chunk processor's settings, from its environment (see functions/chunk-processor.json).
public struct ProcessorSettings: Sendable {
    /// `SORTIE_TABLE`: the job table.
    public var tableName: String
    /// `READ_PART_BYTES`: the size of each ranged GET (8 MiB).
    public var partSize: Int64 = 8 << 20
    /// `OUTPUT_PART_BYTES`: the part size of output and rejects objects (8 MiB, at least 5 MiB).
    public var outputPartSize = 8 << 20
    /// `SAFETY_MARGIN_SECONDS`: time kept for sending what is buffered and recording the outcome (10 s).
    public var safetyMargin: Duration = .seconds(10)
    /// `MAX_RECORD_BYTES`: longer records fail the chunk (64 MiB).
    public var maxRecordBytes = 64 << 20
    public var sqsLimits = SQSLimits()

    public init(tableName: String) {
        self.tableName = tableName
    }

    public static func fromEnvironment(_ environment: [String: String]) throws(SettingError) -> ProcessorSettings {
        let settings = Settings(environment)
        var result = ProcessorSettings(tableName: try settings.required("SORTIE_TABLE"))
        result.partSize = try settings.integer("READ_PART_BYTES", default: result.partSize, minimum: 1)
        result.outputPartSize = Int(try settings.integer("OUTPUT_PART_BYTES", default: Int64(result.outputPartSize), minimum: 5 << 20))
        result.safetyMargin = .seconds(try settings.integer("SAFETY_MARGIN_SECONDS", default: 10, minimum: 0))
        result.maxRecordBytes = Int(try settings.integer("MAX_RECORD_BYTES", default: Int64(result.maxRecordBytes), minimum: 1024))
        return result
    }
}
