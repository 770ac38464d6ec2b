import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import SortieTestSupport
import Testing

@Suite("EC2 against moto")
struct EC2MotoTests {
    /// A subnet of moto's default VPC, a new security group and an instance profile.
    private func network(_ client: AWSClient) throws(AWSError) -> (subnet: String, group: String, profile: String) {
        let ec2 = QueryProtocolClient(client: client, service: .ec2, version: "2016-11-15")
        let subnets = try ec2.call("DescribeSubnets")
        let subnet = subnets.items("subnetSet").first?.string("subnetId") ?? ""
        var group = QueryParameters()
        group.add("GroupName", unique("runner"))
        group.add("GroupDescription", "Sortie runners")
        let groupId = try ec2.call("CreateSecurityGroup", group).string("groupId") ?? ""
        let iam = QueryProtocolClient(client: client, service: .iam, version: "2010-05-08")
        var profile = QueryParameters()
        let profileName = unique("runner-profile")
        profile.add("InstanceProfileName", profileName)
        _ = try iam.call("CreateInstanceProfile", profile)
        return (subnet, groupId, profileName)
    }

    @Test("RunInstances sends every launch option; DescribeInstances, CreateTags and TerminateInstances follow the instance")
    func instanceLifecycle() async throws {
        let server = try await MotoServer.shared()
        let client = motoClient(server)
        let ec2 = EC2(client: client)
        let (subnet, group, profile) = try await blocking { try network(client) }
        let name = unique("runner")
        let script = "#!/bin/bash\necho 'sortie runner' > /tmp/ready # ü & <ok>\n"
        let token = unique("launch")

        let launched = try await blocking {
            try ec2.runInstances(.init(
                imageId: "ami-0abcdef1234567890", instanceType: "c7g.large", userData: script, clientToken: token,
                subnetId: subnet, securityGroupIds: [group], instanceProfile: .name(profile), shutdownBehavior: .terminate,
                spot: .init(), metadataOptions: .init(httpTokens: "required", httpPutResponseHopLimit: 2),
                blockDeviceMappings: [.init(deviceName: "/dev/xvda", volumeSize: 64, volumeType: "gp3", deleteOnTermination: true)],
                tagSpecifications: [
                    .init(resourceType: "instance", tags: [.init(key: "Name", value: name), .init(key: "sortie:job", value: "job 42")]),
                    .init(resourceType: "volume", tags: [.init(key: "sortie:job", value: "job 42")]),
                ]))
        }
        #expect(launched.instances.count == 1)
        let instance = try #require(launched.instances.first)
        #expect(instance.instanceId.hasPrefix("i-"))
        #expect(instance.state?.name == "pending" || instance.state?.name == "running")
        #expect(instance.tag("Name") == name)
        #expect(instance.instanceLifecycle == "spot")
        #expect(instance.subnetId == subnet)

        // What moto recorded from the wire: the base64 user data, token, IMDS options and disk.
        let raw = try await blocking { () throws -> XML.Element in
            let query = QueryProtocolClient(client: client, service: .ec2, version: "2016-11-15")
            var p = QueryParameters()
            p.add("InstanceId", instance.instanceId)
            p.add("Attribute", "userData")
            return try query.call("DescribeInstanceAttribute", p)
        }
        let userData = try #require(raw["userData", "value"]?.text)
        #expect(Data(base64Encoded: userData).map { String(decoding: $0, as: UTF8.self) } == script)
        let described = try await blocking { () throws -> XML.Element in
            var p = QueryParameters()
            p.add("InstanceId.1", instance.instanceId)
            return try QueryProtocolClient(client: client, service: .ec2, version: "2016-11-15").call("DescribeInstances", p)
        }
        let item = try #require(described.first(named: "instancesSet")?.child("item"))
        #expect(item.string("clientToken") == token)
        #expect(item["metadataOptions", "httpTokens"]?.text == "required")
        #expect(item.items("blockDeviceMapping").first?.string("deviceName") == "/dev/xvda")

        let filtered = try await blocking {
            try ec2.describeInstances(filters: [.init(name: "tag:Name", values: [name]), .init(name: "instance-state-name", values: ["pending", "running"])])
        }
        #expect(filtered.instances.map(\.instanceId) == [instance.instanceId])
        #expect(filtered.instances.first?.stateReason == nil)

        try await blocking { try ec2.createTags(resourceIds: [instance.instanceId], tags: [.init(key: "sortie:attempt", value: "2")]) }
        let tagged = try await blocking { try ec2.describeInstances(instanceIds: [instance.instanceId]) }
        #expect(tagged.instances.first?.tag("sortie:attempt") == "2")
        #expect(tagged.instances.first?.tag("sortie:job") == "job 42")

        let changes = try await blocking { try ec2.terminateInstances([instance.instanceId]) }
        #expect(changes.map(\.instanceId) == [instance.instanceId])
        #expect(changes.first?.previousState?.name == "running")
        #expect(["shutting-down", "terminated"].contains(changes.first?.currentState?.name ?? ""))
        let terminated = try await blocking { try ec2.describeInstances(instanceIds: [instance.instanceId]) }
        #expect(terminated.instances.first?.state == .init(code: 48, name: "terminated"))
        #expect(terminated.instances.first?.stateReason?.code == "Client.UserInitiatedShutdown")
    }

    @Test("an EC2 error carries its code, message and request id, and is not retried")
    func errors() async throws {
        let server = try await MotoServer.shared()
        let ec2 = EC2(client: motoClient(server))
        let error = await awsError { () throws(AWSError) in try ec2.describeInstances(instanceIds: ["i-0123456789abcdef0"]) }
        #expect(error?.code == "InvalidInstanceID.NotFound")
        #expect(error?.service == "EC2")
        #expect(error?.operation == "DescribeInstances")
        #expect(error?.status == 400)
        #expect(error?.message.contains("i-0123456789abcdef0") == true)
        #expect(error?.requestID?.isEmpty == false)
        #expect(error?.attempts == 1)
    }
}
