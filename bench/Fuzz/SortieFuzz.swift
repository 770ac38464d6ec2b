import FuzzTargets
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

#if FUZZING
// libFuzzer's driver, called with our own main (SwiftPM gives an executable its entry point).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The target libFuzzer drives, chosen once from SORTIE_FUZZ_TARGET.
nonisolated(unsafe) var selected: FuzzTarget?
#endif

/// `sortie-fuzz list` | `sortie-fuzz seeds TARGET DIR` | `sortie-fuzz seeded TARGET RUNS [SEED]`; built with
/// `-DFUZZING -sanitize=fuzzer` (bench/fuzz.sh), `SORTIE_FUZZ_TARGET=T sortie-fuzz [libFuzzer flags] [corpus]`.
@main
struct SortieFuzz {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "list":
            for target in FuzzTarget.all { print("\(target.name)\t\(target.summary)") }
        case "seeds" where arguments.count == 3:
            guard let target = FuzzTarget.named(arguments[1]) else { fail("unknown target '\(arguments[1])'") }
            for (index, seed) in target.seeds().enumerated() { write(seed, to: "\(arguments[2])/seed-\(index)") }
        case "seeded" where arguments.count >= 3:
            guard let target = FuzzTarget.named(arguments[1]) else { fail("unknown target '\(arguments[1])'") }
            guard let runs = Int(arguments[2]), runs > 0 else { fail("RUNS must be a positive number") }
            var mutator = SeededMutator(seed: arguments.count > 3 ? UInt64(arguments[3]) ?? 1 : 1, seeds: target.seeds())
            for _ in 0..<runs { target.run(mutator.input()) }
            print("\(target.name): \(runs) seeded inputs, no finding")
        default:
            #if FUZZING
            guard let name = getenv("SORTIE_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget.named(name) else {
                fail("set SORTIE_FUZZ_TARGET to one of: \(FuzzTarget.all.map(\.name).joined(separator: " "))")
            }
            selected = target
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                selected?.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
                return 0
            })
            #else
            fail("usage: sortie-fuzz list | seeds TARGET DIR | seeded TARGET RUNS [SEED] (libFuzzer: bench/fuzz.sh)")
            #endif
        }
    }

    static func fail(_ message: String) -> Never {
        // fd 2 directly: glibc's `stderr` is a global var Swift 6 will not read from here.
        let line = Array("sortie-fuzz: \(message)\n".utf8)
        _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
        exit(64)
    }

    static func write(_ bytes: [UInt8], to path: String) {
        guard let file = fopen(path, "wb") else { fail("cannot write \(path)") }
        defer { fclose(file) }
        guard fwrite(bytes, 1, bytes.count, file) == bytes.count else { fail("cannot write \(path)") }
    }
}
