import Foundation
import LocalRuntime
import SortieTestSupport
import Testing

/// Runs a built function product under the local Runtime API for the length of a test.
func withFunction<T>(
    _ product: String, environment: [String: String] = [:], concurrency: Int = 1,
    sendsInvocationIDs: Bool = true, lateAnswersGone: Bool = true,
    _ body: (LocalFunction) async throws -> T
) async throws -> T {
    let function = try await LocalFunction.start(.init(
        executable: try BuiltProducts.executable(product), environment: environment,
        concurrency: concurrency, logs: .capture, sendsInvocationIDs: sendsInvocationIDs, lateAnswersGone: lateAnswersGone))
    do {
        let result = try await body(function)
        await function.stop()
        return result
    } catch {
        await function.stop()
        throw error
    }
}

extension LocalFunction {
    /// Invokes with a test-sized timeout, so no test can hang on a lost invocation.
    func invoke(_ payload: Data, timeout: Duration = .seconds(20), tenantID: String? = nil, traceID: String? = nil,
                clientContext: String? = nil, cognitoIdentity: String? = nil) async -> InvocationOutcome {
        await invoke(InvocationRequest(payload: payload, timeout: timeout, traceID: traceID, tenantID: tenantID,
                                       clientContext: clientContext, cognitoIdentity: cognitoIdentity))
    }

    func invoke(json: String, timeout: Duration = .seconds(20)) async -> InvocationOutcome {
        await invoke(Data(json.utf8), timeout: timeout)
    }
}

struct UnexpectedOutcome: Error, CustomStringConvertible {
    let outcome: InvocationOutcome
    var description: String { "unexpected outcome: \(outcome)" }
}

extension InvocationOutcome {
    func responseBody() throws -> Data {
        guard case .response(_, let body) = self else { throw UnexpectedOutcome(outcome: self) }
        return body
    }

    /// The error type and the decoded `{errorMessage, errorType, stackTrace}` body.
    func functionError() throws -> (type: String?, report: [String: Any]) {
        guard case .functionError(_, let type, let body) = self,
              let report = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw UnexpectedOutcome(outcome: self)
        }
        return (type, report)
    }
}
