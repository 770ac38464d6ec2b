import ChildProcesses
import Foundation
import Glibc
import Synchronization
import Testing

/// What `ChildProcess` promises a function or UserData script: nothing of the test process
/// (blocked or ignored signals, open descriptors, environment) reaches it, and its end is reported.
@Suite("Child processes as Lambda and EC2 start them")
struct ChildProcessTests {
    struct Ended: Sendable {
        var status: Int32
        var output: String
    }

    struct StillRunning: Error, CustomStringConvertible {
        var description: String
    }

    /// Spawns `executable` from this thread, with `SIGTERM` blocked on it while `blockingTERM`,
    /// as Foundation and other runtimes leave their threads; `whileRunning` gets the child first.
    private func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], blockingTERM: Bool = false,
        whileRunning: (ChildProcess) -> Void = { _ in }
    ) throws -> Ended {
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        if blockingTERM { pthread_sigmask(SIG_BLOCK, &blocked, &previous) }
        defer { if blockingTERM { pthread_sigmask(SIG_SETMASK, &previous, nil) } }
        let output = Mutex(Data()), status = Mutex<Int32?>(nil)
        let exited = DispatchSemaphore(value: 0)
        let child = try ChildProcess.spawn(
            executable: executable, arguments: arguments, environment: environment,
            output: .pipe { data in output.withLock { $0.append(data) } }
        ) { code in
            status.withLock { $0 = code }
            exited.signal()
        }
        whileRunning(child)
        guard exited.wait(timeout: .now() + 10) == .success, let code = status.withLock({ $0 }) else {
            child.signal(SIGKILL)
            throw StillRunning(description: "\(executable) \(arguments) still runs after 10 s")
        }
        return Ended(status: code, output: String(decoding: output.withLock { $0 }, as: UTF8.self))
    }

    @Test("the exit status, or 128 + the signal that ended the process", arguments: [
        ("exit 0", Int32(0)), ("exit 7", 7), ("kill -KILL $$", 137),
    ])
    func exitStatus(script: String, expected: Int32) throws {
        #expect(try run("/bin/sh", ["-c", script]).status == expected)
    }

    @Test("the child starts with no signal blocked or ignored, even from a thread that blocks SIGTERM")
    func emptySignalMask() throws {
        let status = try run("/bin/cat", ["/proc/self/status"], blockingTERM: true)
        let lines = status.output.split(separator: "\n").filter { $0.hasPrefix("SigBlk:") || $0.hasPrefix("SigIgn:") }
        #expect(lines.count == 2)
        // Bit n - 1 is signal n. glibc keeps 32 and 33 for itself (thread cancellation, setxid) and
        // posix_spawn leaves them alone; no program can use them.
        let glibcInternal: UInt64 = 1 << 31 | 1 << 32
        for line in lines {
            let mask = try #require(line.split(separator: "\t").last.flatMap { UInt64($0, radix: 16) }, "\(line)")
            #expect(mask & ~glibcInternal == 0, "\(line)")
        }
    }

    @Test("SIGTERM ends a child spawned from a thread that blocks it")
    func terminates() throws {
        let ended = try run("/bin/sleep", ["30"], blockingTERM: true) { $0.signal(SIGTERM) }
        #expect(ended.status == 128 + SIGTERM)
    }

    @Test("the child inherits none of our descriptors and exactly the environment given")
    func nothingInherited() throws {
        // Opened without O_CLOEXEC, as a listening socket or a log file might be.
        let descriptor = open("/dev/null", O_RDONLY)
        try #require(descriptor > 2)
        defer { close(descriptor) }
        let ended = try run("/bin/sh", ["-c", "if [ -e /proc/self/fd/\(descriptor) ]; then echo inherited; else echo closed; fi"])
        #expect(ended.output == "closed\n")
        #expect(try run("/usr/bin/env", [], environment: ["ONLY": "this"]).output == "ONLY=this\n")
    }

    @Test("a program that cannot be started is named in the error")
    func missingProgram() {
        let error = #expect(throws: ChildProcessError.self) { try run("/nonexistent/program", []) }
        #expect(error?.description.contains("/nonexistent/program") == true)
    }
}
