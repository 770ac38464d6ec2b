import AWSCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// AWS Batch over REST-JSON: submitting jobs and reading their state.
public struct Batch: Sendable {
    let rest: RestJSONProtocolClient

    public init(client: AWSClient) {
        rest = RestJSONProtocolClient(client: client, service: .batch)
    }

    public struct KeyValuePair: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct ResourceRequirement: Codable, Sendable, Equatable {
        /// `VCPU`, `MEMORY` or `GPU`.
        public var type: String
        public var value: String
        public init(type: String, value: String) {
            self.type = type
            self.value = value
        }
    }

    public struct ContainerOverrides: Codable, Sendable {
        public var command: [String]?
        public var environment: [KeyValuePair]?
        public var resourceRequirements: [ResourceRequirement]?
        public var instanceType: String?
        public init(command: [String]? = nil, environment: [KeyValuePair]? = nil, resourceRequirements: [ResourceRequirement]? = nil, instanceType: String? = nil) {
            self.command = command
            self.environment = environment
            self.resourceRequirements = resourceRequirements
            self.instanceType = instanceType
        }
    }

    public struct EvaluateOnExit: Codable, Sendable, Equatable {
        public var action: String
        public var onExitCode: String?
        public var onReason: String?
        public var onStatusReason: String?
        public init(action: String, onExitCode: String? = nil, onReason: String? = nil, onStatusReason: String? = nil) {
            self.action = action
            self.onExitCode = onExitCode
            self.onReason = onReason
            self.onStatusReason = onStatusReason
        }
    }

    public struct RetryStrategy: Codable, Sendable, Equatable {
        public var attempts: Int?
        public var evaluateOnExit: [EvaluateOnExit]?
        public init(attempts: Int? = nil, evaluateOnExit: [EvaluateOnExit]? = nil) {
            self.attempts = attempts
            self.evaluateOnExit = evaluateOnExit
        }
    }

    public struct JobDependency: Codable, Sendable, Equatable {
        public var jobId: String?
        /// `N_TO_N` or `SEQUENTIAL` for array jobs.
        public var type: String?
        public init(jobId: String, type: String? = nil) {
            self.jobId = jobId
            self.type = type
        }
    }

    public struct ArrayProperties: Codable, Sendable {
        public var size: Int
        public init(size: Int) { self.size = size }
    }

    public struct JobTimeout: Codable, Sendable, Equatable {
        public var attemptDurationSeconds: Int
        public init(attemptDurationSeconds: Int) { self.attemptDurationSeconds = attemptDurationSeconds }
    }

    // MARK: SubmitJob

    public struct SubmitJobInput: Encodable, Sendable {
        public var jobName: String
        public var jobQueue: String
        public var jobDefinition: String
        public var parameters: [String: String]?
        public var arrayProperties: ArrayProperties?
        public var containerOverrides: ContainerOverrides?
        public var retryStrategy: RetryStrategy?
        public var timeout: JobTimeout?
        public var dependsOn: [JobDependency]?
        public var tags: [String: String]?
        public var propagateTags: Bool?
        public var shareIdentifier: String?
        public var schedulingPriorityOverride: Int?

        public init(
            jobName: String, jobQueue: String, jobDefinition: String, parameters: [String: String]? = nil, arrayProperties: ArrayProperties? = nil,
            containerOverrides: ContainerOverrides? = nil, retryStrategy: RetryStrategy? = nil, timeout: JobTimeout? = nil,
            dependsOn: [JobDependency]? = nil, tags: [String: String]? = nil, propagateTags: Bool? = nil, shareIdentifier: String? = nil,
            schedulingPriorityOverride: Int? = nil
        ) {
            self.jobName = jobName
            self.jobQueue = jobQueue
            self.jobDefinition = jobDefinition
            self.parameters = parameters
            self.arrayProperties = arrayProperties
            self.containerOverrides = containerOverrides
            self.retryStrategy = retryStrategy
            self.timeout = timeout
            self.dependsOn = dependsOn
            self.tags = tags
            self.propagateTags = propagateTags
            self.shareIdentifier = shareIdentifier
            self.schedulingPriorityOverride = schedulingPriorityOverride
        }
    }

    public struct SubmitJobOutput: Decodable, Sendable {
        public var jobId: String
        public var jobName: String
        public var jobArn: String?
    }

    public func submitJob(_ input: SubmitJobInput) throws(AWSError) -> SubmitJobOutput {
        try rest.call("SubmitJob", method: "POST", path: "/v1/submitjob", body: input)
    }

    // MARK: DescribeJobs

    public struct ArrayPropertiesDetail: Decodable, Sendable {
        public var size: Int?
        public var index: Int?
        /// Child jobs per status, for the parent of an array job.
        public var statusSummary: [String: Int]?
    }

    public struct ContainerDetail: Decodable, Sendable {
        /// The job definition's command (or the job's override), its `Ref::` placeholders as written.
        public var command: [String]?
        public var environment: [KeyValuePair]?
        public var exitCode: Int?
        public var reason: String?
        public var logStreamName: String?
    }

    public struct AttemptDetail: Decodable, Sendable {
        public var container: ContainerDetail?
        public var startedAt: Int64?
        public var stoppedAt: Int64?
        public var statusReason: String?
    }

    public struct JobDetail: Decodable, Sendable {
        public var jobId: String
        public var jobName: String
        public var jobArn: String?
        public var jobQueue: String
        /// SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED or FAILED.
        public var status: String
        public var statusReason: String?
        public var jobDefinition: String?
        /// Milliseconds since the epoch.
        public var createdAt: Int64?
        public var startedAt: Int64?
        public var stoppedAt: Int64?
        public var attempts: [AttemptDetail]?
        public var arrayProperties: ArrayPropertiesDetail?
        public var container: ContainerDetail?
        public var dependsOn: [JobDependency]?
        public var parameters: [String: String]?
        public var tags: [String: String]?
        /// The job's own (SubmitJob's), else its job definition's.
        public var retryStrategy: RetryStrategy?
        public var timeout: JobTimeout?
    }

    struct DescribeJobsInput: Encodable {
        var jobs: [String]
    }

    struct DescribeJobsOutput: Decodable {
        var jobs: [JobDetail]?
    }

    /// Up to 100 jobs per call; unknown ids are simply absent from the answer.
    public func describeJobs(_ jobIds: [String]) throws(AWSError) -> [JobDetail] {
        let output: DescribeJobsOutput = try rest.call("DescribeJobs", method: "POST", path: "/v1/describejobs", body: DescribeJobsInput(jobs: jobIds))
        return output.jobs ?? []
    }

    /// A container's command as Batch runs it: an argument that is a whole `Ref::name` placeholder
    /// becomes the parameter's value (the job's, else the job definition's default); one without a
    /// value stays as written.
    public static func resolve(command: [String], parameters: [String: String]) -> [String] {
        command.map { argument in
            guard argument.hasPrefix("Ref::"), let value = parameters[String(argument.dropFirst(5))] else { return argument }
            return value
        }
    }

    // MARK: ListJobs

    public struct JobSummary: Decodable, Sendable {
        public var jobId: String
        public var jobName: String
        public var status: String?
    }

    struct ListJobsInput: Encodable {
        var jobQueue: String
        var jobStatus: String?
        var nextToken: String?
    }

    public struct ListJobsOutput: Decodable, Sendable {
        public var jobSummaryList: [JobSummary]
        public var nextToken: String?
    }

    /// One page of a queue's jobs; `status` nil lists the RUNNING ones (moto lists every job).
    public func listJobs(queue: String, status: String? = nil, nextToken: String? = nil) throws(AWSError) -> ListJobsOutput {
        try rest.call("ListJobs", method: "POST", path: "/v1/listjobs", body: ListJobsInput(jobQueue: queue, jobStatus: status, nextToken: nextToken))
    }
}
