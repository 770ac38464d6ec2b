import LambdaRuntime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A test function that shows the runtime from inside: it answers with its context,
/// sleeps, logs and fails on request, and can fail its own initialisation.
struct Probe: LambdaHandler {
    struct Event: Decodable {
        var action: String
        var milliseconds: Int?
        var message: String?
        var bytes: Int?
    }

    struct Report: Encodable {
        var requestID: String
        var deadlineMilliseconds: Int64
        var remainingMilliseconds: Int64
        var invokedFunctionARN: String
        var traceID: String?
        var traceEnvironment: String?
        var tenantID: String?
        var clientContext: ClientContext?
        var cognitoIdentity: CognitoIdentity?
        var functionName: String
        var functionVersion: String
        var memoryMegabytes: Int
        var logGroupName: String
        var logStreamName: String
        var padding: String?
    }

    struct ProbeFailure: LambdaFunctionError, CustomStringConvertible {
        let errorType = "ProbeFailure"
        let description: String
    }

    func handle(_ event: Event, context: LambdaContext) throws -> Report {
        switch event.action {
        case "fail":
            throw ProbeFailure(description: event.message ?? "asked to fail")
        case "sleep":
            context.logger.info("sleeping \(context.requestID)")
            usleep(UInt32(event.milliseconds ?? 0) * 1000)
            context.logger.info("woke \(context.requestID)")
        case "log":
            context.logger.debug("debug line")
            context.logger.info("\(event.message ?? "")")
            context.logger.warning("warning line")
        default:
            break
        }
        let remaining = context.remainingTime.components
        return Report(
            requestID: context.requestID,
            deadlineMilliseconds: context.deadlineMilliseconds,
            remainingMilliseconds: remaining.seconds * 1000 + remaining.attoseconds / 1_000_000_000_000_000,
            invokedFunctionARN: context.invokedFunctionARN,
            traceID: context.traceID,
            traceEnvironment: getenv("_X_AMZN_TRACE_ID").map { String(cString: $0) },
            tenantID: context.tenantID,
            clientContext: context.clientContext,
            cognitoIdentity: context.cognitoIdentity,
            functionName: context.function.name,
            functionVersion: context.function.version,
            memoryMegabytes: context.function.memoryMegabytes,
            logGroupName: context.function.logGroupName,
            logStreamName: context.function.logStreamName,
            padding: event.bytes.map { String(repeating: "p", count: $0) }
        )
    }
}

struct ProbeInitFailure: LambdaFunctionError, CustomStringConvertible {
    let errorType = "ProbeInitFailure"
    let description = "PROBE_FAIL_INIT is set"
}

Lambda.run(name: "runtime-probe") { _ in
    if getenv("PROBE_FAIL_INIT") != nil { throw ProbeInitFailure() }
    return Probe()
}
