import CurlHTTP
import WallTime

/// The Kafka APIs the producer speaks, at versions every broker since Kafka 2.5 (and MSK) takes.
/// All but InitProducerId use the encodings from before KIP-482; InitProducerId is asked at v3,
/// the first "flexible" one (its header and body carry tagged fields), because it is the version
/// that names the producer id and epoch being renewed, which some brokers (tansu 0.6) require.
struct KafkaAPI: Sendable {
    let key: Int16
    let version: Int16
    /// KIP-482's request header v2 and response header v1: a tagged-field section after each.
    var flexible = false

    static let produce = KafkaAPI(key: 0, version: 3)
    static let metadata = KafkaAPI(key: 3, version: 4)
    static let saslHandshake = KafkaAPI(key: 17, version: 1)
    static let initProducerID = KafkaAPI(key: 22, version: 3, flexible: true)
    static let describeConfigs = KafkaAPI(key: 32, version: 1)
    static let saslAuthenticate = KafkaAPI(key: 36, version: 1)
}

/// How the client proves who it is once connected (SASL, over TLS in practice).
public enum KafkaAuthentication: Sendable {
    case none
    /// SASL/SCRAM-SHA-512 with a user and password (MSK's "SASL/SCRAM" clusters).
    case scramSHA512(user: String, password: String)
    /// SASL/OAUTHBEARER with a bearer token made fresh for each connection (MSK IAM).
    case oauthBearer(token: @Sendable () throws -> String)

    var mechanism: String? {
        switch self {
        case .none: nil
        case .scramSHA512: "SCRAM-SHA-512"
        case .oauthBearer: "OAUTHBEARER"
        }
    }
}

/// One broker connection: requests framed as Kafka does (int32 size, header v1), answered in order.
final class KafkaConnection {
    let nodeID: Int32
    let endpoint: String
    private let stream: CurlStream
    private let clientID: String
    private var nextCorrelation: Int32 = 1

    init(host: String, port: Int, nodeID: Int32, configuration: KafkaConfiguration, deadline: Int64) throws(KafkaError) {
        self.nodeID = nodeID
        endpoint = "\(host):\(port)"
        clientID = configuration.clientID
        do {
            stream = try CurlStream(
                host: host, port: port, tls: configuration.tls, timeoutMilliseconds: Int(max(1, min(deadline - WallClock.monotonicMilliseconds(), 10_000))))
        } catch {
            throw KafkaError(error.kind == .tls ? .failed : .retriable, error.message)
        }
        try authenticate(configuration.authentication, deadline: deadline)
    }

    /// Writes one request; returns its correlation id for `receive`.
    func send(_ api: KafkaAPI, deadline: Int64, body: (inout KafkaWriter) -> Void) throws(KafkaError) -> Int32 {
        let correlation = nextCorrelation
        nextCorrelation &+= 1
        var writer = KafkaWriter()
        writer.int32(0)
        writer.int16(api.key)
        writer.int16(api.version)
        writer.int32(correlation)
        writer.nullableString(clientID)
        if api.flexible { writer.int8(0) }  // no tagged fields
        body(&writer)
        writer.patch(int32: UInt32(writer.bytes.count - 4), at: 0)
        do {
            try writer.bytes.withUnsafeBytes { try stream.write($0, deadline: deadline) }
        } catch {
            throw KafkaError(.retriable, "\(error)")
        }
        return correlation
    }

    /// Reads the answer to `correlation`, a request to `api` (answers come in request order on one connection).
    func receive(_ correlation: Int32, for api: KafkaAPI, deadline: Int64) throws(KafkaError) -> KafkaReader {
        var size: [UInt8] = [0, 0, 0, 0]
        do {
            try size.withUnsafeMutableBytes { try stream.read(into: $0, deadline: deadline) }
            let length = Int(UInt32(size[0]) << 24 | UInt32(size[1]) << 16 | UInt32(size[2]) << 8 | UInt32(size[3]))
            guard length >= 4, length <= 64 << 20 else { throw KafkaError(.failed, "\(endpoint) sent a response of \(length) bytes") }
            var body = [UInt8](repeating: 0, count: length)
            try body.withUnsafeMutableBytes { try stream.read(into: $0, deadline: deadline) }
            var reader = KafkaReader(body)
            guard try reader.int32() == correlation else { throw KafkaError(.retriable, "\(endpoint) answered out of order") }
            if api.flexible { try reader.skipTaggedFields() }
            return reader
        } catch let error as CurlStreamError {
            throw KafkaError(.retriable, error.message)
        } catch let error as KafkaError {
            throw error
        } catch {
            throw KafkaError(.failed, "\(endpoint): \(error)")
        }
    }

    func call(_ api: KafkaAPI, deadline: Int64, body: (inout KafkaWriter) -> Void) throws(KafkaError) -> KafkaReader {
        try receive(try send(api, deadline: deadline, body: body), for: api, deadline: deadline)
    }

    /// SaslHandshake, then SaslAuthenticate rounds until the mechanism is satisfied.
    private func authenticate(_ authentication: KafkaAuthentication, deadline: Int64) throws(KafkaError) {
        guard let name = authentication.mechanism else { return }
        var mechanism: any SASLMechanism
        switch authentication {
        case .none: return
        case .scramSHA512(let user, let password): mechanism = SCRAM(digestSize: 64, user: user, password: password)
        case .oauthBearer(let token):
            do {
                mechanism = OAuthBearer(token: try token())
            } catch {
                throw KafkaError(.authentication, "making the OAUTHBEARER token: \(error)")
            }
        }
        do {
            var handshake = try call(KafkaAPI.saslHandshake, deadline: deadline) { $0.string(name) }
            let code = try handshake.int16()
            let offered = try handshake.array { reader throws(KafkaDecodingError) in try reader.string() }
            if let error = KafkaError.code(code, "\(endpoint) SASL handshake for \(name) (it offers \(offered.joined(separator: ", ")))") { throw error }
            var challenge: [UInt8]? = nil
            while let message = try mechanism.respond(to: challenge) {
                var answer = try call(KafkaAPI.saslAuthenticate, deadline: deadline) { $0.bytesField(message) }
                let code = try answer.int16()
                let text = try answer.nullableString()
                if let error = KafkaError.code(code, "\(endpoint) refused \(name)\(text.map { " (\($0))" } ?? "")") { throw error }
                challenge = try answer.bytesField()
            }
        } catch let error as KafkaDecodingError {
            throw KafkaError(.failed, "\(endpoint): \(error.what)")
        } catch let error as KafkaError {
            throw error
        } catch {
            throw KafkaError(.authentication, "\(endpoint) \(name): \(error)")
        }
    }
}
