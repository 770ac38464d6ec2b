import AWSCore
import AWSServices
import Deployment
import DevEnvironment
import Foundation
import JobModel
import JobStore
import SortieTestSupport
import TableSchema
import Testing
import WallTime

/// `code.token_secret`: the runner on EC2 reads a private repository's token from Secrets
/// Manager (moto, as the job role, IAM enforced) and clones over HTTPS from a loopback server
/// that refuses any request without it.
@Suite("The runner's private checkout", .serialized)
struct PrivateCheckoutTests {
    struct World {
        let deployment: Deployment
        let git: PrivateGitServer
        let token: String
        let secret: String
        let home: URL
        /// Every `git` the runner started, with its arguments: a wrapper first on PATH records them.
        var gitCalls: URL { home.appendingPathComponent("git-calls.txt") }

        func stop() async {
            await git.stop()
            try? FileManager.default.removeItem(at: home)
        }
    }

    /// A deployment, a repository readable with a fresh token, and that token in a secret named
    /// under the template's default `JobSecretNamePrefix` (`sortie/`).
    private func world(storedToken: String? = nil, delay: Duration = .zero) async throws -> World {
        let deployment = try await Deployment.create()
        let token = "ghp_" + UUID().uuidString.replacing("-", with: "")
        let git = try await PrivateGitServer.start(files: ["hello.txt": "code from the private repository\n"], token: token, delay: delay)
        let secret = "sortie/etl-token-\(UUID().uuidString.prefix(8).lowercased())"
        try await blocking {
            let json = JSONProtocolClient(client: deployment.client, service: .secretsManager, version: "1.1", targetPrefix: "secretsmanager")
            let _: EmptyOutput = try json.call("CreateSecret", ["Name": secret, "SecretString": (storedToken ?? token) + "\n"])
        }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home.appendingPathComponent("wrapped"), withIntermediateDirectories: true)
        let wrapper = home.appendingPathComponent("wrapped/git")
        try "#!/bin/bash\nprintf '%s\\n' \"$*\" >> '\(home.path)/git-calls.txt'\nexec /usr/bin/git \"$@\"\n".write(to: wrapper, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)
        return World(deployment: deployment, git: git, token: token, secret: secret, home: home)
    }

    private func spec(_ world: World, secret: String? = nil) -> JobSpec {
        var spec = testSpec(Deployment.uniqueName("private"), steps: [
            .init(name: "read", run: "cat hello.txt; git log -1 --format='commit: %s'"),
            // Everything the step sees: the token must not be among it.
            .init(name: "environment", run: "env | sort"),
        ])
        spec.code = .git(repository: world.git.url, branch: "main", tokenSecret: secret ?? world.secret)
        return spec
    }

    /// A STARTING job's payload written where the UserData puts it, and the environment its instance's runner has.
    private func prepare(_ world: World, _ spec: JobSpec, roleEnvironment: [String: String]? = nil) async throws -> (RunnerPayload, [String: String]) {
        let record = JobRecord(id: UUID().uuidString.lowercased(), job: spec.name, parameters: [:], submittedAt: WallClock.unixMilliseconds())
        let store = world.deployment.store
        let started = try await blocking { () throws -> JobStore.StartResult in
            _ = try store.submit(record, eventID: "private-\(record.id)")
            return try store.start(record, maxConcurrency: 1, globalLimit: 100)
        }
        guard case .started = started else { throw MotoServer.MotoError.notStarted("the job did not start: \(started)") }
        let payload = RunnerPayload(jobID: record.id, attempt: 1, arguments: [:], spec: spec, reporting: ReportingConfiguration(
            table: world.deployment.table, logGroup: world.deployment.logGroup, logBucket: world.deployment.bucket, logPrefix: "logs/",
            region: MotoServer.region, heartbeatSeconds: 60))
        try? FileManager.default.removeItem(at: world.home.appendingPathComponent("code"))
        try JSONEncoder.sorted.encode(payload).write(to: world.home.appendingPathComponent("job.json"))
        let environment = world.deployment.server.environment.merging(try roleEnvironment ?? world.deployment.roles.environment("sortie-runner")) { $1 }
            .merging([
                "PATH": "\(world.home.path)/wrapped:/usr/bin:/bin", "HOME": world.home.path, "SORTIE_HOME": world.home.path,
                "SORTIE_SHUTDOWN_COMMAND": "true", "GIT_SSL_CAINFO": world.git.authority,
            ]) { $1 }
        return (payload, environment)
    }

    /// Runs `sortie-runner run` on a STARTING job as its instance would; `roleEnvironment`: other credentials than the job role's.
    private func run(_ world: World, _ spec: JobSpec, roleEnvironment: [String: String]? = nil) async throws -> (RunnerPayload, Command.Result) {
        let (payload, environment) = try await prepare(world, spec, roleEnvironment: roleEnvironment)
        let result = try Command.run(try BuiltProducts.executable("sortie-runner"), ["run", world.home.appendingPathComponent("job.json").path],
                                     environment: environment, timeout: .seconds(120))
        return (payload, result)
    }

    /// Everything the deployment kept of the attempt, as text: the record, the S3 log, the CloudWatch events.
    private func kept(_ world: World, _ payload: RunnerPayload) async throws -> (record: String, log: String, events: String) {
        let deployment = world.deployment
        let item = try await deployment.item(JobTable.jobKey(payload.jobID))
        let key = "logs/\(payload.spec.name)/\(payload.jobID)/attempt-1.log"
        let log = try await blocking { try S3(client: deployment.client).getObject(bucket: deployment.bucket, key: key).body }
        let events = try await blocking {
            try CloudWatchLogs(client: deployment.client).getLogEvents(group: deployment.logGroup, stream: "\(payload.spec.name)/\(payload.jobID)/attempt-1")
        }
        return ("\(item ?? [:])", String(decoding: log, as: UTF8.self), events.map(\.message).joined(separator: "\n"))
    }

    @Test("the token, read from Secrets Manager with the job role, clones the private repository over HTTPS and the steps run in the clone; it is nowhere in git's arguments, the steps' environment, the log, the CloudWatch events, the record or the UserData")
    func clonesWithToken() async throws {
        let world = try await world()
        defer { Task { await world.stop() } }
        let spec = spec(world)
        let (payload, result) = try await run(world, spec)
        #expect(result.status == 0, "\(result.stderr)")
        let record = try #require(try await world.deployment.record(payload.jobID))
        #expect(record.state == .succeeded, "\(record.statusReason ?? "") \(record.reason ?? "")")
        let (item, log, events) = try await kept(world, payload)
        #expect(log.contains("code from the private repository\ncommit: the job's code\n"))
        #expect(log.contains("[sortie] cloning \(world.git.url) (branch main) with the token in secret \(world.secret)"))
        #expect(events.contains("code from the private repository"))
        #expect(world.git.requests.count >= 3 && world.git.refusals == 0, "every request carried the token: \(world.git.requests.map(\.path))")

        let calls = try String(contentsOf: world.gitCalls, encoding: .utf8)
        #expect(calls.hasPrefix("clone --quiet --depth 1 --branch main -- \(world.git.url) \(world.home.path)/code\n"), "\(calls)")
        let header = Data("x-access-token:\(world.token)".utf8).base64EncodedString()
        let script = try UserData.render(payload, runnerURL: "s3://artifacts/runner/sortie-runner")
        for (place, text) in [("git's arguments", calls), ("the log", log), ("the CloudWatch events", events), ("the record", item),
                              ("the UserData", script), ("the runner's output", result.stdout + result.stderr)] {
            #expect(!text.contains(world.token) && !text.contains(header), "the token is in \(place)")
        }
        #expect(log.contains("SORTIE_JOB=\(spec.name)") && !log.contains("GIT_CONFIG"), "the steps' environment is printed, without git's settings")
    }

    @Test("a missing secret, a role without secretsmanager:GetSecretValue, or a token the server refuses fails the attempt before any step, the reason naming the secret, never its value")
    func refused() async throws {
        let world = try await world(storedToken: "ghp_not_the_right_one")
        defer { Task { await world.stop() } }

        // No such secret.
        let missing = "sortie/no-such-token"
        let (absent, absentRun) = try await run(world, spec(world, secret: missing))
        #expect(absentRun.status == 1)
        var record = try #require(try await world.deployment.record(absent.jobID))
        #expect(record.state == .failed && record.statusReason == "Code checkout failed" && record.failingStep == nil && record.exitCode == nil)
        #expect(record.reason?.hasPrefix("cannot read secret \(missing) (the repository's token) from Secrets Manager:") == true, "\(record.reason ?? "")")
        #expect(record.reason?.contains("ResourceNotFoundException") == true, "\(record.reason ?? "")")
        let absentLog = try await kept(world, absent).log
        #expect(absentLog.contains("[sortie] FAILED after") && !absentLog.contains("step 1/2"), "\(absentLog)")

        // A job role without the grant: the runner's definition less secretsmanager:GetSecretValue.
        let all = try FunctionDefinition.load(folder: Repository.root.appendingPathComponent("functions"))
        var runner = try #require(all.first { $0.name == "sortie-runner" })
        runner.permissions = runner.permissions?.filter { !$0.actions.contains("secretsmanager:GetSecretValue") }
        let denied = try await blocking { [runner] () throws -> [String: String] in
            var names = DeploymentNames(definitions: all, region: MotoServer.region, account: MotoServer.accountID)
            names.table(world.deployment.table)
            names.logGroup(world.deployment.logGroup)
            names["ArtifactBucket"] = world.deployment.bucket
            names["JobLogBucket"] = world.deployment.bucket
            let roles = try DeploymentRoles.create([runner], names: &names, client: world.deployment.client, prefix: "denied-\(UUID().uuidString.prefix(6))-")
            return try roles.environment("sortie-runner")
        }
        let (forbidden, forbiddenRun) = try await run(world, spec(world), roleEnvironment: denied)
        #expect(forbiddenRun.status == 1)
        record = try #require(try await world.deployment.record(forbidden.jobID))
        #expect(record.state == .failed && record.statusReason == "Code checkout failed")
        #expect(record.reason?.hasPrefix("cannot read secret \(world.secret) (the repository's token)") == true, "\(record.reason ?? "")")
        #expect(record.reason?.contains("AccessDenied") == true, "\(record.reason ?? "")")

        // The secret holds a token the server does not take.
        let (wrong, wrongRun) = try await run(world, spec(world))
        #expect(wrongRun.status == 1)
        record = try #require(try await world.deployment.record(wrong.jobID))
        #expect(record.state == .failed && record.statusReason == "Code checkout failed" && record.failingStep == nil)
        #expect(record.reason?.hasPrefix("cannot clone \(world.git.url) with the token in secret \(world.secret): git exited with status 128") == true, "\(record.reason ?? "")")
        #expect(world.git.refusals >= 1)
        let kept = try await kept(world, wrong)
        for text in [kept.record, kept.log, kept.events, wrongRun.stderr] {
            #expect(!text.contains("ghp_not_the_right_one"), "the stored token leaked")
        }
        #expect(!kept.log.contains("step 1/2"), "no step runs without the code")
    }

    @Test("SIGTERM during the clone (a spot interruption) stops git and records the attempt as interrupted, in the host's words, before any step")
    func interruptedClone() async throws {
        let world = try await world(delay: .seconds(20))
        defer { Task { await world.stop() } }
        let (payload, environment) = try await prepare(world, spec(world))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProducts.executable("sortie-runner"))
        process.arguments = ["run", world.home.appendingPathComponent("job.json").path]
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(40)
        // git has asked for the refs (the server holds its answer).
        while world.git.requests.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!world.git.requests.isEmpty, "git never reached the server")
        process.terminate()
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("the runner did not stop within 40 s")
            return
        }
        #expect(process.terminationStatus == 1)
        let record = try #require(try await world.deployment.record(payload.jobID))
        #expect(record.state == .failed && record.statusReason == "Host EC2 (instance unknown) terminated." && record.failingStep == nil)
        #expect(record.reason?.hasPrefix("Code checkout stopped: the runner received SIGTERM") == true, "\(record.reason ?? "")")
        #expect(!(try await kept(world, payload).log.contains("step 1/2")))
    }
}
