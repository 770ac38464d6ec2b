import CLibCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// SHA-256 and HMAC-SHA256 from the libcrypto the bootstraps already link for TLS.
public enum Hashing {
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            _ = sortie_sha256(bytes.baseAddress, bytes.count, out.baseAddress)
            count = 32
        }
    }

    public static func sha256(_ data: Data) -> [UInt8] {
        data.withUnsafeBytes { sha256($0) }
    }

    public static func sha256(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { sha256(UnsafeRawBufferPointer($0)) }
    }

    /// For file names only (the SSO token cache's), never for security.
    public static func sha1(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { bytes in
            [UInt8](unsafeUninitializedCapacity: 20) { out, count in
                _ = sortie_sha1(bytes.baseAddress, bytes.count, out.baseAddress)
                count = 20
            }
        }
    }

    public static func hmacSHA256(key: [UInt8], _ data: UnsafeRawBufferPointer) -> [UInt8] {
        key.withUnsafeBytes { key in
            [UInt8](unsafeUninitializedCapacity: 32) { out, count in
                _ = sortie_hmac_sha256(key.baseAddress, key.count, data.baseAddress, data.count, out.baseAddress)
                count = 32
            }
        }
    }

    public static func hmacSHA256(key: [UInt8], _ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { hmacSHA256(key: key, UnsafeRawBufferPointer($0)) }
    }

    /// Lower-case hex, as SigV4 writes every hash.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            digits.withUTF8Buffer { digits in
                for (i, byte) in bytes.enumerated() {
                    out[2 * i] = digits[Int(byte >> 4)]
                    out[2 * i + 1] = digits[Int(byte & 0x0f)]
                }
            }
            return bytes.count * 2
        }
    }

    /// The hash of an empty payload, which every body-less request signs.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}
