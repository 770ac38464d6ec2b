import JobModel
import WallTime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `sortie-runner`'s command line, parsed by hand: the runner stays free of full Foundation.
public enum RunnerCommand {
    public static let usage = """
        usage: sortie-runner run PAYLOAD.json       run a job the launcher rendered (on EC2, from its UserData)
               sortie-runner --local SPEC [--arg NAME=VALUE]... [--log-dir DIR]
                                                    run a job's steps on this machine, reporting nowhere
               sortie-runner --version

        SPEC is a published spec (.json) or a YAML one (.yaml, .yml), converted by the `sortie`
        tool found next to this program or on PATH. `run` reports to AWS unless
        SORTIE_RUNNER_LOCAL=1 (a rendered UserData script tried off EC2). After the job the
        machine is shut down with SORTIE_SHUTDOWN_COMMAND (on EC2: `shutdown -h now`), unless
        the spec says no_shutdown; a local run shuts down nothing unless that variable is set.
        """

    public struct UsageError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs the command and returns the exit status.
    public static func main(_ arguments: [String], environment: [String: String]) -> Int32 {
        do {
            switch arguments.first {
            case "run":
                return try runPayload(Array(arguments.dropFirst()), environment: environment)
            case "--local":
                return try runLocal(Array(arguments.dropFirst()), environment: environment)
            case "--help", "-h":
                print(usage)
                return 0
            default:
                throw UsageError(description: "expected `run` or `--local`")
            }
        } catch {
            complain("\(error)\n\n\(usage)")
            return 2
        }
    }

    private static func runPayload(_ arguments: [String], environment: [String: String]) throws(UsageError) -> Int32 {
        guard arguments.count == 1, let path = arguments.first else { throw UsageError(description: "`run` takes one payload file") }
        let local = environment["SORTIE_RUNNER_LOCAL"] == "1"
        let home = environment["SORTIE_HOME"] ?? "/opt/sortie"
        let shutdown = environment["SORTIE_SHUTDOWN_COMMAND"] ?? (local ? nil : "shutdown -h now")
        let payload: RunnerPayload
        do {
            payload = try JSONDecoder().decode(RunnerPayload.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            try changeDirectory(to: "\(home)/code")
        } catch {
            // Nothing to run and no record to write: the instance still goes.
            complain("cannot run \(path): \(error)")
            if let shutdown { Runner.shutDown(shutdown, environment: environment) }
            return 2
        }
        return Runner.run(payload, options: RunnerOptions(
            reporting: local ? nil : payload.reporting, echo: local, logDirectory: "\(home)/logs", shutdownCommand: shutdown,
            environment: environment, askInstanceMetadata: !local && environment["AWS_EC2_METADATA_DISABLED"] != "true", codeDirectory: "\(home)/code"))
    }

    private static func runLocal(_ arguments: [String], environment: [String: String]) throws -> Int32 {
        var specPath: String?
        var given: [String: String] = [:]
        var logDirectory = ".sortie/logs"
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--arg":
                guard let pair = rest.popFirst(), let equals = pair.firstIndex(of: "=") else { throw UsageError(description: "--arg takes NAME=VALUE") }
                given[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            case "--log-dir":
                guard let folder = rest.popFirst() else { throw UsageError(description: "--log-dir takes a folder") }
                logDirectory = folder
            default:
                guard specPath == nil, !argument.hasPrefix("-") else { throw UsageError(description: "unexpected argument '\(argument)'") }
                specPath = argument
            }
        }
        guard let specPath else { throw UsageError(description: "--local needs a spec file") }
        let spec = try loadSpec(specPath, environment: environment)
        let payload = RunnerPayload(
            jobID: "local-\(UUID().uuidString.prefix(8).lowercased())", attempt: 1, arguments: try spec.resolveArguments(given), spec: spec, reporting: nil)
        return Runner.run(payload, options: RunnerOptions(
            reporting: nil, echo: true, logDirectory: logDirectory, shutdownCommand: environment["SORTIE_SHUTDOWN_COMMAND"],
            environment: environment, askInstanceMetadata: false))
    }

    /// JSON is read here; YAML goes through `sortie json`, which holds the YAML parser.
    static func loadSpec(_ path: String, environment: [String: String]) throws -> JobSpec {
        guard path.hasSuffix(".yaml") || path.hasSuffix(".yml") else {
            return try JSONDecoder().decode(JobSpec.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        }
        guard let tool = findSortie(environment) else {
            throw UsageError(description: "\(path) is YAML, which the runner reads through the `sortie` tool: put `sortie` next to sortie-runner or on PATH, or pass the JSON `sortie json \(path)` prints")
        }
        var output: [UInt8] = []
        let ending = try Subprocess.run([tool, "json", path], environment: environment, deadline: WallClock.unixSeconds() + 60, stop: { false },
                                        output: { output.append(contentsOf: $0) }, tick: {})
        guard ending == .exited(0) else {
            throw UsageError(description: "`sortie json \(path)` failed:\n\(String(decoding: output, as: UTF8.self))")
        }
        return try JSONDecoder().decode(JobSpec.self, from: Data(output))
    }

    private static func findSortie(_ environment: [String: String]) -> String? {
        var folders: [String] = []
        if let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            folders.append(String(me[..<(me.lastIndex(of: "/") ?? me.startIndex)]))
        }
        folders += (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
        return folders.map { "\($0)/sortie" }.first { access($0, X_OK) == 0 }
    }

    private static func changeDirectory(to path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard chdir(path) == 0 else { throw UsageError(description: "cannot enter \(path): \(String(cString: strerror(errno)))") }
    }
}
