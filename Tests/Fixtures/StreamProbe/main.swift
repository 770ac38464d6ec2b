import LambdaRuntime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A test function that streams its response: `bytes` bytes of a known pattern (byte i is
/// i mod 251) in writes of `chunk` bytes, failing after `failAfter` bytes, or before the first
/// write with `failBefore`, and pausing `pauseMilliseconds` between writes.
struct StreamProbe: StreamingHandler {
    struct Event: Decodable {
        var bytes: Int
        var chunk: Int?
        var failAfter: Int?
        var failBefore: Bool?
        var pauseMilliseconds: Int?
    }

    struct StreamFailure: LambdaFunctionError, CustomStringConvertible {
        let errorType = "StreamProbeFailure"
        let description: String
    }

    var contentType: String { "application/x-stream-probe" }

    func handle(_ payload: Data, response: ResponseStream, context: LambdaContext) throws {
        let event = try JSONDecoder().decode(Event.self, from: payload)
        if event.failBefore == true { throw StreamFailure(description: "asked to fail before streaming") }
        let chunkSize = max(1, event.chunk ?? 65_536)
        // One reusable buffer: what the function holds is one chunk, whatever the total.
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var sent = 0
        while sent < event.bytes {
            if let limit = event.failAfter, sent >= limit {
                throw StreamFailure(description: "asked to fail after \(limit) bytes")
            }
            let count = min(chunkSize, event.bytes - sent, (event.failAfter ?? .max) - sent)
            for index in 0..<count { buffer[index] = UInt8((sent + index) % 251) }
            try buffer.withUnsafeBytes { try response.write(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
            sent += count
            if let pause = event.pauseMilliseconds { usleep(UInt32(pause) * 1000) }
        }
        if let limit = event.failAfter, sent >= limit {
            throw StreamFailure(description: "asked to fail after \(limit) bytes")
        }
    }
}

Lambda.run(name: "stream-probe") { _ in StreamProbe() }
