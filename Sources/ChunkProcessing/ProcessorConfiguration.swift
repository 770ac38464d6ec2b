import ChunkStore
import FunctionStartup

/// The chunk processor's configuration, from its environment (see functions/chunk-processor.json).
public struct ProcessorConfiguration: FunctionConfiguration {
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

    public init(reading environment: inout EnvironmentReader) {
        self.init(tableName: environment.required("SORTIE_TABLE"))
        partSize = environment.integer("READ_PART_BYTES", default: partSize, minimum: 1)
        outputPartSize = Int(environment.integer("OUTPUT_PART_BYTES", default: Int64(outputPartSize), minimum: 5 << 20))
        safetyMargin = .seconds(environment.integer("SAFETY_MARGIN_SECONDS", default: 10, minimum: 0))
        maxRecordBytes = Int(environment.integer("MAX_RECORD_BYTES", default: Int64(maxRecordBytes), minimum: 1024))
    }
}
