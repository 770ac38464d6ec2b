import AWSCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// EC2 over its Query protocol: launching, watching, tagging and terminating runner instances.
public struct EC2: Sendable {
    let query: QueryProtocolClient

    public init(client: AWSClient) {
        query = QueryProtocolClient(client: client, service: .ec2, version: "2016-11-15")
    }

    public struct Tag: Sendable, Hashable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// Tags applied at launch to the instance, its volumes or its spot request.
    public struct TagSpecification: Sendable {
        public var resourceType: String
        public var tags: [Tag]
        public init(resourceType: String, tags: [Tag]) {
            self.resourceType = resourceType
            self.tags = tags
        }
    }

    public struct BlockDeviceMapping: Sendable {
        public var deviceName: String
        public var volumeSize: Int?
        public var volumeType: String?
        public var deleteOnTermination: Bool?
        public var encrypted: Bool?
        public var iops: Int?
        public var throughput: Int?

        public init(
            deviceName: String, volumeSize: Int? = nil, volumeType: String? = nil, deleteOnTermination: Bool? = nil,
            encrypted: Bool? = nil, iops: Int? = nil, throughput: Int? = nil
        ) {
            self.deviceName = deviceName
            self.volumeSize = volumeSize
            self.volumeType = volumeType
            self.deleteOnTermination = deleteOnTermination
            self.encrypted = encrypted
            self.iops = iops
            self.throughput = throughput
        }
    }

    public enum InstanceProfile: Sendable, Equatable {
        case arn(String)
        case name(String)
    }

    public enum ShutdownBehavior: String, Sendable {
        case stop, terminate
    }

    /// `InstanceMarketOptions` with `MarketType=spot`.
    public struct SpotOptions: Sendable {
        public var maxPrice: String?
        /// `one-time` or `persistent`.
        public var spotInstanceType: String?
        /// `terminate`, `stop` or `hibernate`.
        public var instanceInterruptionBehavior: String?
        public init(maxPrice: String? = nil, spotInstanceType: String? = "one-time", instanceInterruptionBehavior: String? = "terminate") {
            self.maxPrice = maxPrice
            self.spotInstanceType = spotInstanceType
            self.instanceInterruptionBehavior = instanceInterruptionBehavior
        }
    }

    public struct MetadataOptions: Sendable {
        /// `required` enforces IMDSv2.
        public var httpTokens: String?
        public var httpEndpoint: String?
        public var httpPutResponseHopLimit: Int?
        public var instanceMetadataTags: String?
        public init(httpTokens: String? = "required", httpEndpoint: String? = "enabled", httpPutResponseHopLimit: Int? = nil, instanceMetadataTags: String? = nil) {
            self.httpTokens = httpTokens
            self.httpEndpoint = httpEndpoint
            self.httpPutResponseHopLimit = httpPutResponseHopLimit
            self.instanceMetadataTags = instanceMetadataTags
        }
    }

    // MARK: RunInstances

    public struct RunInstancesInput: Sendable {
        public var imageId: String
        public var instanceType: String
        public var minCount: Int
        public var maxCount: Int
        /// The script as text; sent base64-encoded, as EC2 requires.
        public var userData: String?
        /// Makes the launch idempotent across retries: one is generated when not given.
        public var clientToken: String
        public var keyName: String?
        public var subnetId: String?
        public var securityGroupIds: [String]
        public var instanceProfile: InstanceProfile?
        public var shutdownBehavior: ShutdownBehavior?
        /// A spot launch when set.
        public var spot: SpotOptions?
        public var metadataOptions: MetadataOptions?
        public var blockDeviceMappings: [BlockDeviceMapping]
        public var tagSpecifications: [TagSpecification]

        public init(
            imageId: String, instanceType: String, minCount: Int = 1, maxCount: Int = 1, userData: String? = nil,
            clientToken: String = UUID().uuidString, keyName: String? = nil, subnetId: String? = nil, securityGroupIds: [String] = [],
            instanceProfile: InstanceProfile? = nil, shutdownBehavior: ShutdownBehavior? = nil, spot: SpotOptions? = nil,
            metadataOptions: MetadataOptions? = nil, blockDeviceMappings: [BlockDeviceMapping] = [], tagSpecifications: [TagSpecification] = []
        ) {
            self.imageId = imageId
            self.instanceType = instanceType
            self.minCount = minCount
            self.maxCount = maxCount
            self.userData = userData
            self.clientToken = clientToken
            self.keyName = keyName
            self.subnetId = subnetId
            self.securityGroupIds = securityGroupIds
            self.instanceProfile = instanceProfile
            self.shutdownBehavior = shutdownBehavior
            self.spot = spot
            self.metadataOptions = metadataOptions
            self.blockDeviceMappings = blockDeviceMappings
            self.tagSpecifications = tagSpecifications
        }

        var parameters: QueryParameters {
            var p = QueryParameters()
            p.add("ImageId", imageId)
            p.add("InstanceType", instanceType)
            p.add("MinCount", minCount)
            p.add("MaxCount", maxCount)
            p.add("UserData", userData.map { Data($0.utf8).base64EncodedString() })
            p.add("ClientToken", clientToken)
            p.add("KeyName", keyName)
            p.add("SubnetId", subnetId)
            p.addList("SecurityGroupId", securityGroupIds)
            switch instanceProfile {
            case .arn(let arn): p.add("IamInstanceProfile.Arn", arn)
            case .name(let name): p.add("IamInstanceProfile.Name", name)
            case nil: break
            }
            p.add("InstanceInitiatedShutdownBehavior", shutdownBehavior?.rawValue)
            if let spot {
                p.add("InstanceMarketOptions.MarketType", "spot")
                p.add("InstanceMarketOptions.SpotOptions.MaxPrice", spot.maxPrice)
                p.add("InstanceMarketOptions.SpotOptions.SpotInstanceType", spot.spotInstanceType)
                p.add("InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior", spot.instanceInterruptionBehavior)
            }
            if let options = metadataOptions {
                p.add("MetadataOptions.HttpTokens", options.httpTokens)
                p.add("MetadataOptions.HttpEndpoint", options.httpEndpoint)
                p.add("MetadataOptions.HttpPutResponseHopLimit", options.httpPutResponseHopLimit)
                p.add("MetadataOptions.InstanceMetadataTags", options.instanceMetadataTags)
            }
            for (index, mapping) in blockDeviceMappings.enumerated() {
                let prefix = "BlockDeviceMapping.\(index + 1)"
                p.add("\(prefix).DeviceName", mapping.deviceName)
                p.add("\(prefix).Ebs.VolumeSize", mapping.volumeSize)
                p.add("\(prefix).Ebs.VolumeType", mapping.volumeType)
                p.add("\(prefix).Ebs.DeleteOnTermination", mapping.deleteOnTermination)
                p.add("\(prefix).Ebs.Encrypted", mapping.encrypted)
                p.add("\(prefix).Ebs.Iops", mapping.iops)
                p.add("\(prefix).Ebs.Throughput", mapping.throughput)
            }
            for (index, specification) in tagSpecifications.enumerated() {
                let prefix = "TagSpecification.\(index + 1)"
                p.add("\(prefix).ResourceType", specification.resourceType)
                for (tagIndex, tag) in specification.tags.enumerated() {
                    p.add("\(prefix).Tag.\(tagIndex + 1).Key", tag.key)
                    p.add("\(prefix).Tag.\(tagIndex + 1).Value", tag.value)
                }
            }
            return p
        }
    }

    public struct InstanceState: Sendable, Equatable {
        /// 0 pending, 16 running, 32 shutting-down, 48 terminated, 64 stopping, 80 stopped.
        public var code: Int
        public var name: String
        public init(code: Int, name: String) {
            self.code = code
            self.name = name
        }
    }

    /// Why the instance changed state (`Server.SpotInstanceTermination`, `Client.UserInitiatedShutdown`).
    public struct StateReason: Sendable, Equatable {
        public var code: String
        public var message: String
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    public struct Instance: Sendable {
        public var instanceId: String
        public var imageId: String?
        public var instanceType: String?
        public var state: InstanceState?
        public var stateReason: StateReason?
        public var stateTransitionReason: String?
        public var launchTime: String?
        public var subnetId: String?
        /// Where it runs (`placement`): a spot instance's price is its zone's.
        public var availabilityZone: String?
        public var privateIpAddress: String?
        public var publicIpAddress: String?
        /// `spot` for spot instances.
        public var instanceLifecycle: String?
        public var spotInstanceRequestId: String?
        public var iamInstanceProfileArn: String?
        public var tags: [Tag]

        public func tag(_ key: String) -> String? { tags.first { $0.key == key }?.value }
    }

    public struct RunInstancesOutput: Sendable {
        public var reservationId: String?
        public var instances: [Instance]
    }

    public func runInstances(_ input: RunInstancesInput) throws(AWSError) -> RunInstancesOutput {
        let root = try query.call("RunInstances", input.parameters)
        return RunInstancesOutput(
            reservationId: root.string("reservationId"),
            instances: try root.items("instancesSet").map { (item) throws(AWSError) in try instance(item, "RunInstances") })
    }

    // MARK: DescribeInstances

    public struct Filter: Sendable {
        public var name: String
        public var values: [String]
        public init(name: String, values: [String]) {
            self.name = name
            self.values = values
        }
    }

    public struct DescribeInstancesOutput: Sendable {
        public var instances: [Instance]
        /// Present when there are more pages.
        public var nextToken: String?
    }

    /// One page of instances (reservations flattened).
    public func describeInstances(
        instanceIds: [String] = [], filters: [Filter] = [], maxResults: Int? = nil, nextToken: String? = nil
    ) throws(AWSError) -> DescribeInstancesOutput {
        var p = QueryParameters()
        p.addList("InstanceId", instanceIds)
        for (index, filter) in filters.enumerated() {
            p.add("Filter.\(index + 1).Name", filter.name)
            p.addList("Filter.\(index + 1).Value", filter.values)
        }
        p.add("MaxResults", maxResults)
        p.add("NextToken", nextToken)
        let root = try query.call("DescribeInstances", p)
        var instances: [Instance] = []
        for reservation in root.items("reservationSet") {
            for item in reservation.items("instancesSet") {
                instances.append(try instance(item, "DescribeInstances"))
            }
        }
        let token = root.string("nextToken").flatMap { $0.isEmpty ? nil : $0 }
        return DescribeInstancesOutput(instances: instances, nextToken: token)
    }

    // MARK: TerminateInstances

    public struct StateChange: Sendable, Equatable {
        public var instanceId: String
        public var currentState: InstanceState?
        public var previousState: InstanceState?
    }

    @discardableResult
    public func terminateInstances(_ instanceIds: [String]) throws(AWSError) -> [StateChange] {
        var p = QueryParameters()
        p.addList("InstanceId", instanceIds)
        let root = try query.call("TerminateInstances", p)
        return try root.items("instancesSet").map { (item) throws(AWSError) in
            StateChange(
                instanceId: try required(item, "instanceId", "TerminateInstances"),
                currentState: state(item.child("currentState")), previousState: state(item.child("previousState")))
        }
    }

    // MARK: CreateTags

    public func createTags(resourceIds: [String], tags: [Tag]) throws(AWSError) {
        var p = QueryParameters()
        p.addList("ResourceId", resourceIds)
        for (index, tag) in tags.enumerated() {
            p.add("Tag.\(index + 1).Key", tag.key)
            p.add("Tag.\(index + 1).Value", tag.value)
        }
        _ = try query.call("CreateTags", p)
    }

    // MARK: DescribeInstanceAttribute

    /// An instance's UserData, decoded from the base64 EC2 answers with; `nil` when it has none.
    public func userData(instanceID: String) throws(AWSError) -> Data? {
        var p = QueryParameters()
        p.add("InstanceId", instanceID)
        p.add("Attribute", "userData")
        let root = try query.call("DescribeInstanceAttribute", p)
        return (root["userData", "value"]?.text).flatMap { Data(base64Encoded: $0) }
    }

    // MARK: DescribeSpotPriceHistory

    /// One spot price change: from `timestamp` on, `spotPrice` US dollars an hour in that zone.
    public struct SpotPrice: Sendable, Equatable {
        public var instanceType: String
        public var availabilityZone: String
        public var productDescription: String
        /// As EC2 writes it, `0.031200`.
        public var spotPrice: String
        /// ISO 8601, `2024-05-01T10:15:00.000Z`.
        public var timestamp: String
    }

    public struct SpotPriceHistoryOutput: Sendable {
        public var prices: [SpotPrice]
        /// Present when there are more pages.
        public var nextToken: String?
    }

    /// One page of the price changes between `startTime` and `endTime` (ISO 8601), with the change
    /// in effect at `startTime`, as EC2 answers.
    public func describeSpotPriceHistory(
        instanceTypes: [String], productDescriptions: [String], availabilityZone: String?, startTime: String, endTime: String, nextToken: String? = nil
    ) throws(AWSError) -> SpotPriceHistoryOutput {
        var p = QueryParameters()
        p.addList("InstanceType", instanceTypes)
        p.addList("ProductDescription", productDescriptions)
        p.add("AvailabilityZone", availabilityZone)
        p.add("StartTime", startTime)
        p.add("EndTime", endTime)
        p.add("NextToken", nextToken)
        let root = try query.call("DescribeSpotPriceHistory", p)
        let prices = try root.items("spotPriceHistorySet").map { (item) throws(AWSError) in
            SpotPrice(
                instanceType: try required(item, "instanceType", "DescribeSpotPriceHistory"),
                availabilityZone: try required(item, "availabilityZone", "DescribeSpotPriceHistory"),
                productDescription: item.string("productDescription") ?? "",
                spotPrice: try required(item, "spotPrice", "DescribeSpotPriceHistory"),
                timestamp: try required(item, "timestamp", "DescribeSpotPriceHistory"))
        }
        return SpotPriceHistoryOutput(prices: prices, nextToken: root.string("nextToken").flatMap { $0.isEmpty ? nil : $0 })
    }

    // MARK: Decoding

    private func instance(_ item: XML.Element, _ operation: String) throws(AWSError) -> Instance {
        let reason = item.child("stateReason").flatMap { element -> StateReason? in
            guard let code = element.string("code"), !code.isEmpty else { return nil }
            return StateReason(code: code, message: element.string("message") ?? "")
        }
        return Instance(
            instanceId: try required(item, "instanceId", operation), imageId: item.string("imageId"),
            instanceType: item.string("instanceType"), state: state(item.child("instanceState")), stateReason: reason,
            stateTransitionReason: nonEmpty(item.string("reason")), launchTime: item.string("launchTime"), subnetId: item.string("subnetId"),
            availabilityZone: item["placement", "availabilityZone"]?.text,
            privateIpAddress: item.string("privateIpAddress"), publicIpAddress: item.string("ipAddress"),
            instanceLifecycle: item.string("instanceLifecycle"), spotInstanceRequestId: item.string("spotInstanceRequestId"),
            iamInstanceProfileArn: item["iamInstanceProfile", "arn"]?.text,
            tags: item.items("tagSet").map { Tag(key: $0.string("key") ?? "", value: $0.string("value") ?? "") })
    }

    private func state(_ element: XML.Element?) -> InstanceState? {
        guard let element, let name = element.string("name") else { return nil }
        return InstanceState(code: element.string("code").flatMap { Int($0) } ?? -1, name: name)
    }

    private func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    private func required(_ element: XML.Element, _ name: String, _ operation: String) throws(AWSError) -> String {
        guard let value = element.string(name), !value.isEmpty else {
            throw AWSError(kind: .invalidResponse, service: "EC2", operation: operation, code: "InvalidResponse", message: "an item has no <\(name)>")
        }
        return value
    }
}
