import Foundation

/// The emulator's state: events waiting for a `next`, invocations in flight, and how the
/// function ended if it did. Every outcome is delivered exactly once.
actor InvocationQueue {
    struct Pending: Sendable {
        let requestID: String
        let request: InvocationRequest
        let deadlineMilliseconds: Int64
    }

    enum Completion: Equatable {
        case accepted, unknownRequest, alreadyCompleted
    }

    private var queued: [Pending] = []
    private var waiters: [(id: UUID, continuation: CheckedContinuation<Pending?, Never>)] = []
    private var outcomes: [String: CheckedContinuation<InvocationOutcome, Never>] = [:]
    private var completed: Set<String> = []
    private var ended: InvocationOutcome?
    private var closed = false
    private(set) var firstNextAt: ContinuousClock.Instant?

    /// Queues an event and waits for its outcome, bounded by the request's timeout.
    func submit(_ request: InvocationRequest) async -> InvocationOutcome {
        let requestID = UUID().uuidString.lowercased()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let timeout = request.timeout.components
        let pending = Pending(
            requestID: requestID, request: request,
            deadlineMilliseconds: now + timeout.seconds * 1000 + timeout.attoseconds / 1_000_000_000_000_000)
        let expiry = Task { [weak self] in
            try await Task.sleep(for: request.timeout)
            await self?.finish(requestID, with: .timedOut(requestID: requestID))
        }
        defer { expiry.cancel() }
        return await withCheckedContinuation { continuation in
            if let ended {
                continuation.resume(returning: ended)
                return
            }
            outcomes[requestID] = continuation
            if waiters.isEmpty {
                queued.append(pending)
            } else {
                waiters.removeFirst().continuation.resume(returning: pending)
            }
        }
    }

    /// What `GET /invocation/next` waits on; `nil` once the function has ended or the caller gave up.
    func next() async -> Pending? {
        if firstNextAt == nil { firstNextAt = .now }
        if ended != nil || closed { return nil }
        if !queued.isEmpty { return queued.removeFirst() }
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiters.append((id: id, continuation: continuation))
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: UUID) {
        if let index = waiters.firstIndex(where: { $0.id == id }) {
            waiters.remove(at: index).continuation.resume(returning: nil)
        }
    }

    /// Stops handing out events: every waiting and later `next` is refused.
    func close() {
        closed = true
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
        waiters.removeAll()
    }

    func complete(_ requestID: String, with outcome: InvocationOutcome) -> Completion {
        if completed.contains(requestID) { return .alreadyCompleted }
        guard outcomes[requestID] != nil else { return .unknownRequest }
        finish(requestID, with: outcome)
        return .accepted
    }

    func isInFlight(_ requestID: String) -> Bool {
        outcomes[requestID] != nil
    }

    /// The function reported an init error or exited: everything queued or in flight ends with it.
    func end(with outcome: InvocationOutcome) {
        if case .initError = ended { return }  // keep the more telling reason when the process then exits
        ended = outcome
        queued.removeAll()
        for (requestID, _) in outcomes { finish(requestID, with: outcome) }
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
        waiters.removeAll()
    }

    private func finish(_ requestID: String, with outcome: InvocationOutcome) {
        guard let continuation = outcomes.removeValue(forKey: requestID) else { return }
        completed.insert(requestID)
        queued.removeAll { $0.requestID == requestID }
        continuation.resume(returning: outcome)
    }
}
