import AWSCore
import AWSServices
import WallTime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a job's output goes as it arrives: the full log file (kept byte for byte, then put in
/// S3), the terminal when run by hand, and CloudWatch Logs on EC2. A reference type: it owns a
/// file descriptor and the shipping buffer, used from the runner's one thread.
final class JobLog {
    let path: String
    private let descriptor: Int32
    private let echo: Bool
    private var shipper: LogShipper?

    init(path: String, echo: Bool, shipper: LogShipper?) throws(Subprocess.SpawnError) {
        self.path = path
        self.echo = echo
        self.shipper = shipper
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Subprocess.SpawnError(description: "cannot write the log \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(descriptor) }

    /// A step's output.
    func write(_ bytes: UnsafeRawBufferPointer) {
        writeAll(descriptor, bytes)
        if echo { writeAll(1, bytes) }
        shipper?.append(bytes)
    }

    /// The runner's own line between steps, marked so it stands out from the steps' output.
    func note(_ text: String) {
        var line = "[sortie] \(text)\n"
        line.withUTF8 { bytes in
            writeAll(descriptor, UnsafeRawBufferPointer(bytes))
            if echo { writeAll(2, UnsafeRawBufferPointer(bytes)) }
            shipper?.append(UnsafeRawBufferPointer(bytes))
        }
    }

    /// Called often: ships what is due.
    func tick() {
        shipper?.flush(force: false)
    }

    func finish() {
        shipper?.flush(force: true)
        fsync(descriptor)
    }

    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}

/// Lines to CloudWatch Logs in batches: every 2 s, or sooner when a batch fills. Shipping
/// failures are reported on stderr and never fail the job (the S3 copy is complete anyway).
///
/// Whatever a step prints, every event and batch is one PutLogEvents accepts: the bytes are
/// decoded as UTF-8 first (an invalid byte becomes U+FFFD, three bytes), and a line is then cut
/// between characters into events of at most `maxMessageBytes`, as AWS counts them.
struct LogShipper {
    let logs: CloudWatchLogs
    let group: String
    let stream: String
    private var pending: [CloudWatchLogs.Event] = []
    /// As AWS counts a batch: each message's UTF-8 bytes plus `eventOverhead`.
    private var pendingBytes = 0
    /// The current line's bytes not decoded yet: less than `decodeChunk`, or an unfinished character.
    private var raw: [UInt8] = []
    /// The current line's decoded text not in an event yet: valid UTF-8, at most `maxMessageBytes`.
    private var line: [UInt8] = []
    /// Whether the current line has given an event already (an empty line gives one of its own).
    private var lineShipped = false
    private var lastTimestamp: Int64 = 0
    private var lastFlush = WallClock.unixSeconds()

    /// PutLogEvents' limits (botocore's logs model and its documentation): a batch is at most
    /// 1,048,576 bytes, counting 26 per event, and 10,000 events; an event's message is at least
    /// one character. The model now allows events of 1 MB; 256 KiB, every region's limit for
    /// years, keeps a line cut the same everywhere.
    static let eventOverhead = 26
    static let maxMessageBytes = 262_144 - eventOverhead
    static let maxBatchBytes = 1_048_576
    static let maxBatchEvents = 10_000
    /// Within a long line, bytes are decoded this many at a time.
    static let decodeChunk = 64 << 10

    init(logs: CloudWatchLogs, group: String, stream: String) {
        self.logs = logs
        self.group = group
        self.stream = stream
        do {
            try logs.createLogStream(group: group, stream: stream)
        } catch where error.isAlreadyExists {
            // A restarted runner continues its stream.
        } catch {
            complain("cannot create log stream \(group) \(stream): \(error)")
        }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            raw.append(contentsOf: bytes[start..<newline])
            decode(all: true)
            endLine()
            start = newline + 1
        }
        raw.append(contentsOf: bytes[start...])
        if raw.count >= Self.decodeChunk { decode(all: false) }
    }

    mutating func flush(force: Bool) {
        if force, !raw.isEmpty || !line.isEmpty {
            decode(all: true)
            endLine()
        }
        if force || WallClock.unixSeconds() - lastFlush >= 2 { send() }
    }

    /// The pending events in one PutLogEvents.
    private mutating func send() {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = []
        pendingBytes = 0
        lastFlush = WallClock.unixSeconds()
        do {
            try logs.putLogEvents(group: group, stream: stream, events: batch)
        } catch {
            complain("could not ship \(batch.count) log lines to \(group) \(stream): \(error)")
        }
    }

    /// Decodes `raw` into `line` (all of it at a line's end, else all but an unfinished
    /// character), shipping `line` each time it is full.
    private mutating func decode(all: Bool) {
        let cut = all ? raw.count : Self.finishedPrefix(raw)
        guard cut > 0 else { return }
        let decoded = Array(String(decoding: raw[..<cut], as: UTF8.self).utf8)
        raw.removeFirst(cut)
        var offset = 0
        while offset < decoded.count {
            let room = Self.maxMessageBytes - line.count
            if decoded.count - offset <= room {
                line.append(contentsOf: decoded[offset...])
                return
            }
            // Back to the start of a character: continuation bytes are 10xxxxxx.
            var end = offset + room
            while end > offset, decoded[end] & 0xC0 == 0x80 { end -= 1 }
            line.append(contentsOf: decoded[offset..<end])
            offset = end
            ship()
        }
    }

    private mutating func endLine() {
        if !line.isEmpty || !lineShipped { ship() }
        lineShipped = false
    }

    /// `line` as one event (a single space for an empty line: a message has at least one character).
    private mutating func ship() {
        let message = line.isEmpty ? " " : String(decoding: line, as: UTF8.self)
        line.removeAll(keepingCapacity: true)
        lineShipped = true
        let size = message.utf8.count + Self.eventOverhead
        if pendingBytes + size > Self.maxBatchBytes || pending.count >= Self.maxBatchEvents { send() }
        // A batch must be in time order: a clock stepped back does not reorder lines.
        lastTimestamp = max(lastTimestamp, WallClock.unixMilliseconds())
        pending.append(CloudWatchLogs.Event(timestamp: lastTimestamp, message: message))
        pendingBytes += size
    }

    /// How many of `bytes` end on a character boundary: an unfinished sequence at the end (a lead
    /// byte without all its continuation bytes yet) waits for the bytes after it.
    static func finishedPrefix(_ bytes: [UInt8]) -> Int {
        var index = bytes.count
        while index > 0, bytes.count - index < 4 {
            index -= 1
            let byte = bytes[index]
            guard byte & 0xC0 == 0x80 else {
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                return bytes.count - index < length ? index : bytes.count
            }
        }
        return bytes.count
    }
}

func complain(_ message: String) {
    var line = "sortie-runner: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
