#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CurlHTTP
import Logging

/// What a function answers with: a whole body, or a stream.
enum FunctionHandler: Sendable {
    case buffered(any ByteHandler)
    case streaming(any StreamingHandler)
}

/// next → handler → response or error, forever. An invocation's failure, or the Runtime API's
/// refusal of its answer (410 once it timed out, another 4xx), is that invocation's end;
/// only a Runtime API failure ends the loop.
struct InvocationLoop<API: RuntimeAPI> {
    let api: API
    let handler: FunctionHandler
    let function: FunctionInfo
    let logger: Logger
    /// `_X_AMZN_TRACE_ID` is process-wide, so it is only set when one invocation runs at a time.
    let exportsTraceID: Bool

    /// `afterFirst` runs once the first invocation has been answered (the first loop lets go of
    /// start-up's code pages then: off the init Lambda bills, and before the loop's steady state).
    func run(afterFirst: () -> Void = {}) throws(RuntimeAPIError) -> Never {
        try serveNext()
        afterFirst()
        while true { try serveNext() }
    }

    /// One turn of the loop: one invocation taken and answered.
    func serveNext() throws(RuntimeAPIError) {
        let invocation = try api.next()
        let context = makeContext(invocation.headers)
        // TaskLocal.withValue rethrows untyped errors; carry ours out as a value.
        let failure: RuntimeAPIError? = LambdaContext.$current.withValue(context) {
            do throws(RuntimeAPIError) { try serve(invocation.payload, context) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    private func serve(_ payload: Data, _ context: LambdaContext) throws(RuntimeAPIError) {
        if exportsTraceID, let trace = context.traceID { TraceIDVariable.set(trace) }
        defer { if exportsTraceID { TraceIDVariable.clear() } }
        switch handler {
        case .buffered(let handler): try answer(payload, handler, context)
        case .streaming(let handler): try stream(payload, handler, context)
        }
    }

    private func answer(_ payload: Data, _ handler: any ByteHandler, _ context: LambdaContext) throws(RuntimeAPIError) {
        let output: Data
        do {
            output = try handler.handle(payload, context: context)
        } catch {
            try reportFailure(error, context)
            return
        }
        try settle(api.respond(to: context.address, with: output), "response of \(output.count) bytes", context)
    }

    private func stream(_ payload: Data, _ handler: any StreamingHandler, _ context: LambdaContext) throws(RuntimeAPIError) {
        let connection = api.openStream(to: context.address, contentType: handler.contentType)
        var failure: ErrorReport?
        do {
            try handler.handle(payload, response: ResponseStream(connection: connection), context: context)
        } catch is ResponseStreamError {
            // The Runtime API stopped taking the stream; `finish` says why.
        } catch {
            guard connection.hasStarted else {
                try reportFailure(error, context)
                return
            }
            let report = ErrorReport(error)
            context.logger.error("invocation failed after its response began streaming: \(report.errorType): \(report.errorMessage)")
            failure = report
        }
        try settle(connection.finish(failure: failure), "streamed response", context)
    }

    private func reportFailure(_ error: any Error, _ context: LambdaContext) throws(RuntimeAPIError) {
        let report = ErrorReport(error)
        context.logger.error("invocation failed: \(report.errorType): \(report.errorMessage)")
        try settle(api.reportError(for: context.address, report), "error report", context)
    }

    /// Acts on how the Runtime API took an answer: a 413'd body becomes an error report; a refusal is logged.
    private func settle(_ status: AnswerStatus, _ what: String, _ context: LambdaContext) throws(RuntimeAPIError) {
        switch status {
        case .accepted:
            return
        case .tooLarge(let refusal):
            let report = ErrorReport(
                errorMessage: "\(what) refused by the Runtime API as too large: \(refusal)",
                errorType: "Function.ResponseSizeTooLarge")
            context.logger.error("\(report.errorMessage)")
            try settle(api.reportError(for: context.address, report), "error report", context)
        case .refused(let status, let detail):
            let oneLine = detail.split(whereSeparator: \.isNewline).joined(separator: " ")
            context.logger.warning(
                "the Runtime API refused the \(what) of request \(context.requestID) (invocation id \(context.invocationID ?? "none")) with HTTP \(status): \(oneLine); serving the next invocation")
        }
    }

    private func makeContext(_ headers: HTTPHeaders) -> LambdaContext {
        LambdaContext(
            requestID: headers["Lambda-Runtime-Aws-Request-Id"] ?? "",
            invocationID: headers[RuntimeAPIClient.invocationIDHeader].flatMap { $0.isEmpty ? nil : $0 },
            deadlineMilliseconds: headers["Lambda-Runtime-Deadline-Ms"].flatMap { Int64($0) } ?? 0,
            invokedFunctionARN: headers["Lambda-Runtime-Invoked-Function-Arn"] ?? "",
            traceID: headers["Lambda-Runtime-Trace-Id"],
            tenantID: headers["Lambda-Runtime-Aws-Tenant-Id"],
            clientContext: decodeHeader(headers["Lambda-Runtime-Client-Context"], "client context"),
            cognitoIdentity: decodeHeader(headers["Lambda-Runtime-Cognito-Identity"], "Cognito identity"),
            function: function,
            logger: logger
        )
    }

    private func decodeHeader<T: Decodable>(_ value: String?, _ what: String) -> T? {
        guard let value, !value.isEmpty else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(value.utf8))
        } catch {
            logger.warning("ignoring a malformed \(what) header: \(error)")
            return nil
        }
    }
}
