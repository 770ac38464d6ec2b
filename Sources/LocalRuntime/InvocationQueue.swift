import Foundation

/// The emulator's state: events waiting for a `next`, invocations in flight, and how the
/// function ended if it did. Every outcome is delivered exactly once.
actor InvocationQueue {
    struct Pending: Sendable {
        let requestID: String
        /// The nonce `next` sends as `Lambda-Runtime-Invocation-Id`; `nil` when the emulator sends none.
        let invocationID: String?
        let request: InvocationRequest
        let deadlineMilliseconds: Int64
    }

    /// Whether an answer may complete an invocation, and if not, why.
    enum Completion: Equatable {
        case accepted, unknownRequest, alreadyCompleted
        /// The invocation timed out before the answer came.
        case timedOut
        /// The answer's `Lambda-Runtime-Invocation-Id` is not the one `next` sent (or is there when none was).
        case wrongInvocationID(expected: String?, got: String?)
    }

    /// Whether `next` sends an invocation id with each event.
    let sendsInvocationIDs: Bool

    init(sendsInvocationIDs: Bool = true) {
        self.sendsInvocationIDs = sendsInvocationIDs
    }

    private var queued: [Pending] = []
    private var waiters: [(id: UUID, continuation: CheckedContinuation<Pending?, Never>)] = []
    private var outcomes: [String: CheckedContinuation<InvocationOutcome, Never>] = [:]
    private var pendingRequests: [String: InvocationRequest] = [:]
    private var completed: Set<String> = []
    private var timedOut: Set<String> = []
    /// The invocation id each handed-out invocation was sent with, until it completes.
    private var invocationIDs: [String: String?] = [:]
    private var ended: InvocationOutcome?
    private var closed = false
    private(set) var firstNextAt: ContinuousClock.Instant?

    /// Queues an event and waits for its outcome, bounded by the request's timeout.
    func submit(_ request: InvocationRequest) async -> InvocationOutcome {
        let requestID = UUID().uuidString.lowercased()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let timeout = request.timeout.components
        let pending = Pending(
            requestID: requestID, invocationID: sendsInvocationIDs ? UUID().uuidString.lowercased() : nil, request: request,
            deadlineMilliseconds: now + timeout.seconds * 1000 + timeout.attoseconds / 1_000_000_000_000_000)
        let expiry = Task { [weak self] in
            try await Task.sleep(for: request.timeout)
            await self?.expire(requestID)
        }
        defer { expiry.cancel() }
        return await withCheckedContinuation { continuation in
            if let ended {
                continuation.resume(returning: ended)
                return
            }
            outcomes[requestID] = continuation
            pendingRequests[requestID] = request
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
        let pending: Pending?
        if !queued.isEmpty {
            pending = queued.removeFirst()
        } else {
            let id = UUID()
            pending = await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    waiters.append((id: id, continuation: continuation))
                }
            } onCancel: {
                Task { await self.cancelWaiter(id) }
            }
        }
        if let pending {
            invocationIDs[pending.requestID] = .some(pending.invocationID)
            if pending.request.expiresOnHandover { expire(pending.requestID) }
        }
        return pending
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

    /// Whether an answer naming `requestID` and carrying `invocationID` would be taken now.
    func check(_ requestID: String, invocationID: String?) -> Completion {
        if timedOut.contains(requestID) { return .timedOut }
        if completed.contains(requestID) { return .alreadyCompleted }
        guard outcomes[requestID] != nil, let sent = invocationIDs[requestID] else { return .unknownRequest }
        guard sent == invocationID else { return .wrongInvocationID(expected: sent, got: invocationID) }
        return .accepted
    }

    func complete(_ requestID: String, invocationID: String?, with outcome: InvocationOutcome) -> Completion {
        let verdict = check(requestID, invocationID: invocationID)
        if verdict == .accepted { finish(requestID, with: outcome) }
        return verdict
    }

    /// Where a streamed response's bytes go, while the invocation is in flight.
    func streamedBytesDestination(_ requestID: String) -> (@Sendable (Data) async -> Void)? {
        pendingRequests[requestID]?.streamedBytes
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

    private func expire(_ requestID: String) {
        guard outcomes[requestID] != nil else { return }
        timedOut.insert(requestID)
        finish(requestID, with: .timedOut(requestID: requestID))
    }

    private func finish(_ requestID: String, with outcome: InvocationOutcome) {
        guard let continuation = outcomes.removeValue(forKey: requestID) else { return }
        completed.insert(requestID)
        invocationIDs[requestID] = nil
        pendingRequests[requestID] = nil
        queued.removeAll { $0.requestID == requestID }
        continuation.resume(returning: outcome)
    }
}
