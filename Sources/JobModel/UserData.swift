#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The rendered script would not fit in EC2's UserData.
public struct UserDataTooLarge: Error, Sendable, Equatable, CustomStringConvertible {
    public var size: Int
    public var payloadSize: Int
    public var description: String {
        "the instance's UserData would be \(size) bytes, over EC2's limit of \(UserData.limit) bytes; the job's spec and arguments "
            + "make up \(payloadSize) bytes of it (base64): shorten the steps or pass large inputs by reference (an S3 key) instead"
    }
}

/// The instance's boot script: storage, the runner, the job's code (a private repository's is
/// the runner's to clone), then the runner with its
/// payload. Spec values are single-quoted; event arguments are not in the script as text at
/// all, only inside the base64 payload that the runner decodes.
public enum UserData {
    /// EC2's limit on UserData before base64 encoding.
    public static let limit = 16_384

    /// `runnerURL`: `s3://…` (fetched with the AWS CLI), `https://…` (curl), or a path.
    public static func render(_ payload: RunnerPayload, runnerURL: String) throws -> String {
        let json = try JSONEncoder.sorted.encode(payload)
        let encoded = json.base64EncodedString()
        let spec = payload.spec
        var lines = [
            "#!/bin/bash",
            "# Sortie job \(spec.name), id \(payload.jobID), attempt \(payload.attempt): rendered by the launcher.",
            "set -euo pipefail",
            "export HOME=\"${HOME:-/root}\"",
            "# Set beforehand only off EC2 (tests, a local stand-in); cloud-init sets neither.",
            "export SORTIE_HOME=\"${SORTIE_HOME:-/opt/sortie}\"",
            "shutdown_command=\"${SORTIE_SHUTDOWN_COMMAND:-shutdown -h now}\"",
        ]
        if spec.noShutdown {
            lines.append("trap 'echo \"sortie: setup failed (status $?); no_shutdown keeps the instance\" >&2' ERR")
        } else {
            // Until the runner takes over (exec), any failure powers the instance off.
            lines.append("trap 'status=$?; echo \"sortie: setup failed (status $status); shutting down\" >&2; eval \"$shutdown_command\"' EXIT")
        }
        lines.append("mkdir -p \"$SORTIE_HOME/bin\" \"$SORTIE_HOME/code\" \"$SORTIE_HOME/logs\"")
        lines += storage(spec.instance)
        lines += fetch(runnerURL, to: "\"$SORTIE_HOME/bin/sortie-runner\"")
        lines.append("chmod 0755 \"$SORTIE_HOME/bin/sortie-runner\"")
        lines += code(spec.code)
        lines.append("base64 -d > \"$SORTIE_HOME/job.json\" <<'SORTIE_PAYLOAD'")
        var offset = encoded.startIndex
        while offset < encoded.endIndex {
            let end = encoded.index(offset, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[offset..<end]))
            offset = end
        }
        lines.append("SORTIE_PAYLOAD")
        lines.append("exec \"$SORTIE_HOME/bin/sortie-runner\" run \"$SORTIE_HOME/job.json\"")
        let script = lines.joined(separator: "\n") + "\n"
        guard script.utf8.count <= limit else { throw UserDataTooLarge(size: script.utf8.count, payloadSize: encoded.utf8.count) }
        return script
    }

    /// `'…'`, with each `'` closed, escaped and reopened: the shell takes it as one literal word.
    public static func quote(_ text: String) -> String {
        "'" + text.replacing("'", with: #"'\''"#) + "'"
    }

    private static func fetch(_ url: String, to destination: String) -> [String] {
        if url.hasPrefix("s3://") { return ["aws s3 cp --quiet \(quote(url)) \(destination)"] }
        if url.hasPrefix("https://") || url.hasPrefix("http://") { return ["curl -fsSL --retry 5 -o \(destination) \(quote(url))"] }
        let path = url.hasPrefix("file://") ? String(url.dropFirst("file://".count)) : url
        return ["cp \(quote(path)) \(destination)"]
    }

    private static func code(_ source: CodeSource?) -> [String] {
        switch source {
        case nil:
            return []
        case .git(_, _, _?):
            return ["command -v git >/dev/null || dnf install -y -q git"]  // a private repository: the runner clones it
        case .git(let repository, let branch, nil):
            return [
                "command -v git >/dev/null || dnf install -y -q git",
                "git clone --quiet --depth 1 \(branch.map { "--branch \(quote($0)) " } ?? "")-- \(quote(repository)) \"$SORTIE_HOME/code\"",
            ]
        case .s3(let url):
            let archive = "\"$SORTIE_HOME/code.\(url.hasSuffix(".zip") ? "zip" : "tar")\""
            let unpack = url.hasSuffix(".zip") ? "unzip -q \(archive) -d \"$SORTIE_HOME/code\"" : "tar -xf \(archive) -C \"$SORTIE_HOME/code\""
            return fetch(url, to: archive) + [unpack]
        }
    }

    /// Data volumes (formatted when blank), instance-store NVMe (striped), a RAM disk.
    private static func storage(_ instance: InstanceSpec) -> [String] {
        var lines: [String] = []
        if !instance.dataVolumes.isEmpty {
            lines += [
                "mount_volume() {  # device mount filesystem: Nitro names it nvmeXn1; the udev link keeps the mapping's name",
                "  local waited=0",
                "  until [ -b \"$1\" ]; do [ $((waited += 1)) -le 120 ] || { echo \"sortie: $1 did not appear\" >&2; return 1; }; sleep 1; done",
                "  local device; device=$(readlink -f \"$1\")",
                "  blkid \"$device\" >/dev/null 2>&1 || mkfs -t \"$3\" \"$device\"",
                "  mkdir -p \"$2\" && mount \"$device\" \"$2\"",
                "}",
            ]
            lines += instance.dataVolumes.map { "mount_volume \(quote($0.device)) \(quote($0.mount)) \(quote($0.filesystem))" }
        }
        if let mount = instance.localNVMe {
            lines += [
                "disks=()",
                "for disk in /sys/block/nvme*n1; do grep -qs 'Instance Storage' \"$disk/device/model\" && disks+=(\"/dev/${disk##*/}\"); done",
                "[ ${#disks[@]} -gt 0 ] || { echo 'sortie: this instance type has no instance-store NVMe disk' >&2; exit 1; }",
                "scratch=${disks[0]}",
                "if [ ${#disks[@]} -gt 1 ]; then mdadm --create /dev/md0 --run --level=0 --raid-devices=${#disks[@]} \"${disks[@]}\"; scratch=/dev/md0; fi",
                "mkfs.xfs -f -q \"$scratch\" && mkdir -p \(quote(mount)) && mount \"$scratch\" \(quote(mount))",
            ]
        }
        if let ramDisk = instance.ramDisk {
            lines.append("mkdir -p \(quote(ramDisk.mount)) && mount -t tmpfs -o size=\(ramDisk.sizeMB)m sortie-ram \(quote(ramDisk.mount))")
        }
        return lines + networkStorage(instance)
    }

    /// EFS file systems and S3 buckets, after the local disks (a mount may lie inside one), each
    /// failure naming what could not be mounted where. The tools are installed only when missing.
    private static func networkStorage(_ instance: InstanceSpec) -> [String] {
        guard !instance.efs.isEmpty || !instance.s3Mounts.isEmpty else { return [] }
        // Last in its `||` list, so `set -e` and the ERR trap (no_shutdown) see the failure.
        var lines = ["setup_failed() { local status=$?; echo \"sortie: $1\" >&2; return $status; }"]
        if let first = instance.efs.first {
            lines.append("command -v mount.efs >/dev/null || dnf install -y -q amazon-efs-utils "
                + "|| setup_failed \(quote("cannot install amazon-efs-utils to mount EFS \(first.fileSystem) on \(first.mount)"))")
        }
        for efs in instance.efs {
            let options = ["tls"] + (efs.iam ? ["iam"] : []) + (efs.accessPoint.map { ["accesspoint=\($0)"] } ?? [])
            let what = "EFS \(efs.fileSystem)\(efs.accessPoint.map { " (access point \($0))" } ?? "") on \(efs.mount)"
            lines.append("mkdir -p \(quote(efs.mount)) && mount -t efs -o \(options.joined(separator: ",")) \(quote(efs.fileSystem)) \(quote(efs.mount)) "
                + "|| setup_failed \(quote("cannot mount \(what)"))")
        }
        if let first = instance.s3Mounts.first {
            // In Amazon Linux 2023's repository since 2023.9.20251110; AWS's RPM on older images.
            let rpm = "https://s3.amazonaws.com/mountpoint-s3-release/latest/$(uname -m | sed s/aarch64/arm64/)/mount-s3.rpm"
            lines.append("command -v mount-s3 >/dev/null || dnf install -y -q mount-s3 || dnf install -y -q \"\(rpm)\" "
                + "|| setup_failed \(quote("cannot install Mountpoint for Amazon S3 to mount s3://\(first.bucket) on \(first.mount)"))")
        }
        for mount in instance.s3Mounts {
            // Writable mounts may also delete (the role grants s3:DeleteObject for it); read-only ones only read.
            let options = (mount.readOnly ? ["--read-only"] : ["--allow-delete"]) + (mount.prefix.map { ["--prefix", quote($0)] } ?? [])
            let what = "s3://\(mount.bucket)/\(mount.prefix ?? "") on \(mount.mount)\(mount.readOnly ? " (read-only)" : "")"
            lines.append("mkdir -p \(quote(mount.mount)) && mount-s3 \(options.joined(separator: " ")) \(quote(mount.bucket)) \(quote(mount.mount)) "
                + "|| setup_failed \(quote("cannot mount \(what)"))")
        }
        return lines
    }
}

extension JSONEncoder {
    /// Stable output: the same payload always renders the same script.
    public static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
