import AWSCore
import AWSServices
import Foundation

// Figures for the AWS layer: the cost of signing one request, and of one DynamoDB PutItem
// round trip to moto on loopback (moto from SORTIE_BENCH_MOTO_ENDPOINT, or started here).
//   swift run -c release --scratch-path .build-aws aws-bench

let environment = ProcessInfo.processInfo.environment
let signIterations = Int(environment["SORTIE_BENCH_SIGN_ITERATIONS"] ?? "") ?? 200_000
let putIterations = Int(environment["SORTIE_BENCH_PUT_ITERATIONS"] ?? "") ?? 1_000

func nanoseconds(_ body: () throws -> Void) rethrows -> UInt64 {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return DispatchTime.now().uptimeNanoseconds - start
}

func format(_ nanoseconds: Double) -> String { String(format: "%8.2f µs", nanoseconds / 1000) }

// MARK: Signing

let credentials = AWSCredentials(
    accessKeyID: "ASIAEXAMPLEEXAMPLE00", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    sessionToken: String(repeating: "IQoJb3JpZ2luX2VjEXAMPLE", count: 30))
let putBody = Data(#"{"TableName":"sortie-jobs","Item":{"pk":{"S":"job#0123456789"},"sk":{"S":"meta"},"state":{"S":"queued"},"attempts":{"N":"0"},"queue":{"S":"default"}},"ConditionExpression":"attribute_not_exists(pk)"}"#.utf8)
let template = HTTPRequest(
    method: "POST", url: "https://dynamodb.us-east-1.amazonaws.com/",
    headers: ["Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.PutItem", "User-Agent": "sortie/1"],
    body: putBody)
let signer = SigV4Signer()
let date = AMZDate(Date())

func signRun(_ count: Int, s3: Bool) -> Double {
    var sink = 0
    let elapsed = nanoseconds {
        for _ in 0..<count {
            var request = template
            signer.sign(&request, credentials: credentials, region: "us-east-1", service: s3 ? "s3" : "dynamodb", style: s3 ? .s3 : .standard, date: date)
            sink &+= request.headers.fields.count
        }
    }
    precondition(sink > 0)
    return Double(elapsed) / Double(count)
}

_ = signRun(2_000, s3: false)
let signing = (0..<5).map { _ in signRun(signIterations / 5, s3: false) }.min() ?? 0
let signingS3 = (0..<5).map { _ in signRun(signIterations / 5, s3: true) }.min() ?? 0
print("SigV4 sign, DynamoDB PutItem (\(putBody.count)-byte body, session token): \(format(signing)) per request (best of 5 × \(signIterations / 5))")
print("SigV4 sign, same request as S3 (payload hash header):                   \(format(signingS3)) per request")

// MARK: PutItem round trip

final class Moto {
    let endpoint: String
    private let process: Process?

    init() throws {
        if let endpoint = environment["SORTIE_BENCH_MOTO_ENDPOINT"] {
            self.endpoint = endpoint
            process = nil
            return
        }
        let port = 20_000 + Int.random(in: 0..<20_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        endpoint = "http://127.0.0.1:\(port)"
        let session = try CurlSession()
        for _ in 0..<300 {
            if let answer = try? session.send(HTTPRequest(method: "GET", url: endpoint + "/moto-api/", timeout: .seconds(2))), answer.status == 200 { return }
            guard process.isRunning else { break }
            usleep(100_000)
        }
        process.terminate()
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "moto did not start on port \(port)"])
    }

    func stop() {
        process?.terminate()
        process?.waitUntilExit()
    }
}

let moto = try Moto()
defer { moto.stop() }
let client = AWSClient(AWSConfiguration(
    region: "us-east-1", credentials: StaticCredentialProvider(credentials), endpoints: EndpointResolver(globalOverride: moto.endpoint)))
let table = "bench-\(UUID().uuidString.prefix(8).lowercased())"
struct CreateTable: Encodable {
    struct Attribute: Encodable { var AttributeName: String; var AttributeType = "S" }
    struct Key: Encodable { var AttributeName: String; var KeyType = "HASH" }
    var TableName: String
    var BillingMode = "PAY_PER_REQUEST"
    var AttributeDefinitions = [Attribute(AttributeName: "pk")]
    var KeySchema = [Key(AttributeName: "pk")]
}
let _: EmptyOutput = try JSONProtocolClient(client: client, service: .dynamoDB, version: "1.0", targetPrefix: "DynamoDB_20120810")
    .call("CreateTable", CreateTable(TableName: table))
let dynamo = DynamoDB(client: client)
func put(_ index: Int) throws {
    try dynamo.putItem(.init(
        tableName: table, item: ["pk": .s("job#\(index)"), "state": .s("queued"), "attempts": .number(0)],
        conditionExpression: "attribute_not_exists(pk)"))
}
for index in 0..<50 { try put(-1 - index) }
var samples: [Double] = []
samples.reserveCapacity(putIterations)
for index in 0..<putIterations { samples.append(Double(try nanoseconds { try put(index) })) }
samples.sort()
let mean = samples.reduce(0, +) / Double(samples.count)
print("DynamoDB PutItem round trip to moto on 127.0.0.1 (\(putIterations) sequential, keep-alive):")
print("  mean \(format(mean))   p50 \(format(samples[samples.count / 2]))   p99 \(format(samples[samples.count * 99 / 100]))   min \(format(samples[0]))")
