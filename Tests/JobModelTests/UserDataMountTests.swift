import Foundation
import JobModel
import SortieTestSupport
import Testing

/// The rendered script's network storage, run under bash with stand-ins for `mount`,
/// `mount.efs`, `mount-s3` and `dnf` on PATH that record their arguments (and the runner's
/// stand-in that records it was started): what EC2 would run, short of mounting.
@Suite("UserData network storage")
struct UserDataMountTests {
    /// A sandbox: the stand-ins' folder, the record they append to, SORTIE_HOME and the mount points.
    struct Sandbox {
        let root: URL
        var bin: URL { root.appendingPathComponent("bin") }
        var record: URL { root.appendingPathComponent("record.txt") }
        var home: URL { root.appendingPathComponent("home") }
        func mount(_ name: String) -> String { root.appendingPathComponent("mnt/\(name)").path }

        /// `tools`: which of mount.efs and mount-s3 are installed already. `failing`: a word that makes
        /// `mount`, `mount-s3` or `dnf` fail when it is among their arguments.
        init(tools: [String], failing: String = "") throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-mounts-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root.appendingPathComponent("bin"), withIntermediateDirectories: true)
            // Each stand-in writes its name and arguments, one per line: quoting stays visible.
            let recorder = """
                #!/bin/bash
                { printf '%s' "${0##*/}"; printf ' [%s]' "$@"; echo; } >> '\(root.appendingPathComponent("record.txt").path)'
                for argument in "$@"; do [ -n '\(failing)' ] && [[ "$argument" == *'\(failing)'* ]] && { echo "${0##*/}: refused" >&2; exit 32; }; done
                """
            func install(_ name: String, _ text: String) throws {
                let file = root.appendingPathComponent("bin/\(name)")
                try text.write(to: file, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path)
            }
            try install("mount", recorder + "\nexit 0\n")
            for tool in tools { try install(tool, recorder + "\nexit 0\n") }
            // dnf "installs" a package by putting its tool's stand-in in place.
            try install("dnf", recorder + """

                bin='\(root.appendingPathComponent("bin").path)'
                for argument in "$@"; do
                  case "$argument" in
                    amazon-efs-utils) cp "$bin/mount" "$bin/mount.efs" ;;
                    mount-s3|*/mount-s3.rpm) cp "$bin/mount" "$bin/mount-s3" ;;
                  esac
                done
                exit 0
                """)
            try install("runner", "#!/bin/bash\necho \"runner [$*]\" >> '\(root.appendingPathComponent("record.txt").path)'\n")
        }

        func run(_ spec: JobSpec) throws -> (result: Command.Result, record: [String]) {
            let payload = RunnerPayload(jobID: "7d1c0f0e-1111-4222-8333-944455556666", attempt: 1, arguments: [:], spec: spec, reporting: nil)
            let script = root.appendingPathComponent("user-data.sh")
            try UserData.render(payload, runnerURL: bin.appendingPathComponent("runner").path).write(to: script, atomically: true, encoding: .utf8)
            let result = try Command.run("/bin/bash", [script.path], environment: [
                "PATH": "\(bin.path):/usr/bin:/bin", "HOME": root.path, "SORTIE_HOME": home.path,
                "SORTIE_SHUTDOWN_COMMAND": "echo shutdown >> '\(record.path)'",
            ], timeout: .seconds(60))
            let lines = (try? String(contentsOf: record, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
            return (result, lines)
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    private func spec(_ sandbox: Sandbox, noShutdown: Bool = false) -> JobSpec {
        var spec = testSpec("mounts")
        spec.noShutdown = noShutdown
        spec.instance.ramDisk = InstanceSpec.RamDisk(mount: sandbox.mount("ram"), sizeMB: 16)
        spec.instance.efs = [
            InstanceSpec.EFSMount(fileSystem: "fs-0123456789abcdef0", mount: sandbox.mount("shared"), accessPoint: "fsap-0fedcba9876543210"),
            InstanceSpec.EFSMount(fileSystem: "fs-89abcdef", mount: sandbox.mount("it's open"), iam: false),
        ]
        spec.instance.s3Mounts = [
            InstanceSpec.S3Mount(bucket: "sortie-mount-reference", prefix: "tables/daily/", mount: sandbox.mount("reference")),
            InstanceSpec.S3Mount(bucket: "sortie-mount-rw-exports", mount: sandbox.mount("exports"), readOnly: false),
        ]
        return spec
    }

    @Test("every file system and bucket is mounted, after the RAM disk and before the runner, with exactly efs-utils' and Mountpoint's options; tools already there are not installed")
    func mountsInOrder() throws {
        let sandbox = try Sandbox(tools: ["mount.efs", "mount-s3"])
        defer { sandbox.remove() }
        let (result, record) = try sandbox.run(spec(sandbox))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(record == [
            "mount [-t] [tmpfs] [-o] [size=16m] [sortie-ram] [\(sandbox.mount("ram"))]",
            "mount [-t] [efs] [-o] [tls,iam,accesspoint=fsap-0fedcba9876543210] [fs-0123456789abcdef0] [\(sandbox.mount("shared"))]",
            "mount [-t] [efs] [-o] [tls] [fs-89abcdef] [\(sandbox.mount("it's open"))]",
            "mount-s3 [--read-only] [--prefix] [tables/daily/] [sortie-mount-reference] [\(sandbox.mount("reference"))]",
            "mount-s3 [--allow-delete] [sortie-mount-rw-exports] [\(sandbox.mount("exports"))]",
            "runner [run \(sandbox.home.path)/job.json]",
        ])
        for name in ["shared", "it's open", "reference", "exports"] {
            #expect(FileManager.default.fileExists(atPath: sandbox.mount(name)), "no mount point \(name)")
        }
    }

    @Test("missing tools are installed with dnf first: amazon-efs-utils, and mount-s3 from Amazon Linux's repository or else AWS's RPM for the machine's architecture")
    func installsMissingTools() throws {
        let sandbox = try Sandbox(tools: [])
        defer { sandbox.remove() }
        // AL2023 images older than 2023.9.20251110 have no mount-s3 package: dnf refuses the name, takes the RPM's URL.
        try """
            #!/bin/bash
            { printf '%s' "${0##*/}"; printf ' [%s]' "$@"; echo; } >> '\(sandbox.record.path)'
            [ "${!#}" = mount-s3 ] && exit 1
            case "${!#}" in amazon-efs-utils) cp '\(sandbox.bin.path)/mount' '\(sandbox.bin.path)/mount.efs' ;; *.rpm) cp '\(sandbox.bin.path)/mount' '\(sandbox.bin.path)/mount-s3' ;; esac
            """.write(to: sandbox.bin.appendingPathComponent("dnf"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: sandbox.bin.appendingPathComponent("dnf").path)
        var spec = spec(sandbox)
        spec.instance.ramDisk = nil
        let (result, record) = try sandbox.run(spec)
        #expect(result.status == 0, "\(result.stderr)")
        let architecture = try Command.run("/usr/bin/uname", ["-m"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacing("aarch64", with: "arm64")
        #expect(Array(record.prefix(5)) == [
            "dnf [install] [-y] [-q] [amazon-efs-utils]",
            "mount [-t] [efs] [-o] [tls,iam,accesspoint=fsap-0fedcba9876543210] [fs-0123456789abcdef0] [\(sandbox.mount("shared"))]",
            "mount [-t] [efs] [-o] [tls] [fs-89abcdef] [\(sandbox.mount("it's open"))]",
            "dnf [install] [-y] [-q] [mount-s3]",
            "dnf [install] [-y] [-q] [https://s3.amazonaws.com/mountpoint-s3-release/latest/\(architecture)/mount-s3.rpm]",
        ])
        #expect(record.last == "runner [run \(sandbox.home.path)/job.json]")
    }

    @Test("a mount that fails stops the setup with a reason naming the file system or bucket and the mount point; the failure trap shuts the instance down; nothing after it runs")
    func failingMount() throws {
        let efs = try Sandbox(tools: ["mount.efs", "mount-s3"], failing: "fs-89abcdef")
        defer { efs.remove() }
        let (result, record) = try efs.run(spec(efs))
        #expect(result.status == 32)
        #expect(result.stderr.contains("sortie: cannot mount EFS fs-89abcdef on \(efs.mount("it's open"))\n"), "\(result.stderr)")
        #expect(result.stderr.contains("sortie: setup failed (status 32); shutting down"))
        #expect(record.last == "shutdown")
        #expect(!record.contains { $0.hasPrefix("mount-s3") || $0.hasPrefix("runner") })

        let bucket = try Sandbox(tools: ["mount.efs", "mount-s3"], failing: "sortie-mount-rw-exports")
        defer { bucket.remove() }
        let (failed, steps) = try bucket.run(spec(bucket))
        #expect(failed.status == 32)
        #expect(failed.stderr.contains("sortie: cannot mount s3://sortie-mount-rw-exports/ on \(bucket.mount("exports"))\n"), "\(failed.stderr)")
        #expect(steps.last == "shutdown")

        let access = try Sandbox(tools: ["mount.efs", "mount-s3"], failing: "fsap-0fedcba9876543210")
        defer { access.remove() }
        let (refused, _) = try access.run(spec(access))
        #expect(refused.stderr.contains("sortie: cannot mount EFS fs-0123456789abcdef0 (access point fsap-0fedcba9876543210) on \(access.mount("shared"))\n"))
    }

    @Test("a tool that cannot be installed is named with the first mount that needs it; with no_shutdown the instance is kept")
    func failingInstallKeptInstance() throws {
        let sandbox = try Sandbox(tools: ["mount.efs"], failing: "mount-s3")
        defer { sandbox.remove() }
        let (result, record) = try sandbox.run(spec(sandbox, noShutdown: true))
        #expect(result.status != 0)
        #expect(result.stderr.contains("sortie: cannot install Mountpoint for Amazon S3 to mount s3://sortie-mount-reference on \(sandbox.mount("reference"))\n"), "\(result.stderr)")
        #expect(result.stderr.contains("no_shutdown keeps the instance"))
        #expect(!record.contains("shutdown") && !record.contains { $0.hasPrefix("runner") })
        #expect(record.filter { $0.hasPrefix("dnf") }.count == 2, "the package, then AWS's RPM: \(record)")
    }

    @Test("a private repository (token_secret) is not cloned by the script, which only makes sure git is there, whatever branch a submission picks")
    func privateRepositoryLeftToRunner() throws {
        var spec = testSpec("private")
        spec.code = .git(repository: "https://git.example.com/team/etl.git", branch: "main", tokenSecret: "sortie/etl-token")
        let script = try UserData.render(RunnerPayload(jobID: "j", attempt: 1, arguments: [:], spec: spec, reporting: nil), runnerURL: "/opt/runner")
        #expect(!script.contains("git clone"))
        #expect(script.contains("command -v git >/dev/null || dnf install -y -q git"))
        // A branch override keeps the repository private.
        spec.overrides = ["git_branch"]
        #expect(try spec.applying(["git_branch": "fix/retry"]).code == .git(repository: "https://git.example.com/team/etl.git", branch: "fix/retry", tokenSecret: "sortie/etl-token"))
        spec.code = .git(repository: "https://git.example.com/team/etl.git", branch: "main")
        let public_ = try UserData.render(RunnerPayload(jobID: "j", attempt: 1, arguments: [:], spec: spec, reporting: nil), runnerURL: "/opt/runner")
        #expect(public_.contains("git clone --quiet --depth 1 --branch 'main' -- 'https://git.example.com/team/etl.git' \"$SORTIE_HOME/code\""))
    }
}
