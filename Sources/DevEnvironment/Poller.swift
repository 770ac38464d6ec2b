import Logging
import Synchronization

/// How the agents watch moto: `poll` every `interval` until `stop()`, a failed poll logged and
/// the next one tried.
final class Poller: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)

    func start(every interval: Duration, logger: Logger, label: String, _ poll: @escaping @Sendable () async throws -> Void) {
        let running = Task {
            while !Task.isCancelled {
                do {
                    try await poll()
                } catch {
                    logger.warning("\(label): \(error)")
                }
                try? await Task.sleep(for: interval)
            }
        }
        task.withLock { $0 = running }
    }

    func stop() {
        task.withLock { $0?.cancel() }
    }
}
