import RecordFormats

/// Gzip input: any bytes are output or a GzipError, and every entry the inflater names (member
/// starts, access points) reproduces the same output when inflating starts there.
extension FuzzTarget {
    static let gzip: [FuzzTarget] = [
        FuzzTarget(name: "gzip", summary: "gzip members and access points: inflating from any entry reproduces the output",
                   seeds: { gzipSeeds }) { input in
            guard let (output, entries) = inflate(input, from: .fileStart, recordEvery: 4096) else { return }
            for entry in entries {
                let start = Int(entry.compressedOffset)
                guard let (again, _) = inflate(Array(input[start...]), from: entry, recordEvery: nil) else {
                    preconditionFailure("inflating from \(entry) failed where the whole input inflated")
                }
                let expected = output[Int(entry.decompressedOffset)...]
                precondition(again.elementsEqual(expected), "inflating from \(entry) gave other bytes")
            }
        },
    ]

    /// The output from `start` on (nil if the input is not gzip, or inflates past 4 MiB) and the distinct entries of its pieces.
    private static func inflate(_ input: [UInt8], from start: GzipEntry, recordEvery spacing: Int64?) -> ([UInt8], [GzipEntry])? {
        let limit = 4 << 20
        var output: [UInt8] = []
        var entries: [GzipEntry] = []
        do {
            var inflater = try GzipInflater(start: start, accessPointSpacing: spacing, outputBufferSize: 1024)
            let whole = try input.withUnsafeBytes { bytes in
                try inflater.inflate(bytes) { piece in
                    let entry = try piece.entry()
                    if spacing != nil, entries.last != entry { entries.append(entry) }
                    output += piece.bytes
                    return output.count <= limit
                }
            }
            guard whole else { return nil }
            try inflater.finish()
        } catch is GzipError {
            return nil
        } catch {
            preconditionFailure("inflating threw \(error), not a GzipError")
        }
        return (output, entries)
    }

    private static var gzipSeeds: [[UInt8]] {
        let text = (0..<2000).map { "line \($0),\"quoted, text\",\($0 * 7919 % 104729)\n" }.joined()
        let one = (try? Gzip.compress(Array(text.utf8), level: 6)) ?? []
        let two = ((try? Gzip.compress(Array("first member\n".utf8), level: 1)) ?? []) + ((try? Gzip.compress(Array(text.utf8), level: 9)) ?? [])
        return [one, two, Array(one.prefix(40))]
    }
}
