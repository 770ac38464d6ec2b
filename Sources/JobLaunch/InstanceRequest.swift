import AWSServices
import JobModel

/// The RunInstances call for one attempt in one place: an instance type, a subnet, a market.
enum InstanceRequest {
    /// Where one RunInstances call asks for the instance.
    struct Placement: Sendable, Equatable {
        /// Indexes into the spec's `types` and `placements`.
        var type: Int
        var subnet: Int
        var market: InstanceSpec.Market
    }

    /// Every placement in the order they are tried: for each market (spot before its fallback),
    /// each type in turn, each subnet in turn.
    static func placements(_ instance: InstanceSpec) -> [Placement] {
        instance.markets.flatMap { market in
            instance.types.indices.flatMap { type in instance.placements.indices.map { Placement(type: type, subnet: $0, market: market) } }
        }
    }

    /// EC2's answers that mean "not here, not now": the next type, subnet or market may have room.
    static let capacityCodes: Set<String> = [
        "InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientReservedInstanceCapacity", "InsufficientCapacity",
        "UnfulfillableCapacity", "MaxSpotInstanceCountExceeded", "SpotMaxPriceTooLow", "Unsupported",
        // The account's limits for a type family: another listed type, or a later try, may fit.
        "InstanceLimitExceeded", "VcpuLimitExceeded",
    ]

    /// A spot launch in an account whose spot service-linked role the caller may not create.
    static let spotRoleCode = "AuthFailure.ServiceLinkedRoleCreationNotPermitted"

    static func input(_ spec: JobSpec, _ record: JobRecord, _ placement: Placement, userData: String) -> EC2.RunInstancesInput {
        let instance = spec.instance
        // One token per job, attempt and placement: EC2 (not moto) returns the same instance when
        // the same request is retried, and another type, subnet or market is another request.
        // The first subnet and the spec's own market keep the token of a one-subnet spec.
        var token = "\(record.id)-a\(record.attempt)-t\(placement.type)"
        if placement.subnet > 0 { token += "-s\(placement.subnet)" }
        if placement.market != instance.market { token += "-\(placement.market.rawValue)" }
        var tags = [
            EC2.Tag(key: "Name", value: "sortie \(spec.name)"), EC2.Tag(key: "sortie:job-id", value: record.id),
            EC2.Tag(key: "sortie:job", value: spec.name), EC2.Tag(key: "sortie:attempt", value: String(record.attempt)),
        ]
        if spec.noShutdown { tags.append(EC2.Tag(key: JobStarter.keepTag, value: "true")) }
        var disks: [EC2.BlockDeviceMapping] = []
        if let root = instance.rootVolume { disks.append(mapping(instance.rootDevice, root)) }
        disks += instance.dataVolumes.map { mapping($0.device, $0.volume) }
        return EC2.RunInstancesInput(
            imageId: instance.image, instanceType: instance.types[placement.type], userData: userData, clientToken: token,
            keyName: instance.keyName, subnetId: instance.placements[placement.subnet], securityGroupIds: instance.securityGroups,
            instanceProfile: instance.instanceProfile.map { $0.hasPrefix("arn:") ? .arn($0) : .name($0) },
            shutdownBehavior: .terminate, spot: placement.market == .spot ? EC2.SpotOptions(maxPrice: instance.spotMaxPrice) : nil,
            metadataOptions: EC2.MetadataOptions(httpTokens: "required"), blockDeviceMappings: disks,
            tagSpecifications: [EC2.TagSpecification(resourceType: "instance", tags: tags), EC2.TagSpecification(resourceType: "volume", tags: tags)])
    }

    private static func mapping(_ device: String, _ volume: InstanceSpec.Volume) -> EC2.BlockDeviceMapping {
        EC2.BlockDeviceMapping(
            deviceName: device, volumeSize: volume.sizeGB, volumeType: volume.type, deleteOnTermination: true, encrypted: volume.encrypted,
            iops: volume.iops, throughput: volume.throughput)
    }
}
