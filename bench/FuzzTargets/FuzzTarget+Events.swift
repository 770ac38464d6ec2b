import ChunkPlanning
import ChunkProcessing
import RecordFormats
import Reactor
import S3Submitter
import JobModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The functions' events and payloads, decoded as their handlers decode them.
extension FuzzTarget {
    static let events: [FuzzTarget] = [
        .json("launch-event", LaunchEvent.self, summary: "launcher: Scheduled Events and manual events (dry runs' inline specs read as specs)",
              seeds: { Seeds.events("launcher") }) { event in
            guard let inline = event.inlineSpec, let spec = try? JobSpec.read(inline) else { return }
            _ = try? spec.resolveArguments(event.arguments)
        },
        .json("reactor-event", ReactorEvent.self, summary: "retry-reactor: EC2 state changes, spot warnings, the sweep's schedule",
              seeds: { Seeds.events("ec2-", "retry-reactor") }),
        .json("s3-event", SubmitterEvent.self, summary: "s3-submitter: S3 notifications (form-encoded keys) and EventBridge Object Created",
              seeds: { Seeds.events("s3-") }),
        .json("chunk-task", ChunkTask.self, summary: "chunk-processor: the chunk payload, its gzip entry's window unpacked",
              seeds: { Seeds.events("chunk-processor") + [Array(chunkTaskWithWindow.utf8)] }) { task in
            // The processor starts inflating at the task's entry: its window comes from the payload.
            _ = try? GzipInflater(start: task.chunk.entry ?? .fileStart)
        },
        FuzzTarget(name: "feeds", summary: "SORTIE_FEEDS: the feeds document read as the chunk functions read it, each feed's field patterns compiled",
                   seeds: { Seeds.text(ordersFeeds) }) { input in
            guard let catalog = try? FeedCatalog(document: input) else { return }
            for feed in catalog.feeds { _ = try? RecordSchema(rules: feed.fields, columns: nil) }
        },
    ]

    static let ordersFeeds = #"""
    {"feeds":[{"name":"orders","prefix":"incoming/orders/","format":"csv","header":true,"fields":[{"name":"order_id","type":"integer","required":true},{"name":"customer","type":"string","required":true,"pattern":"C[0-9]{8}"},{"name":"email","type":"string","pattern":"[^@ ]+@[^@ ]+"},{"name":"amount","type":"number","required":true},{"name":"currency","type":"string","required":true,"pattern":"[A-Z]{3}"},{"name":"ordered_on","type":"date","required":true},{"name":"paid","type":"boolean"},{"name":"note","type":"string"}],"destination":{"type":"sqs","queueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/sortie-orders","recordsPerMessage":100},"rejects":{"bucket":"sortie-rejects","prefix":"orders/"}},{"name":"clicks","prefix":"incoming/clicks/","format":"jsonl","fields":[{"name":"event_id","type":"string","required":true,"pattern":"[0-9a-f]{32}"}],"destination":{"type":"s3","bucket":"out","prefix":"clicks/"},"rejects":{"bucket":"sortie-rejects","prefix":"clicks/"}}]}
    """#

    /// A chunk entered at an access point: `window` is a packed (gzip) 32 KiB window, base64.
    static var chunkTaskWithWindow: String {
        let window = (try? Gzip.compress([UInt8](repeating: UInt8(ascii: "a"), count: 32 << 10))) ?? []
        return #"{"version":1,"fileId":"f","chunkId":"f-c00001","feed":"orders","object":{"bucket":"b","key":"k.csv.gz","eTag":"\"e\"","size":100},"chunk":{"index":1,"firstRecord":10,"recordCount":10,"start":100,"end":200,"startLine":11,"entry":{"compressedOffset":5,"decompressedOffset":100,"bits":3,"window":""#
            + Data(window).base64EncodedString() + #""}},"expiresAt":1}"#
    }
}
