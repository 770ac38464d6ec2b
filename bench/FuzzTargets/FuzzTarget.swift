#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One decoder fed by the outside world, as a fuzz target: `run` must return for any input
/// (a thrown, named error is a correct answer); a crash, a failed invariant (`precondition`), a
/// hang or unbounded memory is a finding. `seeds` are real-shaped inputs to start from.
public struct FuzzTarget: Sendable {
    public let name: String
    /// What the target feeds its input to, in a line.
    public let summary: String
    public let seeds: @Sendable () -> [[UInt8]]
    public let run: @Sendable ([UInt8]) -> Void

    public init(name: String, summary: String, seeds: @escaping @Sendable () -> [[UInt8]], run: @escaping @Sendable ([UInt8]) -> Void) {
        self.name = name
        self.summary = summary
        self.seeds = seeds
        self.run = run
    }
}

extension FuzzTarget {
    /// Every target, in the order `bench/fuzz.sh` runs them.
    public static let all: [FuzzTarget] = events + records + gzip + specs + awsResponses

    public static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }

    /// A target that decodes its input as a JSON document of type `T`, then hands what decoded to `check`.
    static func json<T: Decodable>(
        _ name: String, _ type: T.Type, summary: String, seeds: @escaping @Sendable () -> [[UInt8]],
        check: @escaping @Sendable (T) -> Void = { _ in }
    ) -> FuzzTarget {
        FuzzTarget(name: name, summary: summary, seeds: seeds) { input in
            guard let value = try? JSONDecoder().decode(T.self, from: Data(input)) else { return }
            check(value)
        }
    }
}
