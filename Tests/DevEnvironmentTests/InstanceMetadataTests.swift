@testable import DevEnvironment
import AWSCore
import Foundation
import SortieTestSupport
import Testing

@Suite("sortie dev's instance metadata stand-in")
struct InstanceMetadataTests {
    @Test("IMDSv2 as the runner's client reads it: a session token first, then the instance's id, type and region; no credentials, no spot notice; gone once stopped")
    func standIn() async throws {
        let identity = InstanceMetadataStandIn.Identity(instanceID: "i-0123456789abcdef0", instanceType: "c7i.large", region: "eu-west-1")
        let service = try await InstanceMetadataStandIn.start(identity)
        let endpoint = service.endpoint
        try await blocking { () throws -> Void in
            let client = InstanceMetadataClient(endpoint: endpoint, timeout: .seconds(10))
            #expect(try client.get("/latest/meta-data/instance-id") == "i-0123456789abcdef0")
            #expect(try client.get("/latest/meta-data/instance-type") == "c7i.large")
            #expect(try client.region() == "eu-west-1")
            let spot = #expect(throws: AWSError.self) { try client.get("/latest/meta-data/spot/instance-action") }
            #expect(spot?.status == 404)
            // Credentials come from the environment (moto's), never from here.
            let credentials = #expect(throws: AWSError.self) { try InstanceMetadataCredentialProvider(client: client).credentials() }
            #expect(credentials?.status == 404)

            // IMDSv2 only: no token, or one it never gave, is refused; a token needs its TTL.
            let curl = CurlTransport()
            #expect(try curl.send(HTTPRequest(method: "GET", url: endpoint + "/latest/meta-data/instance-id")).status == 401)
            let forged = HTTPRequest(method: "GET", url: endpoint + "/latest/meta-data/instance-id", headers: ["X-aws-ec2-metadata-token": "forged"])
            #expect(try curl.send(forged).status == 401)
            #expect(try curl.send(HTTPRequest(method: "PUT", url: endpoint + "/latest/api/token")).status == 400)
        }
        await service.stop()
        try await blocking { () throws -> Void in
            #expect(throws: AWSError.self) { try InstanceMetadataClient(endpoint: endpoint, attempts: 1).get("/latest/meta-data/instance-id") }
        }
    }
}
