import CSpawn
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a child process could not be started.
public struct ChildProcessError: Error, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// A process started with `posix_spawn`, with default signal handling and an empty signal mask,
/// as Lambda starts a bootstrap and EC2 an instance's UserData. (Foundation's `Process` on Linux
/// passes its own blocked mask on, so the child would ignore SIGTERM.)
public final class ChildProcess: Sendable {
    public enum Output: Sendable {
        /// stdout and stderr both go to this process's stderr, keeping our stdout for results.
        case standardError
        /// stdout and stderr are read into `append`.
        case pipe(@Sendable (Data) -> Void)
        /// stdout and stderr are appended to this file (created if missing).
        case file(String)
    }

    public let pid: pid_t

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// Starts `executable` with `arguments` (argv[1…]) and exactly `environment`. Standard input is
    /// /dev/null. `onExit` gets the exit status, or 128 + the signal that ended the process, once
    /// the last of its output is read.
    public static func spawn(
        executable: String, arguments: [String] = [], environment: [String: String], workingDirectory: String? = nil,
        output: Output, onExit: @escaping @Sendable (Int32) -> Void
    ) throws(ChildProcessError) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var readEnd: Int32 = -1
        var writeEnd: Int32 = -1
        switch output {
        case .standardError:
            posix_spawn_file_actions_adddup2(&actions, 2, 1)
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case .pipe:
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { throw ChildProcessError("pipe failed: \(String(cString: strerror(errno)))") }
            (readEnd, writeEnd) = (fds[0], fds[1])
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
            posix_spawn_file_actions_addclose(&actions, fds[0])
            posix_spawn_file_actions_addclose(&actions, fds[1])
        }
        if let workingDirectory {
            posix_spawn_file_actions_addchdir_np(&actions, workingDirectory)
        }

        // Nothing else of ours leaks in: an inherited listening socket would keep the Runtime API's
        // port open in the function after the emulator closed it.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        // Only the child writes; the read end sees EOF once the child (and its children) are gone.
        if writeEnd >= 0 { close(writeEnd) }
        guard result == 0 else {
            if readEnd >= 0 { close(readEnd) }
            throw ChildProcessError("cannot start \(executable): \(String(cString: strerror(result)))")
        }

        let drained = DispatchSemaphore(value: 0)
        if case .pipe(let append) = output {
            let fd = readEnd
            Thread.detachNewThread {
                defer { drained.signal() }
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let count = read(fd, &buffer, buffer.count)
                    if count <= 0 { break }
                    append(Data(buffer[0..<count]))
                }
                close(fd)
            }
        } else {
            drained.signal()
        }
        let child = pid
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(child, &status, 0) == -1 && errno == EINTR {}
            // Report the exit only once the last log lines are in (bounded, in case a grandchild holds the pipe).
            _ = drained.wait(timeout: .now() + 2)
            // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import.
            let signal = status & 0x7f
            onExit(signal == 0 ? (status >> 8) & 0xff : 128 + signal)
        }
        return ChildProcess(pid: pid)
    }

    public func signal(_ number: Int32) {
        kill(pid, number)
    }
}
