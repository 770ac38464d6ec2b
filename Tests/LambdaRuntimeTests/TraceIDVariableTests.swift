#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
@testable import LambdaRuntime
import Testing

@Suite("_X_AMZN_TRACE_ID for the invocation running")
struct TraceIDVariableTests {
    @Test("each invocation's trace id is in the environment while it runs and gone after, always in the same buffer: no copy per invocation for the allocator to keep (setenv's grew the process 2.7 MB in 20,000)")
    func oneBuffer() {
        TraceIDVariable.set("Root=1-00000000-000000000000000000000000")
        let entry = getenv(TraceIDVariable.name)
        TraceIDVariable.clear()
        #expect(entry != nil)
        for index in 0..<5_000 {
            let trace = "Root=1-6756e3a1-\(String(index, radix: 16));Parent=53995c3f42cd8ad8;Sampled=1"
            TraceIDVariable.set(trace)
            let now = getenv(TraceIDVariable.name)
            guard now == entry, let now, String(cString: now) == trace else {
                Issue.record("invocation \(index): the environment holds \(now.map { String(cString: $0) } ?? "nothing") at \(String(describing: now)), not \(trace) at \(String(describing: entry))")
                return
            }
            TraceIDVariable.clear()
            #expect(getenv(TraceIDVariable.name) == nil)
        }
        // A longer id than the buffer holds gets a bigger one, once.
        let long = "Root=1-6756e3a1-" + String(repeating: "a", count: 400)
        TraceIDVariable.set(long)
        #expect(getenv(TraceIDVariable.name).map { String(cString: $0) } == long)
        TraceIDVariable.clear()
    }
}
