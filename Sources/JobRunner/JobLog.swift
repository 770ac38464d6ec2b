import AWSCore
import AWSServices
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
struct LogShipper {
    let logs: CloudWatchLogs
    let group: String
    let stream: String
    private var pending: [CloudWatchLogs.Event] = []
    private var pendingBytes = 0
    private var partial: [UInt8] = []
    private var lastFlush = Clock.seconds()
    /// CloudWatch takes events of up to 256 KiB less 26 bytes; longer lines are split.
    static let maxEvent = 200_000

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
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                emit()
            } else {
                partial.append(byte)
                if partial.count >= Self.maxEvent { emit() }
            }
        }
    }

    mutating func flush(force: Bool) {
        if force, !partial.isEmpty { emit() }
        guard !pending.isEmpty, force || Clock.seconds() - lastFlush >= 2 else { return }
        let batch = pending
        pending = []
        pendingBytes = 0
        lastFlush = Clock.seconds()
        do {
            try logs.putLogEvents(group: group, stream: stream, events: batch)
        } catch {
            complain("could not ship \(batch.count) log lines to \(group) \(stream): \(error)")
        }
    }

    private mutating func emit() {
        let message = partial.isEmpty ? " " : String(decoding: partial, as: UTF8.self)
        partial.removeAll(keepingCapacity: true)
        pending.append(CloudWatchLogs.Event(timestamp: Clock.milliseconds(), message: message))
        pendingBytes += message.utf8.count + 26
        // The service's batch limits: 10,000 events or 1 MiB.
        if pending.count >= 5000 || pendingBytes >= 800_000 { flush(force: true) }
    }
}

func complain(_ message: String) {
    var line = "sortie-runner: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
