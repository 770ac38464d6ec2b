import AWSCore
import Foundation
@testable import KafkaProducer
import SortieTestSupport
import Testing

@Suite("Kafka wire pieces: checksums, partitioner, SASL, the MSK IAM token")
struct KafkaUnitTests {
    @Test("CRC-32C: the check value of '123456789' and of empty input, on every length around the eight-byte stride")
    func crc32c() {
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
        #expect([UInt8]().withUnsafeBytes { CRC32C.checksum($0) } == 0)
        // Slicing by eight against the bitwise definition.
        let bytes = (0..<67).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for count in 0...bytes.count {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes.prefix(count) {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            #expect(bytes.prefix(count).withUnsafeBytes { CRC32C.checksum($0) } == ~crc, "length \(count)")
        }
    }

    @Test("murmur2 gives the Java client's values (Kafka's UtilsTest vectors)")
    func murmur2() {
        #expect(Murmur2.hash(Array("21".utf8)) == -973_932_308)
        #expect(Murmur2.hash(Array("foobar".utf8)) == -790_332_482)
        #expect(Murmur2.hash(Array("a-little-bit-long-string".utf8)) == -985_981_536)
        #expect(Murmur2.hash(Array("a-little-bit-longer-string".utf8)) == -1_486_304_829)
        #expect(Murmur2.hash(Array("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8".utf8)) == -58_897_971)
        #expect(Murmur2.hash([UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "c")]) == 479_470_107)
    }

    @Test("SCRAM: RFC 7677's SCRAM-SHA-256 exchange, byte for byte; a wrong server signature is refused")
    func scram() throws {
        var client = SCRAM(digestSize: 32, user: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        #expect(String(decoding: try #require(try client.respond(to: nil)), as: UTF8.self) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        let final = try #require(try client.respond(to: Array(serverFirst.utf8)))
        #expect(String(decoding: final, as: UTF8.self)
            == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        var forged = client
        #expect(try client.respond(to: Array("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8)) == nil)
        #expect(throws: SASLError.self) { try forged.respond(to: Array("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8)) }
    }

    @Test("OAUTHBEARER's client message is RFC 7628's GS2 header, auth=Bearer and two ^A")
    func oauthBearer() {
        #expect(OAuthBearer.initialResponse(token: "abc") == Array("n,,\u{01}auth=Bearer abc\u{01}\u{01}".utf8))
    }

    /// AWS's signer, run with fixed credentials and a fixed clock.
    static func referenceToken(region: String, sessionToken: String?, time: String) throws -> String {
        let script = """
            import datetime, sys, botocore.auth, botocore.credentials
            from aws_msk_iam_sasl_signer import MSKAuthTokenProvider
            botocore.auth.get_current_datetime = lambda: datetime.datetime.strptime(sys.argv[3], "%Y%m%dT%H%M%SZ")
            class Fixed(botocore.credentials.CredentialProvider):
                def load(self):
                    return botocore.credentials.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sys.argv[2] or None)
            print(MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(sys.argv[1], Fixed())[0])
            """
        let result = try Command.run("/usr/bin/env", ["python3", "-c", script, region, sessionToken ?? "", time])
        #expect(result.status == 0, "\(result.stderr) (pip install aws-msk-iam-sasl-signer-python==1.0.2)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("the MSK IAM token equals aws-msk-iam-sasl-signer-python's, byte for byte, with and without a session token",
          arguments: [("eu-west-1", "FwoGZXIvYXdzEJr//token+/=", "20261205T093015Z"), ("us-east-1", nil, "20240229T235959Z")])
    func mskToken(region: String, sessionToken: String?, time: String) throws {
        let reference = try Self.referenceToken(region: region, sessionToken: sessionToken, time: time)
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: sessionToken)
        let ours = MSKAuthToken.make(
            region: region, credentials: credentials, date: AMZDate(timestamp: time), userAgent: "aws-msk-iam-sasl-signer-python/1.0.2")
        #expect(!reference.isEmpty)
        #expect(ours == reference)
    }

    @Test("the region of an MSK broker's name")
    func brokerRegion() {
        #expect(MSKAuthToken.region(ofBroker: "b-1.orders.abc123.c2.kafka.eu-west-1.amazonaws.com") == "eu-west-1")
        #expect(MSKAuthToken.region(ofBroker: "127.0.0.1") == nil)
    }

    @Test("KIP-482 tagged fields: varint counts, tags and sizes are skipped; a section past the end is refused")
    func taggedFields() throws {
        // Two fields (tag 0 with 2 bytes, tag 300 with 1 byte), then an int16 that must still read.
        var reader = KafkaReader([2, 0, 2, 0xAA, 0xBB, 0xAC, 0x02, 1, 0xCC, 0x00, 0x2A])
        try reader.skipTaggedFields()
        #expect(try reader.int16() == 42)
        var none = KafkaReader([0, 0x00, 0x07])
        try none.skipTaggedFields()
        #expect(try none.int16() == 7)
        var cut = KafkaReader([1, 0, 5, 0xAA])
        #expect(throws: KafkaDecodingError.self) { try cut.skipTaggedFields() }
        var endless = KafkaReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: KafkaDecodingError.self) { try endless.unsignedVarint() }
    }
}
