import CZlib

/// A PNG's pixels (8-bit RGB or RGBA, not interlaced: what chromium's screenshots are), to see
/// what a person would see: which colours, and how much of the picture is not background.
struct PNGPixels {
    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    var width: Int
    var height: Int
    /// RGB triples, row by row.
    var rgb: [UInt8]

    init(_ bytes: [UInt8]) throws {
        guard bytes.count > 33, bytes.prefix(8).elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw Unreadable(description: "not a PNG") }
        func number(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        var position = 8
        var header: ArraySlice<UInt8> = []
        var compressed: [UInt8] = []
        while position + 8 <= bytes.count {
            let length = number(position)
            let type = String(decoding: bytes[position + 4..<position + 8], as: UTF8.self)
            guard position + 12 + length <= bytes.count else { throw Unreadable(description: "chunk \(type) runs past the end") }
            let body = bytes[position + 8..<position + 8 + length]
            if type == "IHDR" { header = body }
            if type == "IDAT" { compressed += body }
            position += 12 + length
        }
        guard header.count == 13 else { throw Unreadable(description: "no IHDR") }
        let base = header.startIndex
        width = bytes[base..<base + 4].reduce(0) { $0 << 8 | Int($1) }
        height = bytes[base + 4..<base + 8].reduce(0) { $0 << 8 | Int($1) }
        let (depth, colour, interlace) = (header[base + 8], header[base + 9], header[base + 12])
        guard depth == 8, colour == 2 || colour == 6, interlace == 0 else { throw Unreadable(description: "depth \(depth), colour type \(colour), interlace \(interlace)") }
        let channels = colour == 6 ? 4 : 3
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var size = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { input in uncompress(out.baseAddress, &size, input.baseAddress, uLong(input.count)) }
        }
        guard status == Z_OK, Int(size) == raw.count else { throw Unreadable(description: "inflate: \(status), \(size) of \(raw.count) bytes") }
        // Undo each scanline's filter (PNG specification §9) against the row above.
        var pixels = [UInt8](repeating: 0, count: height * stride)
        for row in 0..<height {
            let filter = raw[row * (stride + 1)]
            for column in 0..<stride {
                let x = raw[row * (stride + 1) + 1 + column]
                let a = column >= channels ? Int(pixels[row * stride + column - channels]) : 0
                let b = row > 0 ? Int(pixels[(row - 1) * stride + column]) : 0
                let c = row > 0 && column >= channels ? Int(pixels[(row - 1) * stride + column - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw Unreadable(description: "filter \(filter) in row \(row)")
                }
                pixels[row * stride + column] = UInt8((Int(x) + predicted) & 0xff)
            }
        }
        rgb = channels == 3 ? pixels : (0..<width * height).flatMap { pixels[$0 * 4..<$0 * 4 + 3] }
    }

    /// How many pixels are exactly this colour (`0xRRGGBB`).
    func count(_ colour: Int) -> Int {
        let (r, g, b) = (UInt8(colour >> 16 & 0xff), UInt8(colour >> 8 & 0xff), UInt8(colour & 0xff))
        return stride(from: 0, to: rgb.count, by: 3).filter { rgb[$0] == r && rgb[$0 + 1] == g && rgb[$0 + 2] == b }.count
    }
}
