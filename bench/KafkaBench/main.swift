import Foundation
import KafkaProducer
import WallTime

// kafka-bench BOOTSTRAP TOPIC FILE: Sortie's Kafka producer delivering FILE's JSON Lines to TOPIC
// as the chunk processor does (idempotent, acks=all, batches of up to 1 MiB; key: the record's
// user_id; headers: file id, chunk, record number), one thread. Prints one JSON object: records,
// bytes, wall seconds, CPU seconds (user + system of the process). bench/kafka.sh runs it beside
// confluent-kafka's producer (bench/kafka_peer.py) sending the same records.

let arguments = CommandLine.arguments
guard arguments.count == 4 else {
    FileHandle.standardError.write(Data("usage: kafka-bench BOOTSTRAP TOPIC FILE\n".utf8))
    exit(2)
}
let (bootstrap, topic, path) = (arguments[1], arguments[2], arguments[3])
guard let file = FileManager.default.contents(atPath: path) else {
    FileHandle.standardError.write(Data("kafka-bench: cannot read \(path)\n".utf8))
    exit(2)
}
let bytes = [UInt8](file)

/// The lines of `bytes` (without their newline) and each one's `"user_id":<digits>` key.
func records(_ bytes: [UInt8]) -> [(line: Range<Int>, key: Range<Int>?)] {
    let marker = Array(#""user_id":"#.utf8)
    var found: [(Range<Int>, Range<Int>?)] = []
    var start = 0
    while start < bytes.count {
        let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        var key: Range<Int>?
        if let at = bytes[start..<end].firstRange(of: marker) {
            let digits = bytes[at.upperBound..<end].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            key = at.upperBound..<(at.upperBound + digits.count)
        }
        if end > start { found.append((start..<end, key)) }
        start = end + 1
    }
    return found
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

let lines = records(bytes)
let deadline = WallClock.monotonicMilliseconds() + 600_000
let (startWall, startCPU) = (WallClock.monotonicMilliseconds(), cpuSeconds())
do {
    let producer = try KafkaProducer(topic: topic, configuration: KafkaConfiguration(bootstrapServers: [bootstrap])) {
        deadline - WallClock.monotonicMilliseconds()
    }
    let fixed = [KafkaHeader("sortie-file-id", "bench"), KafkaHeader("sortie-chunk", "0")]
    try bytes.withUnsafeBufferPointer { all in
        for (number, record) in lines.enumerated() {
            let headers = fixed + [KafkaHeader("sortie-record", String(number + 1))]
            let value = UnsafeBufferPointer(rebasing: all[record.line])
            let rejected = if let key = record.key {
                try producer.append(key: UnsafeBufferPointer(rebasing: all[key]), value: value, headers: headers)
            } else {
                try producer.append(key: nil, value: value, headers: headers)
            }
            if let rejected { throw KafkaError(.failed, "record \(number + 1) refused: \(rejected)") }
        }
    }
    try producer.flush()
    let wall = Double(WallClock.monotonicMilliseconds() - startWall) / 1000
    print(#"{"records": \#(producer.delivered), "bytes": \#(bytes.count), "wallSeconds": \#(wall), "cpuSeconds": \#(cpuSeconds() - startCPU)}"#)
} catch {
    FileHandle.standardError.write(Data("kafka-bench: \(error)\n".utf8))
    exit(1)
}
