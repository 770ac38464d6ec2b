/// CRC-32C (Castagnoli), which record batches carry over everything after their CRC field.
/// Slicing by eight: eight table lookups per eight bytes.
enum CRC32C {
    private static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for n in 0..<256 {
            var crc = UInt32(n)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            tables[0][n] = crc
        }
        for n in 0..<256 {
            for k in 1..<8 { tables[k][n] = (tables[k - 1][n] >> 8) ^ tables[0][Int(tables[k - 1][n] & 0xFF)] }
        }
        return tables
    }()

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        var i = 0
        let count = bytes.count
        tables.withUnsafeBufferPointer { tables in
            let t0 = tables[0], t1 = tables[1], t2 = tables[2], t3 = tables[3]
            let t4 = tables[4], t5 = tables[5], t6 = tables[6], t7 = tables[7]
            while i + 8 <= count {
                let low = crc ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
                crc = t7[Int(low & 0xFF)] ^ t6[Int((low >> 8) & 0xFF)] ^ t5[Int((low >> 16) & 0xFF)] ^ t4[Int(low >> 24)]
                    ^ t3[Int(bytes[i + 4])] ^ t2[Int(bytes[i + 5])] ^ t1[Int(bytes[i + 6])] ^ t0[Int(bytes[i + 7])]
                i += 8
            }
            while i < count {
                crc = t0[Int((crc ^ UInt32(bytes[i])) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        return ~crc
    }
}

/// Kafka's default partitioner for keyed records: `toPositive(murmur2(key)) % partitions`, the
/// same function the Java client and librdkafka's `murmur2_random` use, so keys land alike.
public enum Murmur2 {
    public static func hash(_ key: some Collection<UInt8>) -> Int32 {
        let m: UInt32 = 0x5BD1_E995
        let bytes = Array(key)
        var h: UInt32 = 0x9747_B28C ^ UInt32(truncatingIfNeeded: bytes.count)
        var i = 0
        while i + 4 <= bytes.count {
            var k = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            k &*= m
            k ^= k >> 24
            k &*= m
            h &*= m
            h ^= k
            i += 4
        }
        let tail = bytes.count & 3
        if tail == 3 { h ^= UInt32(bytes[i + 2]) << 16 }
        if tail >= 2 { h ^= UInt32(bytes[i + 1]) << 8 }
        if tail >= 1 {
            h ^= UInt32(bytes[i])
            h &*= m
        }
        h ^= h >> 13
        h &*= m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    public static func partition(forKey key: some Collection<UInt8>, partitions: Int) -> Int {
        Int(hash(key) & 0x7FFF_FFFF) % partitions
    }
}
