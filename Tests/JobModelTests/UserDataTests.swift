import Foundation
import JobSpecYAML
import JobModel
import SortieTestSupport
import Testing

@Suite("UserData rendering")
struct UserDataTests {
    static let hostile = [
        "quote": "'; rm -rf / #", "dollar": "$(id)", "backticks": "`id`", "newlines": "line one\nline two\n",
        "unicode": "naïve café ✓ 日本語 🚀", "double": #""$HOME" \"x\""#,
    ]

    private func payload(_ spec: JobSpec, arguments: [String: String] = hostile) -> RunnerPayload {
        RunnerPayload(
            jobID: "4e0c6a52-8d3d-4f0b-9d84-1f2f8b5a6c11", attempt: 2, arguments: arguments, spec: spec,
            reporting: ReportingConfiguration(table: "jobs", logGroup: "/sortie/jobs", logBucket: "logs-bucket", logPrefix: "logs/", region: "eu-west-1", heartbeatSeconds: 60))
    }

    private func spec(_ name: String) throws -> JobSpec {
        try JobSpecYAML.load(path: Repository.jobSpecs.appendingPathComponent("valid/\(name).yaml").path)
    }

    /// The base64 between the heredoc markers, decoded.
    static func embeddedPayload(_ script: String) throws -> RunnerPayload {
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasSuffix("<<'SORTIE_PAYLOAD'") })
        let end = try #require(lines.firstIndex(of: "SORTIE_PAYLOAD"))
        let data = try #require(Data(base64Encoded: lines[(start + 1)..<end].joined()))
        return try JSONDecoder().decode(RunnerPayload.self, from: data)
    }

    @Test("event arguments are not in the script as text, only inside the payload, which decodes byte-exact")
    func argumentsOnlyInPayload() throws {
        let payload = payload(try spec("nightly-etl"))
        let script = try UserData.render(payload, runnerURL: "s3://artifacts/sortie-runner")
        for value in Self.hostile.values {
            #expect(!script.contains(value), "the script contains \(value.debugDescription)")
        }
        #expect(try Self.embeddedPayload(script) == payload)
        #expect(script.hasPrefix("#!/bin/bash\n"))
        #expect(script.contains("aws s3 cp --quiet 's3://artifacts/sortie-runner'"))
        // A private repository (token_secret): the runner clones it, not the script.
        #expect(!script.contains("git clone") && !script.contains("sortie/etl-deploy-token"))
        #expect(script.contains("mount_volume '/dev/sdf' '/data' 'xfs'"))
        #expect(script.contains("mount -t efs -o tls,iam,accesspoint=fsap-0123456789abcdef0 'fs-0123456789abcdef0' '/mnt/shared'"))
        #expect(script.contains("mount-s3 --read-only --prefix 'tables/' 'sortie-mount-reference' '/mnt/reference'"))
        #expect(script.hasSuffix("exec \"$SORTIE_HOME/bin/sortie-runner\" run \"$SORTIE_HOME/job.json\"\n"))
        let check = try Command.run("/bin/bash", ["-n", "-c", script])
        #expect(check.status == 0, "bash -n: \(check.stderr)")
    }

    @Test("spec values are single-quoted; instance-store, RAM disk and S3 code lines appear when asked for")
    func quotingAndStorage() throws {
        var spec = try spec("spot-scratch")
        spec.instance.ramDisk?.mount = "/ram disk/it's"
        let script = try UserData.render(payload(spec, arguments: [:]), runnerURL: "https://example.com/runner?version=1&arch=x86_64")
        #expect(script.contains(#"mkdir -p '/ram disk/it'\''s' && mount -t tmpfs -o size=2048m sortie-ram '/ram disk/it'\''s'"#))
        #expect(script.contains("curl -fsSL --retry 5 -o \"$SORTIE_HOME/bin/sortie-runner\" 'https://example.com/runner?version=1&arch=x86_64'"))
        #expect(script.contains("Instance Storage"))
        #expect(script.contains("mdadm --create /dev/md0"))
        #expect(script.contains("aws s3 cp --quiet 's3://example-artifacts/builds/scratch-1.4.2.tar.gz' \"$SORTIE_HOME/code.tar\""))
        // no_shutdown: a failed setup leaves the instance up.
        #expect(!script.contains("eval \"$shutdown_command\""))
        #expect(try Command.run("/bin/bash", ["-n", "-c", script]).status == 0)
    }

    @Test("a script over EC2's 16 KB is refused with its size, before anything else")
    func oversize() throws {
        let spec = try spec("minimal")
        let small = try UserData.render(payload(spec, arguments: ["blob": String(repeating: "x", count: 1000)]), runnerURL: "/opt/runner")
        #expect(small.utf8.count < UserData.limit)
        do {
            _ = try UserData.render(payload(spec, arguments: ["blob": String(repeating: "x", count: 12_000)]), runnerURL: "/opt/runner")
            Issue.record("rendered an oversize script")
        } catch let error as UserDataTooLarge {
            #expect(error.size > UserData.limit)
            #expect(error.description.contains("over EC2's limit of 16384 bytes"))
        }
    }

    @Test("quote() makes any text one literal shell word")
    func quoting() throws {
        for text in Self.hostile.values + ["", "'", "''", "a'b'c"] {
            let echoed = try Command.run("/bin/bash", ["-c", "printf '%s' \(UserData.quote(text))"])
            #expect(echoed.stdout == text)
        }
    }
}
