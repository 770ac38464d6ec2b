import CLibCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A SASL mechanism as a conversation: given the server's last message (nil at first), the
/// next client message, or nil when the exchange is complete.
protocol SASLMechanism {
    mutating func respond(to challenge: [UInt8]?) throws(SASLError) -> [UInt8]?
}

struct SASLError: Error, Sendable, CustomStringConvertible {
    var description: String
}

/// RFC 7628 OAUTHBEARER: one client message carrying the token; MSK IAM's token is a
/// presigned `kafka-cluster:Connect` URL (see AWSCore's `MSKAuthToken`).
struct OAuthBearer: SASLMechanism {
    let token: String
    private var sent = false

    init(token: String) {
        self.token = token
    }

    static func initialResponse(token: String) -> [UInt8] {
        Array("n,,\u{01}auth=Bearer \(token)\u{01}\u{01}".utf8)
    }

    mutating func respond(to challenge: [UInt8]?) throws(SASLError) -> [UInt8]? {
        guard !sent else { return nil }
        sent = true
        return Self.initialResponse(token: token)
    }
}

/// RFC 5802 SCRAM (no channel binding), with SHA-256 (32-byte digests) or SHA-512 (64).
struct SCRAM: SASLMechanism {
    let digestSize: Int32
    let user: String
    let password: String
    let clientNonce: String
    private var step = 0
    private var clientFirstBare = ""
    private var expectedServerSignature: [UInt8] = []

    init(digestSize: Int32, user: String, password: String, clientNonce: String? = nil) {
        self.digestSize = digestSize
        self.user = user
        self.password = password
        self.clientNonce = clientNonce ?? Self.randomNonce()
    }

    private static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<32).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    /// `=` and `,` are escaped in a SCRAM user name.
    private static func saslName(_ name: String) -> String {
        name.replacing("=", with: "=3D").replacing(",", with: "=2C")
    }

    mutating func respond(to challenge: [UInt8]?) throws(SASLError) -> [UInt8]? {
        step += 1
        switch step {
        case 1:
            clientFirstBare = "n=\(Self.saslName(user)),r=\(clientNonce)"
            return Array("n,,\(clientFirstBare)".utf8)
        case 2:
            let serverFirst = String(decoding: challenge ?? [], as: UTF8.self)
            let fields = Self.attributes(serverFirst)
            guard let nonce = fields["r"], nonce.hasPrefix(clientNonce), let saltText = fields["s"],
                let salt = Data(base64Encoded: saltText), let iterations = fields["i"].flatMap({ Int32($0) }), iterations > 0
            else { throw SASLError(description: "SCRAM: unexpected server-first message '\(serverFirst)'") }
            let salted = pbkdf2(password: password, salt: [UInt8](salt), iterations: iterations)
            let clientKey = hmac(key: salted, Array("Client Key".utf8))
            let storedKey = digest(clientKey)
            let withoutProof = "c=biws,r=\(nonce)"
            let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
            let signature = hmac(key: storedKey, authMessage)
            let proof = zip(clientKey, signature).map { $0 ^ $1 }
            expectedServerSignature = hmac(key: hmac(key: salted, Array("Server Key".utf8)), authMessage)
            return Array("\(withoutProof),p=\(Data(proof).base64EncodedString())".utf8)
        case 3:
            let serverFinal = String(decoding: challenge ?? [], as: UTF8.self)
            let fields = Self.attributes(serverFinal)
            if let error = fields["e"] { throw SASLError(description: "SCRAM: the server says \(error)") }
            guard let verifier = fields["v"].flatMap({ Data(base64Encoded: $0) }), [UInt8](verifier) == expectedServerSignature else {
                throw SASLError(description: "SCRAM: the server's signature does not match (is it the server we meant?)")
            }
            return nil
        default:
            return nil
        }
    }

    /// `a=value,b=value` (values may contain `=`).
    private static func attributes(_ message: String) -> [String: String] {
        var result: [String: String] = [:]
        for part in message.split(separator: ",") where part.count >= 2 && part.dropFirst().first == "=" {
            result[String(part.prefix(1))] = String(part.dropFirst(2))
        }
        return result
    }

    private func digest(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(digestSize))
        _ = sortie_digest_bytes(digestSize, data, data.count, &out)
        return out
    }

    private func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(digestSize))
        _ = sortie_hmac(digestSize, key, key.count, data, data.count, &out)
        return out
    }

    private func pbkdf2(password: String, salt: [UInt8], iterations: Int32) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(digestSize))
        _ = sortie_pbkdf2(digestSize, password, password.utf8.count, salt, salt.count, iterations, &out)
        return out
    }
}
