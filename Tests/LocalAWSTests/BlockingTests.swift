import Foundation
import LocalAWS
import Synchronization
import Testing

@Suite("blocking work off the cooperative pool")
struct BlockingTests {
    private final class Arrivals: Sendable {
        let count = Atomic(0)
    }

    @Test("blocking work runs on threads of its own: more of it waits at once than the pool has threads")
    func blockingRunsOffThePool() async throws {
        // On the cooperative pool at most `activeProcessorCount` bodies could wait at once, and the barrier would time out.
        let width = ProcessInfo.processInfo.activeProcessorCount + 2
        let arrived = Arrivals()
        let met = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<width {
                group.addTask {
                    try await blocking {
                        arrived.count.add(1, ordering: .sequentiallyConsistent)
                        let deadline = Date().addingTimeInterval(10)
                        while arrived.count.load(ordering: .sequentiallyConsistent) < width && Date() < deadline { usleep(1_000) }
                        return arrived.count.load(ordering: .sequentiallyConsistent) >= width
                    }
                }
            }
            return try await group.reduce(true) { $0 && $1 }
        }
        #expect(met)
    }

    @Test("blocking passes the body's error on")
    func blockingRethrows() async {
        struct Refused: Error, Equatable {}
        await #expect(throws: Refused()) { try await blocking { () throws -> Int in throw Refused() } }
    }
}
