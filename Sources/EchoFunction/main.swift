import LambdaRuntime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The example function: answers every payload with the same bytes, with two commands
/// for exercising a runtime from outside: `{"fail": true}` and `{"big": N}`.
struct EchoHandler: ByteHandler {
    struct Command: Decodable {
        var fail: Bool?
        var big: Int?
    }

    struct EchoError: LambdaFunctionError, CustomStringConvertible {
        /// The name callers have always seen.
        let errorType = "EchoFailure"
        let description = "echo was asked to fail"
    }

    func handle(_ payload: Data, context: LambdaContext) throws -> Data {
        // Commands are tiny JSON objects; anything larger is echoed without being parsed.
        guard payload.count <= 64, payload.first == UInt8(ascii: "{"),
              let command = try? JSONDecoder().decode(Command.self, from: payload) else {
            return payload
        }
        if command.fail == true {
            throw EchoError()
        }
        if let size = command.big, size >= 0 {
            return Data(repeating: UInt8(ascii: "x"), count: size)
        }
        return payload
    }
}

Lambda.run(name: "echo") { _ in EchoHandler() }
