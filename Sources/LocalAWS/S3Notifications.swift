import Foundation

/// The S3 event notifications moto does not send: what S3 delivers to a bucket trigger's function.
public enum S3Notifications {
    /// One `ObjectCreated:Put` record, the key encoded as S3 encodes it (`+` for spaces, `%XX` for the rest).
    public static func objectCreated(bucket: String, key: String, eTag: String, size: Int, sequencer: String) -> Data {
        let encoded = key.utf8.map { byte -> String in
            let character = Character(Unicode.Scalar(byte))
            if byte == UInt8(ascii: " ") { return "+" }
            if byte < 0x80, character.isLetter || character.isNumber || "-_./*".contains(character) { return String(character) }
            return String(format: "%%%02X", byte)
        }.joined()
        let object: [String: Any] = ["key": encoded, "size": size, "eTag": eTag, "sequencer": sequencer]
        let record: [String: Any] = [
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": MotoServer.region,
            "eventTime": ISO8601DateFormatter.withFractionalSeconds.string(from: Date()),
            "eventName": "ObjectCreated:Put", "userIdentity": ["principalId": "AWS:AIDASORTIEDEV"],
            "s3": ["s3SchemaVersion": "1.0", "configurationId": "sortie", "bucket": ["name": bucket, "arn": "arn:aws:s3:::\(bucket)"], "object": object],
        ]
        return (try? JSONSerialization.data(withJSONObject: ["Records": [record]])) ?? Data()
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
