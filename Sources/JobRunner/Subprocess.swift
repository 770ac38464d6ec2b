#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import WallTime

/// A child process in its own process group, its stdout and stderr on one pipe, watched against
/// a deadline. FoundationEssentials has no `Process`; this is the little the runner needs.
struct Subprocess {
    enum Ending: Equatable {
        case exited(Int32)
        case signaled(Int32)
        /// The deadline passed; the group was sent SIGTERM, then SIGKILL after the grace period.
        case timedOut
        /// `stop()` said so (SIGTERM to the runner); the group was stopped the same way.
        case interrupted
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    /// Seconds between SIGTERM and SIGKILL for a group being stopped.
    static let grace: Double = 10

    /// Runs `arguments` (the first is an absolute path) in the current directory until it ends;
    /// output goes to `output` as it arrives, and `tick` is called about every 100 ms.
    static func run(
        _ arguments: [String], environment: [String: String], deadline: Double?,
        stop: () -> Bool, output: (UnsafeRawBufferPointer) -> Void, tick: () -> Void
    ) throws(SpawnError) -> Ending {
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { throw SpawnError(description: "pipe: errno \(errno)") }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let pid: pid_t
        do {
            pid = try spawn(arguments, environment: environment, output: pipeEnds[1])
        } catch {
            close(pipeEnds[0])
            close(pipeEnds[1])
            throw error
        }
        close(pipeEnds[1])
        defer { close(pipeEnds[0]) }

        var status: Int32 = 0
        var exitedAt: Double?
        var open = true
        var stopping: (ending: Ending, since: Double, killed: Bool)?
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            if exitedAt == nil, waitpid(pid, &status, WNOHANG) == pid { exitedAt = WallClock.unixSeconds() }
            if open {
                var poller = pollfd(fd: pipeEnds[0], events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 100) > 0 {
                    let count = buffer.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
                    if count > 0 {
                        buffer.withUnsafeBytes { output(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                    } else if count == 0 || errno != EINTR {
                        open = false
                    }
                }
            } else {
                usleep(50_000)
            }
            tick()
            let now = WallClock.unixSeconds()
            if let exitedAt {
                // Background children may hold the pipe open after the step's shell is gone:
                // a moment to drain, then they go with it.
                if !open || now - exitedAt > 1 {
                    kill(-pid, SIGKILL)
                    break
                }
                continue
            }
            if stopping == nil {
                if stop() {
                    stopping = (.interrupted, now, false)
                } else if let deadline, now >= deadline {
                    stopping = (.timedOut, now, false)
                }
                if stopping != nil { kill(-pid, SIGTERM) }
            } else if let current = stopping, !current.killed, now - current.since >= grace {
                kill(-pid, SIGKILL)
                stopping?.killed = true
            }
        }
        if let stopping { return stopping.ending }
        if (status & 0x7f) == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }

    private static func spawn(_ arguments: [String], environment: [String: String], output: Int32) throws(SpawnError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own group, so a timeout stops the whole pipeline; default signal dispositions
        // (SIGPIPE included), so `yes | head` behaves as in a terminal.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else { throw SpawnError(description: "cannot run \(arguments[0]): \(String(cString: strerror(result)))") }
        return pid
    }
}
