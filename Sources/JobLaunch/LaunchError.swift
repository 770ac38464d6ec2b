import AWSCore
import JobModel

/// Why a launch request was refused or failed; `errorType` is what the caller sees.
public enum LaunchError: Error, Sendable, CustomStringConvertible {
    case configuration(String)
    case unknownJob(String, source: String)
    case invalidSpec(job: String, SpecError)
    case invalidArguments(ArgumentError)
    /// A submission's overrides its spec does not allow, or values they cannot take; nothing was written.
    case invalidOverrides(OverrideError)
    /// `depends_on` names a job that does not exist, too many, or (by name) a cycle; nothing was written.
    case invalidDependencies(String)
    /// An array size out of 2…10,000; nothing was written.
    case invalidArray(String)
    case userDataTooLarge(UserDataTooLarge)
    /// No listed instance type had capacity for the spec's `capacity_timeout`; the job is FAILED and its slot free.
    case noCapacity(jobID: String, String)
    /// A spot launch in an account without EC2's spot service-linked role, which the caller
    /// may not create (`AuthFailure.ServiceLinkedRoleCreationNotPermitted`); the job is FAILED and its slot free.
    case spotRoleMissing(jobID: String, AWSError)
    /// EC2 refused the launch for another reason; the job is FAILED and its slot free.
    case launchFailed(jobID: String, AWSError)
    case aws(AWSError)

    public var errorType: String {
        switch self {
        case .configuration: "Sortie.Configuration"
        case .unknownJob: "Sortie.UnknownJob"
        case .invalidSpec: "Sortie.InvalidSpec"
        case .invalidArguments: "Sortie.InvalidArguments"
        case .invalidOverrides: "Sortie.InvalidOverrides"
        case .invalidDependencies: "Sortie.InvalidDependencies"
        case .invalidArray: "Sortie.InvalidArray"
        case .userDataTooLarge: "Sortie.UserDataTooLarge"
        case .noCapacity: "Sortie.InsufficientCapacity"
        case .spotRoleMissing: "Sortie.SpotRoleMissing"
        case .launchFailed: "Sortie.LaunchFailed"
        case .aws: "Sortie.AWSError"
        }
    }

    /// What EC2's `AuthFailure.ServiceLinkedRoleCreationNotPermitted` means and how to fix it.
    public static let spotRoleExplanation = """
        EC2 refused the spot launch (AuthFailure.ServiceLinkedRoleCreationNotPermitted): this account has no \
        AWSServiceRoleForEC2Spot yet, and EC2 creates it on the first spot request only if the caller may \
        (iam:CreateServiceLinkedRole for spot.amazonaws.com, which the deployment template grants the launcher and the reactor). \
        Redeploy with the current template, or create it once: aws iam create-service-linked-role --aws-service-name spot.amazonaws.com
        """

    public var description: String {
        switch self {
        case .configuration(let message): "launcher configuration: \(message)"
        case .unknownJob(let job, let source): "no job named '\(job)' is published in \(source)"
        case .invalidSpec(let job, let error): "the published spec of '\(job)' is not valid:\n\(error)"
        case .invalidArguments(let error): error.description
        case .invalidOverrides(let error): error.description
        case .invalidDependencies(let message): message
        case .invalidArray(let message): message
        case .userDataTooLarge(let error): error.description
        case .noCapacity(let jobID, let detail): "job \(jobID) FAILED: no capacity for any of its instance types (\(detail))"
        case .spotRoleMissing(let jobID, _): "job \(jobID) FAILED: \(Self.spotRoleExplanation)"
        case .launchFailed(let jobID, let error): "job \(jobID) FAILED: \(error)"
        case .aws(let error): error.description
        }
    }
}
