import AWSCore
import AWSServices
import JobModel
import WallTime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A private repository (`code.token_secret`): the token is read from Secrets Manager with the
/// instance role and handed to git only in its environment, as an `http.<repository>.extraHeader`
/// (`GIT_CONFIG_*`): never in argv (which `ps` shows), the log, the job record or the UserData.
struct PrivateCheckout {
    let repository: String
    let branch: String?
    /// The secret's ARN or name: what every failure names (never its value).
    let secret: String

    init?(_ spec: JobSpec) {
        guard case .git(let repository, let branch, let secret?)? = spec.code else { return nil }
        self.repository = repository
        self.branch = branch
        self.secret = secret
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Clones into `folder` (the steps' working folder), within `deadline`.
    func run(into folder: String, environment: [String: String], deadline: Double, log: JobLog, stop: () -> Bool, tick: () -> Void) throws(Failure) {
        if FileManager.default.fileExists(atPath: "\(folder)/.git") {
            log.note("\(repository) is already cloned in \(folder) (a restarted runner)")
            return
        }
        let token = try fetchToken(environment: environment)
        let header = "Authorization: Basic " + Data("x-access-token:\(token)".utf8).base64EncodedString()
        var gitEnvironment = environment
        // Never wait for a password nobody will type.
        gitEnvironment["GIT_TERMINAL_PROMPT"] = "0"
        gitEnvironment["GIT_ASKPASS"] = "/bin/false"
        gitEnvironment["GIT_CONFIG_COUNT"] = "1"
        gitEnvironment["GIT_CONFIG_KEY_0"] = "http.\(repository).extraHeader"
        gitEnvironment["GIT_CONFIG_VALUE_0"] = header
        let arguments = ["/usr/bin/env", "git", "clone", "--quiet", "--depth", "1"] + (branch.map { ["--branch", $0] } ?? []) + ["--", repository, folder]
        log.note("cloning \(repository)\(branch.map { " (branch \($0))" } ?? "") with the token in secret \(secret)")
        var output: [UInt8] = []
        let ending: Subprocess.Ending
        do {
            ending = try Subprocess.run(arguments, environment: gitEnvironment, deadline: deadline, stop: stop,
                                        output: { output.append(contentsOf: $0.prefix(65_536 - output.count)) }, tick: { log.tick(); tick() })
        } catch {
            throw Failure(description: "cannot clone \(repository): \(error)")
        }
        // git does not print the header, but its output may echo anything it was given: it is scrubbed all the same.
        let said = [token, header].reduce(String(decoding: output, as: UTF8.self)) { $0.replacing($1, with: "***") }
            .trimmingWhitespace
        if !said.isEmpty { log.note("git: \(said)") }
        guard ending == .exited(0) else {
            let how = if case .exited(let status) = ending { "git exited with status \(status)" } else { "git stopped (\(ending))" }
            throw Failure(description: "cannot clone \(repository) with the token in secret \(secret): \(how)\(said.isEmpty ? "" : ": \(said.suffix(500))")")
        }
    }

    /// The secret's current text. A full ARN names its region, which may not be the instance's.
    private func fetchToken(environment: [String: String]) throws(Failure) -> String {
        var environment = environment
        let parts = secret.split(separator: ":", omittingEmptySubsequences: false)
        if parts.first == "arn", parts.count > 3 { environment["AWS_REGION"] = String(parts[3]) }
        let value: SecretsManager.SecretValue
        do {
            value = try SecretsManager(client: AWSClient.fromEnvironment(AWSEnvironment(environment))).getSecretValue(secret)
        } catch {
            throw Failure(description: "cannot read secret \(secret) (the repository's token) from Secrets Manager: \(error)")
        }
        guard let text = value.secretString else {
            throw Failure(description: "secret \(secret) holds binary data; expected the repository's token as text")
        }
        let token = text.trimmingWhitespace
        guard !token.isEmpty, !token.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw Failure(description: "secret \(secret) is not a token: expected one line of text")
        }
        return token
    }
}

private extension String {
    /// Without leading and trailing whitespace (a secret pasted with its newline; git's last line).
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
