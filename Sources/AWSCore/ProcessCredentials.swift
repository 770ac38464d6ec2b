#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A profile's `credential_process`: the command (split as a POSIX shell splits words, run
/// without a shell, as the AWS CLI does) prints `{"Version": 1, "AccessKeyId": …,
/// "SecretAccessKey": …, "SessionToken": …, "Expiration": …}` on stdout. Its stderr is the
/// caller's (a login prompt may need it).
public struct ProcessCredentialProvider: AWSCredentialProvider {
    public let command: String

    public init(command: String) {
        self.command = command
    }

    struct Document: Decodable {
        var Version: Int?
        var AccessKeyId: String?
        var SecretAccessKey: String?
        var SessionToken: String?
        var Expiration: String?
    }

    public func credentials() throws(AWSError) -> AWSCredentials {
        let arguments = try Self.split(command)
        guard !arguments.isEmpty else { throw .credentials("credential_process is empty") }
        let (status, output) = try Self.run(arguments)
        guard status == 0 else {
            throw .credentials("credential_process '\(arguments[0])' exited with status \(status)")
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(output)) else {
            throw .credentials("credential_process '\(arguments[0])' did not print a JSON object")
        }
        guard document.Version == 1 else {
            throw .credentials("credential_process '\(arguments[0])' printed Version \(document.Version.map(String.init) ?? "none"), not 1")
        }
        guard let key = document.AccessKeyId, !key.isEmpty, let secret = document.SecretAccessKey, !secret.isEmpty else {
            throw .credentials("credential_process '\(arguments[0])' printed no AccessKeyId and SecretAccessKey")
        }
        var expiration: Date?
        if let text = document.Expiration {
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw .credentials("credential_process '\(arguments[0])' printed an Expiration that is not ISO 8601: '\(text)'")
            }
            expiration = date
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: document.SessionToken, expiration: expiration)
    }

    /// Words as a POSIX shell (Python's `shlex.split`) splits them: blanks separate, single quotes
    /// keep everything, double quotes keep all but `\"`, `\\`, `\$` and `` \` ``, a backslash
    /// outside quotes keeps the next character.
    static func split(_ text: String) throws(AWSError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var characters = text.makeIterator()
        while let character = characters.next() {
            switch character {
            case " ", "\t", "\n", "\r":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                while true {
                    guard let next = characters.next() else { throw .credentials("credential_process has an unclosed single quote") }
                    if next == "'" { break }
                    word.append(next)
                }
            case "\"":
                inWord = true
                while true {
                    guard let next = characters.next() else { throw .credentials("credential_process has an unclosed double quote") }
                    if next == "\"" { break }
                    if next == "\\" {
                        guard let escaped = characters.next() else { throw .credentials("credential_process has an unclosed double quote") }
                        if !"\"\\$`".contains(escaped) { word.append("\\") }
                        word.append(escaped)
                    } else {
                        word.append(next)
                    }
                }
            case "\\":
                inWord = true
                if let escaped = characters.next() { word.append(escaped) }
            default:
                inWord = true
                word.append(character)
            }
        }
        if inWord { words.append(word) }
        return words
    }

    /// Runs `arguments` (found on `PATH`) with this process's environment; returns its exit
    /// status and stdout (at most 1 MiB is kept).
    static func run(_ arguments: [String]) throws(AWSError) -> (status: Int32, output: [UInt8]) {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw .credentials("credential_process: pipe failed: \(String(cString: strerror(errno)))") }
        // Neither end may leak into the child as itself (dup2 gives it the write end as stdout).
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ)
        close(pipeEnds[1])
        guard spawned == 0 else {
            close(pipeEnds[0])
            throw .credentials("credential_process '\(arguments[0])' could not be started: \(String(cString: strerror(spawned)))")
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            if output.count < 1 << 20 { output += buffer[..<count] }
        }
        close(pipeEnds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, which Swift does not import.
        let exited = status & 0x7F == 0
        return (exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), output)
    }
}
