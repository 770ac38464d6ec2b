extension JobSpec {
    /// Checks and types a spec tree: unknown keys, wrong types, values out of range and
    /// inconsistencies all come back at once, each naming its field (and line, from YAML).
    public static func read(_ value: SpecValue) throws(SpecError) -> JobSpec {
        var reader = SpecReader()
        let spec = reader.spec(value)
        guard reader.issues.isEmpty, let spec else {
            throw SpecError(reader.issues.isEmpty ? [SpecIssue(field: "(spec)", message: "not a job spec")] : reader.issues)
        }
        return spec
    }

    /// Job names appear in keys, tags, log streams and file names.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.first.map(Self.isLowerAlphanumeric) == true
            && name.utf8.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// A shell variable name: arguments become `SORTIE_ARG_<name>`.
    public static func isVariableName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first), name.utf8.count <= 128 else { return false }
        return name.utf8.allSatisfy { isLowerAlphanumeric($0) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || $0 == UInt8(ascii: "_") }
    }

    static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

func keys<K: CodingKey & CaseIterable>(_: K.Type) -> [String] { K.allCases.map(\.stringValue) }

extension SpecReader {
    mutating func spec(_ value: SpecValue) -> JobSpec? {
        guard let root = fields(value, path: "", allowed: keys(JobSpec.CodingKeys.self)) else { return nil }
        let name = string(root, "name", required: true)
        if let name { require(JobSpec.isValidName(name), root, "name", "expected 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit, got '\(name)'") }
        var instance: InstanceSpec?
        if let fields = fields(root, "instance", allowed: keys(InstanceSpec.CodingKeys.self), missing: "the instance's types, image and network") {
            instance = instanceSpec(fields)
        }
        var code: CodeSource?
        if let fields = fields(root, "code", allowed: keys(CodeSource.CodingKeys.self)) { code = codeSource(fields) }
        let environment = environment(root)
        let arguments = arguments(root)
        let items = list(root, "steps")
        switch root["steps"]?.kind {
        case nil, .null?: fail("steps", root.location, "missing: expected a list of steps, each with a name and a command to run")
        case .list([])?: fail("steps", root.location("steps"), "expected at least one step")
        default: break
        }
        var steps: [JobSpec.Step] = []
        for item in items {
            guard let step = step(item.value, path: item.path) else { continue }
            if steps.contains(where: { $0.name == step.name }) {
                fail("\(item.path).name", item.value.location, "another step is already named '\(step.name)'")
            }
            steps.append(step)
        }
        let timeout = duration(root, "timeout", required: true)
        var retry = RetryStrategy()
        if let fields = fields(root, "retry", allowed: keys(RetryStrategy.CodingKeys.self)) { retry = retryStrategy(fields) }
        let maxConcurrency = int(root, "max_concurrency", in: 1...1000, default: 1)
        let priority = int(root, "priority", in: -1000...1000, default: 0)
        let noShutdown = bool(root, "no_shutdown", default: false)
        let notify = string(root, "notify")
        if let notify { require(notify.hasPrefix("arn:aws"), root, "notify", "expected an SNS topic ARN (arn:aws:sns:…), got '\(notify)'") }

        let capacityTimeout = duration(root, "capacity_timeout") ?? 3600
        let (dependsOn, nToN) = dependencies(root)
        require(dependsOn.count <= JobDependencies.limit, root, "depends_on", "expected at most \(JobDependencies.limit) jobs, as AWS Batch allows, got \(dependsOn.count)")
        for (index, dependency) in dependsOn.enumerated() {
            if !JobSpec.isValidName(dependency) {
                fail("depends_on[\(index)]", root.location("depends_on"), "expected a job's name, got '\(dependency)'")
            } else if dependency == name {
                fail("depends_on[\(index)]", root.location("depends_on"), "a job cannot depend on itself")
            } else if dependsOn[..<index].contains(dependency) {
                fail("depends_on[\(index)]", root.location("depends_on"), "'\(dependency)' is already listed")
            }
        }

        let overrides = overrides(root, code: code)
        var array: JobSpec.ArraySpec?
        if let fields = fields(root, "array", allowed: keys(JobSpec.ArraySpec.CodingKeys.self)) { array = arraySpec(fields) }
        if !nToN.isEmpty, root["array"] == nil {
            fail("depends_on", root.location("depends_on"), "N_TO_N waits child by child: this job needs an array (array: {size: N}) of the same size as \(nToN.joined(separator: ", "))")
        }

        guard let name, let instance, let timeout, let maxConcurrency, let priority else { return nil }
        return JobSpec(
            name: name, description: string(root, "description"), instance: instance, code: code, environment: environment,
            arguments: arguments, steps: steps, timeoutSeconds: timeout, retry: retry, maxConcurrency: maxConcurrency,
            priority: priority, noShutdown: noShutdown, notify: notify, dependsOn: dependsOn,
            capacityTimeoutSeconds: capacityTimeout, overrides: overrides, array: array, nToN: nToN)
    }

    /// `depends_on`'s entries: a job's name, or Batch's typed `{job: NAME, type: N_TO_N}`; every
    /// name, and those of them N_TO_N.
    private mutating func dependencies(_ root: Fields) -> (names: [String], nToN: [String]) {
        var names: [String] = []
        var nToN: [String] = []
        for item in list(root, "depends_on") {
            guard case .map = item.value.kind else {
                if let name = text(item.value, path: item.path) { names.append(name) }
                continue
            }
            guard let fields = fields(item.value, path: item.path, allowed: keys(JobSpec.DependencyKeys.self)),
                  let name = string(fields, "job", required: true) else { continue }
            names.append(name)
            let type = string(fields, "type", required: true)
            if let type {
                require(type == JobArrays.DependencyType.nToN.rawValue, fields, "type", "expected N_TO_N (child i after child i of \(name)), got '\(type)'")
                if type == JobArrays.DependencyType.nToN.rawValue { nToN.append(name) }
            }
        }
        return (names, nToN)
    }

    private mutating func arraySpec(_ fields: Fields) -> JobSpec.ArraySpec? {
        let size = int(fields, "size", in: JobArrays.sizes)
        require(size != nil || fields["size"] != nil, fields, "size", "missing: expected the number of children, 2 to 10000")
        var sequential = false
        if let text = string(fields, "dependency") {
            sequential = text == JobArrays.DependencyType.sequential.rawValue
            require(sequential, fields, "dependency", "expected SEQUENTIAL (child i after child i-1), got '\(text)'")
        }
        return size.map { JobSpec.ArraySpec(size: $0, sequential: sequential) }
    }

    /// What a manual submission may override (`LaunchOverride`), each name once.
    private mutating func overrides(_ root: Fields, code: CodeSource?) -> [String] {
        var names: [String] = []
        for item in list(root, "overrides") {
            guard let name = text(item.value, path: item.path) else { continue }
            if !LaunchOverride.isOverridable(name) {
                let known = (LaunchOverride.names + ["environment.NAME"]).joined(separator: ", ")
                fail(item.path, item.value.location, "expected one of \(known) (NAME a variable not starting with SORTIE_), got '\(name)'")
            } else if names.contains(name) {
                fail(item.path, item.value.location, "'\(name)' is already listed")
            } else if name == LaunchOverride.gitBranch, case .s3? = code {
                fail(item.path, item.value.location, "git_branch needs code from git; this job's comes from S3")
            }
            names.append(name)
        }
        return names
    }

    private mutating func instanceSpec(_ fields: Fields) -> InstanceSpec? {
        let types = strings(fields, "types")
        require(!types.isEmpty, fields, "types", "missing: expected a list of instance types, tried in order (e.g. [c7i.large, c6i.large])")
        require(types.count <= 10, fields, "types", "expected at most 10 instance types, got \(types.count)")
        let image = string(fields, "image", required: true)
        if let image {
            require(image.hasPrefix("ami-") || image.hasPrefix("resolve:ssm:"), fields, "image", "expected an AMI id (ami-…) or resolve:ssm:<parameter>, got '\(image)'")
        }
        var market = InstanceSpec.Market.onDemand
        if let text = string(fields, "market") {
            require(InstanceSpec.Market(rawValue: text) != nil, fields, "market", "expected on-demand or spot, got '\(text)'")
            market = InstanceSpec.Market(rawValue: text) ?? .onDemand
        }
        var fallback: InstanceSpec.Market?
        if let text = string(fields, "fallback") {
            if market == .spot, text == InstanceSpec.Market.onDemand.rawValue {
                fallback = .onDemand
            } else {
                fail(fields.path("fallback"), fields.location("fallback"),
                     "expected on-demand with market: spot (spot first, on-demand once spot has no capacity), got '\(text)' with market: \(market.rawValue)")
            }
        }
        let subnet = string(fields, "subnet")
        var subnets: [String] = []
        for item in list(fields, "subnets") {
            guard let id = text(item.value, path: item.path) else { continue }
            if !id.hasPrefix("subnet-") {
                fail(item.path, item.value.location, "expected a subnet id (subnet-…), got '\(id)'")
            } else if subnets.contains(id) {
                fail(item.path, item.value.location, "'\(id)' is already listed")
            }
            subnets.append(id)
        }
        require(subnet == nil || subnets.isEmpty, fields, "subnets", "give one subnet or a list of subnets, not both")
        // Every type in every subnet in each market is one RunInstances call within the launcher's time limit.
        require(subnets.count <= 6, fields, "subnets", "expected at most 6 subnets, one per Availability Zone, got \(subnets.count)")
        let spotMaxPrice = string(fields, "spot_max_price")
        require(spotMaxPrice == nil || market == .spot, fields, "spot_max_price", "only applies with market: spot")
        let rootDevice = string(fields, "root_device") ?? "/dev/xvda"
        require(rootDevice.hasPrefix("/dev/"), fields, "root_device", "expected the AMI's root device name such as /dev/xvda, got '\(rootDevice)'")
        var root: InstanceSpec.Volume?
        if let volumeFields = self.fields(fields, "root_volume", allowed: keys(InstanceSpec.Volume.CodingKeys.self)) { root = volume(volumeFields) }
        var dataVolumes: [InstanceSpec.DataVolume] = []
        var claims: MountClaims = [:]
        for item in list(fields, "data_volumes") {
            guard let volume = dataVolume(item.value, path: item.path) else { continue }
            dataVolumes.append(volume)
            claim(volume.mount, by: item.path, field: "\(item.path).mount", location: item.value.location, &claims)
        }
        let localNVMe = string(fields, "local_nvme")
        if let localNVMe {
            require(localNVMe.hasPrefix("/"), fields, "local_nvme", "expected the absolute path to mount the instance-store disks on, got '\(localNVMe)'")
            claim(localNVMe, by: fields.path("local_nvme"), field: fields.path("local_nvme"), location: fields.location("local_nvme"), &claims)
        }
        var ramDisk: InstanceSpec.RamDisk?
        if let diskFields = self.fields(fields, "ram_disk", allowed: keys(InstanceSpec.RamDisk.CodingKeys.self)) { ramDisk = readRamDisk(diskFields) }
        if let ramDisk { claim(ramDisk.mount, by: fields.path("ram_disk"), field: fields.path("ram_disk.mount"), location: fields.location("ram_disk"), &claims) }
        let efs = efsMounts(fields, &claims)
        let s3Mounts = s3Mounts(fields, &claims)
        guard !types.isEmpty, types.count <= 10, let image else { return nil }
        return InstanceSpec(
            types: types, image: image, subnet: subnet, subnets: subnets, securityGroups: strings(fields, "security_groups"),
            instanceProfile: string(fields, "instance_profile"), market: market, fallback: fallback, spotMaxPrice: spotMaxPrice, keyName: string(fields, "key_name"),
            rootDevice: rootDevice, rootVolume: root, dataVolumes: dataVolumes, localNVMe: localNVMe, ramDisk: ramDisk, efs: efs, s3Mounts: s3Mounts)
    }

    private mutating func volume(_ fields: Fields) -> InstanceSpec.Volume? {
        let size = int(fields, "size_gb", in: 1...65_536)
        require(fields["size_gb"] != nil, fields, "size_gb", "missing: expected the volume's size in GiB")
        let type = string(fields, "type") ?? "gp3"
        let types = ["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"]
        require(types.contains(type), fields, "type", "expected one of \(types.joined(separator: ", ")), got '\(type)'")
        let iops = int(fields, "iops", in: 100...256_000)
        let throughput = int(fields, "throughput", in: 125...2000)
        let encrypted = bool(fields, "encrypted", default: true)
        guard let size else { return nil }
        return InstanceSpec.Volume(sizeGB: size, type: type, iops: iops, throughput: throughput, encrypted: encrypted)
    }

    private mutating func dataVolume(_ value: SpecValue, path: String) -> InstanceSpec.DataVolume? {
        let allowed = keys(InstanceSpec.DataVolume.CodingKeys.self) + keys(InstanceSpec.Volume.CodingKeys.self)
        guard let fields = fields(value, path: path, allowed: allowed) else { return nil }
        let device = string(fields, "device", required: true)
        if let device { require(device.hasPrefix("/dev/"), fields, "device", "expected a block device name such as /dev/sdf, got '\(device)'") }
        let mount = string(fields, "mount", required: true)
        if let mount { require(mount.hasPrefix("/"), fields, "mount", "expected an absolute path, got '\(mount)'") }
        let filesystem = string(fields, "filesystem") ?? "xfs"
        require(["xfs", "ext4"].contains(filesystem), fields, "filesystem", "expected xfs or ext4, got '\(filesystem)'")
        let volume = volume(fields)
        guard let device, let mount, let volume else { return nil }
        return InstanceSpec.DataVolume(device: device, mount: mount, volume: volume, filesystem: filesystem)
    }

    private mutating func readRamDisk(_ fields: Fields) -> InstanceSpec.RamDisk? {
        let mount = string(fields, "mount", required: true)
        if let mount { require(mount.hasPrefix("/"), fields, "mount", "expected an absolute path, got '\(mount)'") }
        let size = int(fields, "size_mb", in: 1...4_194_304)
        require(fields["size_mb"] != nil, fields, "size_mb", "missing: expected the RAM disk's size in MiB")
        guard let mount, let size else { return nil }
        return InstanceSpec.RamDisk(mount: mount, sizeMB: size)
    }

    private mutating func codeSource(_ fields: Fields) -> CodeSource? {
        let git = string(fields, "git")
        let branch = string(fields, "branch")
        let s3 = string(fields, "s3")
        let tokenSecret = tokenSecret(fields)
        switch (git, s3) {
        case (let repository?, nil):
            return .git(repository: repository, branch: branch, tokenSecret: tokenSecret)
        case (nil, let url?):
            require(branch == nil, fields, "branch", "only applies to git")
            require(tokenSecret == nil, fields, "token_secret", "only applies to git")
            let formats = [".tar.gz", ".tgz", ".tar", ".zip"]
            require(url.hasPrefix("s3://") && formats.contains { url.hasSuffix($0) }, fields, "s3",
                    "expected s3://bucket/key ending in \(formats.joined(separator: ", ")), got '\(url)'")
            return .s3(url)
        default:
            fail(fields.path, fields.location, "expected exactly one of git (with an optional branch) or s3")
            return nil
        }
    }

    private mutating func environment(_ root: Fields) -> [String: String] {
        var environment: [String: String] = [:]
        for entry in entries(root, "environment") {
            let path = "environment.\(entry.key)"
            if !JobSpec.isVariableName(entry.key) || entry.key.hasPrefix("SORTIE_") {
                fail(path, entry.keyLocation, "expected a variable name (letters, digits, '_') not starting with SORTIE_")
            }
            if let value = text(entry.value, path: path) { environment[entry.key] = value }
        }
        return environment
    }

    private mutating func arguments(_ root: Fields) -> [String: JobSpec.ArgumentSpec] {
        var arguments: [String: JobSpec.ArgumentSpec] = [:]
        for entry in entries(root, "arguments") {
            let path = "arguments.\(entry.key)"
            if !JobSpec.isVariableName(entry.key) { fail(path, entry.keyLocation, "expected an argument name made of letters, digits and '_'") }
            if case .null = entry.value.kind {
                arguments[entry.key] = JobSpec.ArgumentSpec()
                continue
            }
            guard let fields = fields(entry.value, path: path, allowed: keys(JobSpec.ArgumentSpec.CodingKeys.self)) else { continue }
            let fallback = string(fields, "default")
            if let fallback { require(!fallback.utf8.contains(0), fields, "default", "an argument cannot hold a NUL byte") }
            arguments[entry.key] = JobSpec.ArgumentSpec(defaultValue: fallback, description: string(fields, "description"))
        }
        return arguments
    }

    private mutating func step(_ value: SpecValue, path: String) -> JobSpec.Step? {
        guard let fields = fields(value, path: path, allowed: keys(JobSpec.Step.CodingKeys.self)) else { return nil }
        let name = string(fields, "name", required: true)
        if let name {
            let valid = (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }
            require(valid, fields, "name", "expected 1 to 64 visible ASCII characters without '/', got '\(name)'")
        }
        let run = string(fields, "run", required: true)
        if let run { require(!run.allSatisfy(\.isWhitespace), fields, "run", "expected a shell command, got nothing") }
        let timeout = duration(fields, "timeout")
        guard let name, let run else { return nil }
        return JobSpec.Step(name: name, run: run, timeoutSeconds: timeout)
    }

    private mutating func retryStrategy(_ fields: Fields) -> RetryStrategy {
        let attempts = int(fields, "attempts", in: 1...10, default: 1) ?? 1
        let rules = list(fields, "evaluate_on_exit")
        require(rules.count <= 5, fields, "evaluate_on_exit", "expected at most 5 rules, as AWS Batch allows, got \(rules.count)")
        var evaluateOnExit: [RetryStrategy.ExitRule] = []
        for rule in rules {
            if let rule = exitRule(rule.value, path: rule.path) { evaluateOnExit.append(rule) }
        }
        return RetryStrategy(attempts: attempts, evaluateOnExit: evaluateOnExit)
    }

    private mutating func exitRule(_ value: SpecValue, path: String) -> RetryStrategy.ExitRule? {
        guard let fields = fields(value, path: path, allowed: keys(RetryStrategy.ExitRule.CodingKeys.self)) else { return nil }
        let exitCode = string(fields, "on_exit_code")
        if let exitCode {
            let digits = exitCode.hasSuffix("*") ? exitCode.dropLast() : Substring(exitCode)
            require(!exitCode.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber } && exitCode.count <= 512, fields, "on_exit_code",
                    "expected an exit code, optionally ending in * (137, 1*), got '\(exitCode)'")
        }
        let statusReason = pattern(fields, "on_status_reason")
        let reason = pattern(fields, "on_reason")
        var action: RetryStrategy.Action?
        if let text = string(fields, "action", required: true) {
            action = RetryStrategy.Action(rawValue: text.uppercased())
            require(action != nil, fields, "action", "expected RETRY or EXIT, got '\(text)'")
        }
        guard let action else { return nil }
        return RetryStrategy.ExitRule(onExitCode: exitCode, onStatusReason: statusReason, onReason: reason, action: action)
    }

    /// A reason pattern: up to 512 characters, `*` only at the end.
    private mutating func pattern(_ fields: Fields, _ key: String) -> String? {
        guard let text = string(fields, key) else { return nil }
        require(text.count <= 512 && !text.dropLast().contains("*"), fields, key, "expected text of up to 512 characters with '*' only at the end, got '\(text)'")
        return text
    }
}
