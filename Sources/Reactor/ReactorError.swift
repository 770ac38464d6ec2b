import AWSCore
import JobLaunch

/// Why the reactor could not handle an event; Lambda retries the event, which is safe because
/// every decision is a conditional write.
public enum ReactorError: Error, Sendable, CustomStringConvertible {
    case configuration(String)
    case launch(LaunchError)
    case aws(AWSError)

    public var errorType: String {
        switch self {
        case .configuration: "Sortie.Configuration"
        case .launch(let error): error.errorType
        case .aws: "Sortie.AWSError"
        }
    }

    public var description: String {
        switch self {
        case .configuration(let message): "reactor configuration: \(message)"
        case .launch(let error): error.description
        case .aws(let error): error.description
        }
    }
}
