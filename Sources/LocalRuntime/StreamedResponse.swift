import Foundation
import LoopbackHTTP

extension RuntimeAPIRoutes {
    /// A `POST …/invocation/{id}/response` with `Lambda-Runtime-Function-Response-Mode: streaming`
    /// is taken as it arrives; every other request is buffered for `respond(to:)`.
    func streamingRoute(_ request: LoopbackRequest) async -> (any LoopbackBodyReceiver)? {
        let parts = request.path.split(separator: "/").map(String.init)
        guard request.method == "POST", parts.count == 5, parts[0] == "2018-06-01", parts[1] == "runtime",
              parts[2] == "invocation", parts[4] == "response",
              request.header("Lambda-Runtime-Function-Response-Mode")?.lowercased() == "streaming" else { return nil }
        let requestID = parts[3]
        let invocationID = request.header(Self.invocationIDHeader)
        // Bytes of an answer that will be refused go nowhere.
        let accepted = await queue.check(requestID, invocationID: invocationID) == .accepted
        return StreamedResponse(
            routes: self, requestID: requestID, invocationID: invocationID,
            destination: accepted ? await queue.streamedBytesDestination(requestID) : nil, delivers: accepted)
    }
}

/// One streamed response: its bytes go to the invocation's `streamedBytes` as they arrive (or are
/// collected), and its end, with an error in the trailers or not, completes the invocation.
actor StreamedResponse: LoopbackBodyReceiver {
    private let routes: RuntimeAPIRoutes
    private let requestID: String
    private let invocationID: String?
    private let destination: (@Sendable (Data) async -> Void)?
    private let delivers: Bool
    private var collected = Data()
    private var byteCount = 0

    init(routes: RuntimeAPIRoutes, requestID: String, invocationID: String?,
         destination: (@Sendable (Data) async -> Void)?, delivers: Bool) {
        self.routes = routes
        self.requestID = requestID
        self.invocationID = invocationID
        self.destination = destination
        self.delivers = delivers
    }

    func receive(_ chunk: [UInt8]) async {
        byteCount += chunk.count
        guard delivers, byteCount <= RuntimeAPIRoutes.maximumStreamedBytes else { return }
        if let destination {
            await destination(Data(chunk))
        } else {
            collected.append(contentsOf: chunk)
        }
    }

    func end(trailers: [(name: String, value: String)]) async -> LoopbackResponse {
        if byteCount > RuntimeAPIRoutes.maximumStreamedBytes {
            // As for a buffered response: the invocation stays open for the function's error report.
            return RuntimeAPIRoutes.json(413, [
                "errorType": "RequestEntityTooLarge",
                "errorMessage": "Exceeded maximum allowed streamed payload size (\(RuntimeAPIRoutes.maximumStreamedBytes) bytes).",
            ])
        }
        func trailer(_ name: String) -> String? {
            trailers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
        let outcome: InvocationOutcome
        if let errorType = trailer("Lambda-Runtime-Function-Error-Type") {
            let encoded = trailer("Lambda-Runtime-Function-Error-Body") ?? ""
            outcome = .functionError(requestID: requestID, errorType: errorType,
                                     body: Data(base64Encoded: encoded) ?? Data(encoded.utf8))
        } else {
            outcome = .response(requestID: requestID, body: collected)
        }
        return routes.answer(requestID, await routes.queue.complete(requestID, invocationID: invocationID, with: outcome))
    }
}
