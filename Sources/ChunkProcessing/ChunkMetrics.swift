import ChunkStore
import EmbeddedMetrics

/// A chunk's ending as metrics, by feed; the ids stay searchable as properties.
enum ChunkMetrics {
    enum Outcome: String {
        case done, failed, incomplete

        var metric: Metric {
            switch self {
            case .done: .chunksDone
            case .failed: .chunksFailed
            case .incomplete: .chunksIncomplete
            }
        }
    }

    static func ending(feed: String, fileID: String, chunkID: String, outcome: Outcome, counts: ChunkCounts, deliveryMilliseconds: Int64, at now: Int64) -> MetricLine {
        let values: [(metric: Metric, value: Int64)] = [
            (.recordsRead, counts.read), (.recordsValid, counts.valid), (.recordsRejected, counts.rejected), (.recordsDelivered, counts.delivered),
            (.deliveryTime, deliveryMilliseconds),
        ] + [Outcome.done, .failed, .incomplete].map { ($0.metric, $0 == outcome ? 1 : 0) }
        return MetricLine(
            dimension: (.feed, feed), values: values, properties: [("FileId", fileID), ("ChunkId", chunkID), ("Status", outcome.rawValue)],
            timestampMilliseconds: now)
    }
}
