import AWSCore
import ChunkPlanning
import KafkaProducer
import RecordFormats
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a Kafka destination's authentication takes from the function: its AWS identity (MSK
/// IAM) or its SCRAM secret (`SORTIE_KAFKA_USERNAME`, `SORTIE_KAFKA_PASSWORD`).
public struct KafkaCredentials: Sendable {
    public var aws: (any AWSCredentialProvider)?
    /// The function's region, for an MSK IAM token when the broker's name does not say.
    public var region: String
    public var scramUser: String?
    public var scramPassword: String?
    public var clock: @Sendable () -> Date

    public init(
        aws: (any AWSCredentialProvider)? = nil, region: String = "", scramUser: String? = nil, scramPassword: String? = nil,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.aws = aws
        self.region = region
        self.scramUser = scramUser
        self.scramPassword = scramPassword
        self.clock = clock
    }

    public init(client: AWSClient?, environment: [String: String]) {
        self.init(
            aws: client?.configuration.credentials, region: client?.configuration.region ?? "",
            scramUser: environment["SORTIE_KAFKA_USERNAME"], scramPassword: environment["SORTIE_KAFKA_PASSWORD"],
            clock: client?.configuration.clock ?? Date.init)
    }

    func authentication(for destination: KafkaDestination) throws(KafkaError) -> KafkaAuthentication {
        switch destination.auth {
        case .none:
            return .none
        case .scramSHA512:
            guard let user = scramUser, let password = scramPassword else {
                throw KafkaError(.authentication, "auth scram-sha-512 needs SORTIE_KAFKA_USERNAME and SORTIE_KAFKA_PASSWORD in the function's environment")
            }
            return .scramSHA512(user: user, password: password)
        case .mskIAM:
            guard let provider = aws else { throw KafkaError(.authentication, "auth msk-iam needs AWS credentials") }
            let host = destination.bootstrapServers.first.map { String($0[..<($0.lastIndex(of: ":") ?? $0.endIndex)]) } ?? ""
            let region = MSKAuthToken.region(ofBroker: host) ?? self.region
            let clock = self.clock
            return .oauthBearer {
                MSKAuthToken.make(region: region, credentials: try provider.credentials(), date: AMZDate(clock()))
            }
        }
    }
}

/// Sends valid records to a Kafka topic: the record's JSON as the value, the `key` field's value
/// as the key, and headers naming the file, the chunk and the record's number in the file, so a
/// consumer can trace a record and drop the copies a retried chunk sends again (at least once).
struct KafkaDelivery {
    static let fileHeader = "sortie-file-id"
    static let chunkHeader = "sortie-chunk"
    static let recordHeader = "sortie-record"

    let producer: KafkaProducer
    let keyField: [UInt8]?
    private let fixedHeaders: [KafkaHeader]
    private var members: [JSONMember] = []

    init(destination: KafkaDestination, task: ChunkTask, credentials: KafkaCredentials, timeLeft: @escaping () -> Int64) throws(KafkaError) {
        var configuration = KafkaConfiguration(
            bootstrapServers: destination.bootstrapServers, tls: destination.tls, authentication: try credentials.authentication(for: destination))
        configuration.compression = destination.compression == .gzip ? .gzip : .none
        producer = try KafkaProducer(topic: destination.topic, configuration: configuration, timeLeft: timeLeft)
        keyField = destination.key.map { Array($0.utf8) }
        fixedHeaders = [KafkaHeader(Self.fileHeader, task.fileID), KafkaHeader(Self.chunkHeader, String(task.chunk.index))]
    }

    /// Queues one record; returns why it cannot be sent when it is larger than the topic takes.
    mutating func write(_ record: UnsafeBufferPointer<UInt8>, number: Int) throws -> String? {
        let headers = fixedHeaders + [KafkaHeader(Self.recordHeader, String(number))]
        guard let keyField else { return try producer.append(key: nil, value: record, headers: headers) }
        // The record is valid JSON by now (ours, or a validated JSON Lines line).
        try JSONObjectScanner.members(of: record, into: &members)
        guard let member = members.first(where: { record[$0.key].elementsEqual(keyField) }), member.kind != .null else {
            return try producer.append(key: nil, value: record, headers: headers)
        }
        let raw = UnsafeBufferPointer(rebasing: record[member.value])
        if member.valueHasEscapes {
            return try JSONObjectScanner.unescape(raw).withUnsafeBufferPointer { try producer.append(key: $0, value: record, headers: headers) }
        }
        return try producer.append(key: raw, value: record, headers: headers)
    }

    func finish() throws {
        try producer.flush()
    }

    var delivered: Int64 { producer.delivered }
}
