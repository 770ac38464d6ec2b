import ChunkStore

/// A chunk's counts as one CloudWatch Embedded Metric Format line: CloudWatch Logs turns it into
/// metrics (namespace `Sortie/Chunks`, by feed) and keeps the ids as searchable properties.
enum MetricsLine {
    static let namespace = "Sortie/Chunks"

    static func render(feed: String, fileID: String, chunkID: String, status: String, counts: ChunkCounts, durationMs: Int64, timestampMs: Int64) -> String {
        func quoted(_ text: String) -> String { String(decoding: JSONOutput.quoted(text), as: UTF8.self) }
        let metrics = ["RecordsRead", "RecordsValid", "RecordsRejected", "RecordsDelivered"]
            .map { #"{"Name":"\#($0)","Unit":"Count"}"# } + [#"{"Name":"ChunkDuration","Unit":"Milliseconds"}"#]
        return #"{"_aws":{"Timestamp":\#(timestampMs),"CloudWatchMetrics":[{"Namespace":"\#(namespace)","Dimensions":[["Feed"]],"Metrics":[\#(metrics.joined(separator: ","))]}]},"#
            + #""Feed":\#(quoted(feed)),"FileId":\#(quoted(fileID)),"ChunkId":\#(quoted(chunkID)),"Status":\#(quoted(status)),"#
            + #""RecordsRead":\#(counts.read),"RecordsValid":\#(counts.valid),"RecordsRejected":\#(counts.rejected),"#
            + #""RecordsDelivered":\#(counts.delivered),"ChunkDuration":\#(durationMs)}"#
    }
}
