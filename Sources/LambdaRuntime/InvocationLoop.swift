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

/// next → handler → response or error, forever. Only a Runtime API failure ends it.
struct InvocationLoop {
    let client: RuntimeAPIClient
    let handler: any ByteHandler
    let function: FunctionInfo
    let logger: Logger
    /// `_X_AMZN_TRACE_ID` is process-wide, so it is only set when one invocation runs at a time.
    let exportsTraceID: Bool

    func run() throws(RuntimeAPIError) -> Never {
        while true {
            let invocation = try client.next()
            let context = makeContext(invocation.headers)
            // TaskLocal.withValue rethrows untyped errors; carry ours out as a value.
            let failure: RuntimeAPIError? = LambdaContext.$current.withValue(context) {
                do throws(RuntimeAPIError) { try serve(invocation.payload, context) } catch { return error }
                return nil
            }
            if let failure { throw failure }
        }
    }

    private func serve(_ payload: Data, _ context: LambdaContext) throws(RuntimeAPIError) {
        if exportsTraceID, let trace = context.traceID { setenv("_X_AMZN_TRACE_ID", trace, 1) }
        defer { if exportsTraceID { unsetenv("_X_AMZN_TRACE_ID") } }

        let output: Data
        do {
            output = try handler.handle(payload, context: context)
        } catch {
            let report = ErrorReport(error)
            context.logger.error("invocation failed: \(report.errorType): \(report.errorMessage)")
            try client.reportError(for: context.requestID, report)
            return
        }
        if case .tooLarge(let refusal) = try client.respond(to: context.requestID, with: output) {
            let report = ErrorReport(
                errorMessage: "response of \(output.count) bytes refused by the Runtime API as too large: \(refusal)",
                errorType: "Function.ResponseSizeTooLarge")
            context.logger.error("\(report.errorMessage)")
            try client.reportError(for: context.requestID, report)
        }
    }

    private func makeContext(_ headers: HTTPHeaders) -> LambdaContext {
        LambdaContext(
            requestID: headers["Lambda-Runtime-Aws-Request-Id"] ?? "",
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
