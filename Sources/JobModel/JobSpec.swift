/// One job: what machine, what code, which steps, how long, how often at once. Written in YAML
/// under `jobs/` and published as JSON (this type's `Codable` form) for the launcher and runner.
public struct JobSpec: Sendable, Equatable, Codable {
    public var name: String
    public var description: String?
    public var instance: InstanceSpec
    public var code: CodeSource?
    /// Set for every step; names starting with `SORTIE_` are Sortie's own.
    public var environment: [String: String]
    /// What an event may pass in; each reaches the steps as `$SORTIE_ARG_<name>`.
    public var arguments: [String: ArgumentSpec]
    public var steps: [Step]
    /// The whole attempt's limit, in seconds.
    public var timeoutSeconds: Int
    public var retry: RetryStrategy
    /// At most this many jobs of this kind STARTING or RUNNING at once.
    public var maxConcurrency: Int
    /// Among waiting jobs of one kind, higher starts first; then submission order.
    public var priority: Int
    /// Leave the instance running after the job, for debugging.
    public var noShutdown: Bool
    /// An SNS topic ARN told about failures.
    public var notify: String?
    /// The jobs, by name, that a scheduled launch of this one submits first and waits for
    /// (each of them with its own `depends_on`): one chain per schedule firing.
    public var dependsOn: [String]
    /// How long a job may wait for EC2 capacity (every listed type refused) before it is FAILED.
    public var capacityTimeoutSeconds: Int
    /// What a manual submission may override for its one job (`LaunchOverride`'s names).
    public var overrides: [String]
    /// Every launch is an array job of this many children (`array: {size: N}`; a submission's `array` wins).
    public var array: ArraySpec?
    /// Of `dependsOn`, the arrays whose child i this array's child i waits for (Batch's `N_TO_N`,
    /// `{job: NAME, type: N_TO_N}`); the others are waited for whole.
    public var nToN: [String]

    public init(
        name: String, description: String? = nil, instance: InstanceSpec, code: CodeSource? = nil, environment: [String: String] = [:],
        arguments: [String: ArgumentSpec] = [:], steps: [Step], timeoutSeconds: Int, retry: RetryStrategy = RetryStrategy(),
        maxConcurrency: Int = 1, priority: Int = 0, noShutdown: Bool = false, notify: String? = nil, dependsOn: [String] = [],
        capacityTimeoutSeconds: Int = 3600, overrides: [String] = [], array: ArraySpec? = nil, nToN: [String] = []
    ) {
        self.name = name
        self.description = description
        self.instance = instance
        self.code = code
        self.environment = environment
        self.arguments = arguments
        self.steps = steps
        self.timeoutSeconds = timeoutSeconds
        self.retry = retry
        self.maxConcurrency = maxConcurrency
        self.priority = priority
        self.noShutdown = noShutdown
        self.notify = notify
        self.dependsOn = dependsOn
        self.capacityTimeoutSeconds = capacityTimeoutSeconds
        self.overrides = overrides
        self.array = array
        self.nToN = nToN
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, instance, code, environment, arguments, steps, timeoutSeconds = "timeout", retry
        case maxConcurrency = "max_concurrency", priority, noShutdown = "no_shutdown", notify, dependsOn = "depends_on"
        case capacityTimeoutSeconds = "capacity_timeout", overrides, array
    }

    /// A typed entry of `depends_on`.
    enum DependencyKeys: String, CodingKey, CaseIterable { case job, type }

    /// As written: `depends_on` holds names, and Batch's typed entry for the N_TO_N ones.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encode(instance, forKey: .instance)
        try container.encodeIfPresent(code, forKey: .code)
        try container.encode(environment, forKey: .environment)
        try container.encode(arguments, forKey: .arguments)
        try container.encode(steps, forKey: .steps)
        try container.encode(timeoutSeconds, forKey: .timeoutSeconds)
        try container.encode(retry, forKey: .retry)
        try container.encode(maxConcurrency, forKey: .maxConcurrency)
        try container.encode(priority, forKey: .priority)
        try container.encode(noShutdown, forKey: .noShutdown)
        try container.encodeIfPresent(notify, forKey: .notify)
        var dependencies = container.nestedUnkeyedContainer(forKey: .dependsOn)
        for dependency in dependsOn {
            if nToN.contains(dependency) {
                var typed = dependencies.nestedContainer(keyedBy: DependencyKeys.self)
                try typed.encode(dependency, forKey: .job)
                try typed.encode(JobArrays.DependencyType.nToN.rawValue, forKey: .type)
            } else {
                try dependencies.encode(dependency)
            }
        }
        try container.encode(capacityTimeoutSeconds, forKey: .capacityTimeoutSeconds)
        try container.encode(overrides, forKey: .overrides)
        try container.encodeIfPresent(array, forKey: .array)
    }

    /// `array: {size: N, dependency: SEQUENTIAL}`.
    public struct ArraySpec: Sendable, Equatable, Encodable {
        public var size: Int
        /// Child i after child i − 1 (Batch's `SEQUENTIAL`).
        public var sequential: Bool

        public init(size: Int, sequential: Bool = false) {
            self.size = size
            self.sequential = sequential
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case size, dependency }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(size, forKey: .size)
            if sequential { try container.encode(JobArrays.DependencyType.sequential.rawValue, forKey: .dependency) }
        }
    }

    /// Decoding goes through the same checks as YAML (`JobSpec.read`): a published spec that
    /// was edited by hand is held to the same rules.
    public init(from decoder: any Decoder) throws {
        self = try JobSpec.read(SpecValue(from: decoder))
    }

    public struct ArgumentSpec: Sendable, Equatable, Encodable {
        /// Absent: the argument is required.
        public var defaultValue: String?
        public var description: String?
        public init(defaultValue: String? = nil, description: String? = nil) {
            self.defaultValue = defaultValue
            self.description = description
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case defaultValue = "default", description }
    }

    public struct Step: Sendable, Equatable, Encodable {
        public var name: String
        /// Run by `bash -eo pipefail -c`.
        public var run: String
        /// Seconds; absent: whatever is left of the job's timeout.
        public var timeoutSeconds: Int?
        public init(name: String, run: String, timeoutSeconds: Int? = nil) {
            self.name = name
            self.run = run
            self.timeoutSeconds = timeoutSeconds
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case name, run, timeoutSeconds = "timeout" }
    }
}

/// Where the job's code comes from; it is put in `$SORTIE_HOME/code`, the steps' working folder.
public enum CodeSource: Sendable, Equatable, Encodable {
    /// `tokenSecret`: a private repository's access token, by its Secrets Manager ARN or name.
    /// The runner fetches it with the instance role and clones (the UserData then does not).
    case git(repository: String, branch: String?, tokenSecret: String? = nil)
    /// A `.tar.gz`, `.tgz`, `.tar` or `.zip` object, unpacked.
    case s3(String)

    enum CodingKeys: String, CodingKey, CaseIterable { case git, branch, tokenSecret = "token_secret", s3 }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .git(let repository, let branch, let tokenSecret):
            try container.encode(repository, forKey: .git)
            try container.encodeIfPresent(branch, forKey: .branch)
            try container.encodeIfPresent(tokenSecret, forKey: .tokenSecret)
        case .s3(let url):
            try container.encode(url, forKey: .s3)
        }
    }
}

/// The EC2 side of a job.
public struct InstanceSpec: Sendable, Equatable, Encodable {
    public enum Market: String, Sendable, Encodable, CaseIterable {
        case onDemand = "on-demand", spot
    }

    /// Tried in order: a capacity error on one moves on to the next.
    public var types: [String]
    /// An AMI id, or `resolve:ssm:<parameter>` (EC2 resolves it at launch).
    public var image: String
    /// One subnet; or `subnets`, several across Availability Zones, never both.
    public var subnet: String?
    /// Tried in turn for each type: a capacity error in one moves on to the next.
    public var subnets: [String]
    public var securityGroups: [String]
    /// A profile name, or its ARN.
    public var instanceProfile: String?
    public var market: Market
    /// With `market: spot`, `on-demand`: tried on every type and subnet once spot has none.
    public var fallback: Market?
    public var spotMaxPrice: String?
    public var keyName: String?
    /// The AMI's root device, which `rootVolume` sizes: `/dev/xvda` on Amazon Linux.
    public var rootDevice: String
    public var rootVolume: Volume?
    public var dataVolumes: [DataVolume]
    /// Where the instance-store NVMe disks are mounted (striped when there are several).
    public var localNVMe: String?
    public var ramDisk: RamDisk?
    /// EFS file systems mounted (amazon-efs-utils, TLS) before the steps.
    public var efs: [EFSMount]
    /// S3 buckets mounted (Mountpoint for Amazon S3) before the steps.
    public var s3Mounts: [S3Mount]

    public init(
        types: [String], image: String, subnet: String? = nil, subnets: [String] = [], securityGroups: [String] = [], instanceProfile: String? = nil,
        market: Market = .onDemand, fallback: Market? = nil, spotMaxPrice: String? = nil, keyName: String? = nil, rootDevice: String = "/dev/xvda", rootVolume: Volume? = nil,
        dataVolumes: [DataVolume] = [], localNVMe: String? = nil, ramDisk: RamDisk? = nil, efs: [EFSMount] = [], s3Mounts: [S3Mount] = []
    ) {
        self.types = types
        self.image = image
        self.subnet = subnet
        self.subnets = subnets
        self.securityGroups = securityGroups
        self.instanceProfile = instanceProfile
        self.market = market
        self.fallback = fallback
        self.spotMaxPrice = spotMaxPrice
        self.keyName = keyName
        self.rootDevice = rootDevice
        self.rootVolume = rootVolume
        self.dataVolumes = dataVolumes
        self.localNVMe = localNVMe
        self.ramDisk = ramDisk
        self.efs = efs
        self.s3Mounts = s3Mounts
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case types, image, subnet, subnets, securityGroups = "security_groups", instanceProfile = "instance_profile", market, fallback
        case spotMaxPrice = "spot_max_price", keyName = "key_name", rootDevice = "root_device", rootVolume = "root_volume", dataVolumes = "data_volumes"
        case localNVMe = "local_nvme", ramDisk = "ram_disk", efs, s3Mounts = "s3_mounts"
    }

    /// Where RunInstances is tried for each type, in order: the listed subnets, the one
    /// subnet, or (`nil`) EC2's choice in the default VPC.
    public var placements: [String?] { subnets.isEmpty ? [subnet] : subnets }

    /// The markets tried in order: the spec's, then its fallback once every type and subnet refused.
    public var markets: [Market] { [market] + (fallback.map { [$0] } ?? []) }

    /// An EBS volume: the root one, or (with `device` and `mount`) a data one.
    public struct Volume: Sendable, Equatable, Encodable {
        public var sizeGB: Int
        public var type: String
        public var iops: Int?
        public var throughput: Int?
        public var encrypted: Bool
        public init(sizeGB: Int, type: String = "gp3", iops: Int? = nil, throughput: Int? = nil, encrypted: Bool = true) {
            self.sizeGB = sizeGB
            self.type = type
            self.iops = iops
            self.throughput = throughput
            self.encrypted = encrypted
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case sizeGB = "size_gb", type, iops, throughput, encrypted }
    }

    public struct DataVolume: Sendable, Equatable, Encodable {
        /// The block device mapping name, `/dev/sdf`.
        public var device: String
        public var mount: String
        public var volume: Volume
        /// `xfs` or `ext4`; made only when the volume has no file system yet.
        public var filesystem: String
        public init(device: String, mount: String, volume: Volume, filesystem: String = "xfs") {
            self.device = device
            self.mount = mount
            self.volume = volume
            self.filesystem = filesystem
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case device, mount, filesystem }

        public func encode(to encoder: any Encoder) throws {
            try volume.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(device, forKey: .device)
            try container.encode(mount, forKey: .mount)
            try container.encode(filesystem, forKey: .filesystem)
        }

    }

    public struct RamDisk: Sendable, Equatable, Encodable {
        public var mount: String
        public var sizeMB: Int
        public init(mount: String, sizeMB: Int) {
            self.mount = mount
            self.sizeMB = sizeMB
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case mount, sizeMB = "size_mb" }
    }

    /// An EFS file system on `mount`, over TLS; `iam` authorizes the mount with the instance role.
    public struct EFSMount: Sendable, Equatable, Encodable {
        /// `fs-…`
        public var fileSystem: String
        public var mount: String
        /// `fsap-…`: the access point's root and POSIX user instead of the file system's.
        public var accessPoint: String?
        public var iam: Bool
        public init(fileSystem: String, mount: String, accessPoint: String? = nil, iam: Bool = true) {
            self.fileSystem = fileSystem
            self.mount = mount
            self.accessPoint = accessPoint
            self.iam = iam
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case fileSystem = "file_system", mount, accessPoint = "access_point", iam }
    }

    /// A bucket (or the part of it under `prefix`) on `mount`, with the instance role's credentials.
    public struct S3Mount: Sendable, Equatable, Encodable {
        public var bucket: String
        /// Ends in `/`.
        public var prefix: String?
        public var mount: String
        /// Writable mounts may create and delete objects.
        public var readOnly: Bool
        public init(bucket: String, prefix: String? = nil, mount: String, readOnly: Bool = true) {
            self.bucket = bucket
            self.prefix = prefix
            self.mount = mount
            self.readOnly = readOnly
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case bucket, prefix, mount, readOnly = "read_only" }
    }
}
