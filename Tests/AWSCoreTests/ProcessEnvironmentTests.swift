@testable import AWSCore
import Foundation
import Testing

/// Read without changing the process's environment: other suites run beside this one.
@Suite("The process's environment, read as bytes")
struct ProcessEnvironmentTests {
    @Test("the same variables ProcessInfo reads")
    func sameAsProcessInfo() {
        #expect(AWSEnvironment.process.variables == ProcessInfo.processInfo.environment)
    }

    @Test("a value holding '=' and non-ASCII bytes whole; an entry without '=' skipped; the first of a repeated name wins, as getenv; empty reads as unset")
    func entries() {
        let texts = ["EQUALS=a=b==c", "TEXT=Zoë 🚀", "NOEQUALS", "TWICE=first", "TWICE=second", "EMPTY="]
        let pointers = texts.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        var entries = pointers
        let variables = entries.withUnsafeMutableBufferPointer { AWSEnvironment.variables($0.baseAddress!) }
        #expect(variables == ["EQUALS": "a=b==c", "TEXT": "Zoë 🚀", "TWICE": "first", "EMPTY": ""])
        #expect(AWSEnvironment(variables)["EMPTY"] == nil)
    }
}
