import AWSCore
import AWSServices
import TableSchema

/// Reading a file's chunks without reading them all: by key for the few a view shows
/// (BatchGetItem), and page by page (Query with `Limit` and `ExclusiveStartKey`) wherever a
/// listing must go through them, so a file of thousands of chunks is never held in one answer.
extension FileStore {
    /// One page of a file's chunks in index order; `next` is where the following page starts (nil: the last).
    public struct ChunkPage: Sendable {
        public var entries: [(chunk: ChunkRecord, attempts: ChunkAttempts)]
        public var next: DynamoDB.Item?
    }

    /// The page of chunks `first..<end` (in `states`, if given) that starts at `after`: at most
    /// `limit` chunks are read (else as many as DynamoDB's 1 MB page holds), fewer returned when a
    /// state filter drops some.
    public func chunkPage(
        fileID: String, from first: Int = 0, to end: Int = JobTable.chunkLimit, in states: [ChunkState]? = nil,
        limit: Int? = nil, after: DynamoDB.Item? = nil
    ) throws(AWSError) -> ChunkPage {
        guard first < end else { return ChunkPage(entries: [], next: nil) }
        var values: DynamoDB.Item = [
            ":pk": .s(JobTable.filePartition(fileID)), ":first": .s(JobTable.chunkSort(first)), ":last": .s(JobTable.chunkSort(end - 1)),
        ]
        var names: [JobTable.Attribute] = [.pk, .sk]
        var filter: String?
        if let states {
            let placeholders = states.indices.map { ":state\($0)" }
            for (placeholder, state) in zip(placeholders, states) { values[placeholder] = .s(state.rawValue) }
            filter = "#state IN (\(placeholders.joined(separator: ", ")))"
            names.append(.state)
        }
        let page = try dynamoDB.query(.init(
            tableName: tableName, keyConditionExpression: "#pk = :pk AND #sk BETWEEN :first AND :last", filterExpression: filter,
            expressionAttributeNames: JobTable.names(names), expressionAttributeValues: values, limit: limit, exclusiveStartKey: after,
            consistentRead: true))
        let entries = page.items.compactMap { item in ChunkRecord(item: item).map { (chunk: $0, attempts: ChunkAttempts(item: item)) } }
        return ChunkPage(entries: entries, next: page.lastEvaluatedKey)
    }

    /// Every chunk of `first..<end` (in `states`, if given), page after page, in index order.
    public func chunks(
        fileID: String, from first: Int = 0, to end: Int = JobTable.chunkLimit, in states: [ChunkState]? = nil
    ) throws(AWSError) -> [(chunk: ChunkRecord, attempts: ChunkAttempts)] {
        // Not `chunks`: a bare name of this file's functions reads as one passed as a value (`ActionCoverageTests`).
        var found: [(chunk: ChunkRecord, attempts: ChunkAttempts)] = []
        var after: DynamoDB.Item?
        repeat {
            let page = try chunkPage(fileID: fileID, from: first, to: end, in: states, after: after)
            found += page.entries
            after = page.next
        } while after != nil
        return found
    }

    /// The chunks `first..<end` of a file, in index order (pages followed).
    public func chunks(fileID: String, from first: Int, to end: Int) throws(AWSError) -> [ChunkRecord] {
        try chunks(fileID: fileID, from: first, to: end, in: nil).map(\.chunk)
    }

    /// The chunks of these indexes that exist, in index order, by key (`DynamoDB.batchGetAll`).
    public func chunks(fileID: String, indexes: [Int]) throws(AWSError) -> [(chunk: ChunkRecord, attempts: ChunkAttempts)] {
        try dynamoDB.batchGetAll(table: tableName, keys: indexes.map { JobTable.chunkKey(fileID, $0) })
            .compactMap { item in ChunkRecord(item: item).map { (chunk: $0, attempts: ChunkAttempts(item: item)) } }
            .sorted { $0.chunk.spec.index < $1.chunk.spec.index }
    }
}
