import AWSServices
import JobModel

/// The RunInstances call for one attempt on one instance type.
enum InstanceRequest {
    /// EC2's answers that mean "not this type, not now": the next listed type may have room.
    static let capacityCodes: Set<String> = [
        "InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientReservedInstanceCapacity", "InsufficientCapacity",
        "UnfulfillableCapacity", "MaxSpotInstanceCountExceeded", "SpotMaxPriceTooLow", "Unsupported",
        // The account's limits for a type family: another listed type, or a later try, may fit.
        "InstanceLimitExceeded", "VcpuLimitExceeded",
    ]

    /// A spot launch in an account whose spot service-linked role the caller may not create.
    static let spotRoleCode = "AuthFailure.ServiceLinkedRoleCreationNotPermitted"

    static func input(_ spec: JobSpec, _ record: JobRecord, type index: Int, userData: String) -> EC2.RunInstancesInput {
        let instance = spec.instance
        let tags = [
            EC2.Tag(key: "Name", value: "sortie \(spec.name)"), EC2.Tag(key: "sortie:job-id", value: record.id),
            EC2.Tag(key: "sortie:job", value: spec.name), EC2.Tag(key: "sortie:attempt", value: String(record.attempt)),
        ]
        var disks: [EC2.BlockDeviceMapping] = []
        if let root = instance.rootVolume { disks.append(mapping(instance.rootDevice, root)) }
        disks += instance.dataVolumes.map { mapping($0.device, $0.volume) }
        return EC2.RunInstancesInput(
            imageId: instance.image, instanceType: instance.types[index], userData: userData,
            // One token per job, attempt and type: EC2 (not moto) returns the same instance when
            // the same request is retried, and a different type is a different request.
            clientToken: "\(record.id)-a\(record.attempt)-t\(index)",
            keyName: instance.keyName, subnetId: instance.subnet, securityGroupIds: instance.securityGroups,
            instanceProfile: instance.instanceProfile.map { $0.hasPrefix("arn:") ? .arn($0) : .name($0) },
            shutdownBehavior: .terminate, spot: instance.market == .spot ? EC2.SpotOptions(maxPrice: instance.spotMaxPrice) : nil,
            metadataOptions: EC2.MetadataOptions(httpTokens: "required"), blockDeviceMappings: disks,
            tagSpecifications: [EC2.TagSpecification(resourceType: "instance", tags: tags), EC2.TagSpecification(resourceType: "volume", tags: tags)])
    }

    private static func mapping(_ device: String, _ volume: InstanceSpec.Volume) -> EC2.BlockDeviceMapping {
        EC2.BlockDeviceMapping(
            deviceName: device, volumeSize: volume.sizeGB, volumeType: volume.type, deleteOnTermination: true, encrypted: volume.encrypted,
            iops: volume.iops, throughput: volume.throughput)
    }
}
