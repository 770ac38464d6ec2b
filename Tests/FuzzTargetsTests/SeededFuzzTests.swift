@testable import FuzzTargets
import Testing

/// Every fuzz target on its seeds and a fixed number of seeded mutations, so a decoder that
/// regresses on hostile input fails here, not only under bench/fuzz.sh.
@Suite("fuzz targets, seeded")
struct SeededFuzzTests {
    @Test("every target has seeds, and its seeds are not findings", arguments: FuzzTarget.all.map(\.name))
    func seeds(name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let seeds = target.seeds()
        #expect(!seeds.isEmpty, "\(name) has no seed inputs")
        for seed in seeds { target.run(seed) }
    }

    @Test("500 seeded mutations of each target's seeds (bench/fuzz.sh runs libFuzzer far longer)", arguments: FuzzTarget.all.map(\.name))
    func mutations(name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        var mutator = SeededMutator(seed: 20261205, seeds: target.seeds())
        for _ in 0..<500 { target.run(mutator.input()) }
    }

    @Test("the mutator is deterministic and changes its seeds")
    func mutator() {
        var first = SeededMutator(seed: 7, seeds: [Array("{\"a\": 1}".utf8)])
        var second = SeededMutator(seed: 7, seeds: [Array("{\"a\": 1}".utf8)])
        let a = (0..<50).map { _ in first.input() }
        #expect(a == (0..<50).map { _ in second.input() })
        #expect(a.contains { $0 != Array("{\"a\": 1}".utf8) })
    }
}

/// The record-validation target's oracle: RFC 8259 for an object of scalars, `0e3` included.
@Suite struct FlatJSONObjectTests {
    @Test("valid objects of scalars are accepted", arguments: [
        "{}", " { } ", #"{"a":0e3,"b":-1.5E+2,"c":"x\u00e9\n","d":true,"e":false,"f":null}"#, #"{"é":"ünï","n":0,"m":-0.0}"#,
    ])
    func accepts(_ text: String) {
        #expect(FlatJSONObject.accepts(Array(text.utf8)))
    }

    @Test("anything else is refused", arguments: [
        "", "[]", #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":1e}"#, #"{"a":[1]}"#, #"{"a":{}}"#, "{\"a\":\"\u{01}\"}",
        #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":1,}"#, #"{"a" 1}"#, #"{"a":1}x"#, #"{a:1}"#, #"{"a":tru}"#, #"{"a":"open}"#,
    ])
    func refuses(_ text: String) {
        #expect(!FlatJSONObject.accepts(Array(text.utf8)))
    }

    @Test func refusesInvalidUTF8() {
        #expect(!FlatJSONObject.accepts(Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)))
    }
}
