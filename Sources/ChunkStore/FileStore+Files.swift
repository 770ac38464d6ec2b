import AWSCore
import AWSServices
import TableSchema

extension FileStore {
    /// The files planned from one object key, newest first (a key uploaded again is a new file).
    /// A scan: for operators (`sortie file s3://…`), not for handlers.
    public func files(bucket: String, key: String) throws(AWSError) -> [FileRecord] {
        var files: [FileRecord] = []
        var start: DynamoDB.Item?
        repeat {
            let page = try dynamoDB.scan(.init(
                tableName: tableName, filterExpression: "begins_with(#pk, :file) AND #sk = :sk AND #bucket = :bucket AND #key = :key",
                expressionAttributeNames: JobTable.names([.pk, .sk, .bucket, .key]),
                expressionAttributeValues: [":file": .s(JobTable.filePrefix), ":sk": .s(JobTable.fileSort), ":bucket": .s(bucket), ":key": .s(key)],
                exclusiveStartKey: start, consistentRead: true))
            files += page.items.compactMap { FileRecord(item: $0, chunks: []) }
            start = page.lastEvaluatedKey
        } while start != nil
        return files.sorted { ($0.createdAt, $0.fileID) > ($1.createdAt, $1.fileID) }
    }
}

extension ChunkRecord {
    /// One line of a file's progress: `chunk 3: records 900000..<988653 → lambda DONE: 88565 delivered, 88 rejected`.
    public var summary: String {
        var line = "chunk \(spec.index): records \(spec.firstRecord)..<\(spec.firstRecord + spec.recordCount) → \(route.rawValue) \(state.rawValue)"
        if let counts { line += ": \(counts.delivered) delivered, \(counts.rejected) rejected" }
        if let batchJobID { line += " (Batch job \(batchJobID)\(batchArrayIndex.map { " child \($0)" } ?? ""))" }
        if let reason, state != .done { line += " — \(reason)" }
        return line
    }
}
