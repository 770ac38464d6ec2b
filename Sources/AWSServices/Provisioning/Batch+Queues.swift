import AWSCore

/// The Batch resources a deployment submits into: an unmanaged compute environment (the
/// deployment's own, or moto's), a job queue on it and a container job definition.
extension Batch {
    private struct CreateComputeEnvironmentRequest: Encodable {
        var computeEnvironmentName: String
        var type: String
        var state = "ENABLED"
        var serviceRole: String?
    }

    private struct ARNResponse: Decodable {
        var computeEnvironmentArn: String?
        var jobQueueArn: String?
        var jobDefinitionArn: String?
    }

    /// An `UNMANAGED` or `MANAGED` environment; returns its ARN.
    public func createComputeEnvironment(name: String, type: String = "UNMANAGED", serviceRole: String? = nil) throws(AWSError) -> String {
        let response: ARNResponse = try rest.call(
            "CreateComputeEnvironment", method: "POST", path: "/v1/createcomputeenvironment",
            body: CreateComputeEnvironmentRequest(computeEnvironmentName: name, type: type, serviceRole: serviceRole))
        return response.computeEnvironmentArn ?? ""
    }

    private struct CreateJobQueueRequest: Encodable {
        struct Order: Encodable {
            var order: Int
            var computeEnvironment: String
        }
        var jobQueueName: String
        var state = "ENABLED"
        var priority: Int
        var computeEnvironmentOrder: [Order]
    }

    /// A queue over the given environments, in order; returns its ARN.
    public func createJobQueue(name: String, computeEnvironments: [String], priority: Int = 1) throws(AWSError) -> String {
        let order = computeEnvironments.enumerated().map { CreateJobQueueRequest.Order(order: $0.offset + 1, computeEnvironment: $0.element) }
        let response: ARNResponse = try rest.call(
            "CreateJobQueue", method: "POST", path: "/v1/createjobqueue",
            body: CreateJobQueueRequest(jobQueueName: name, priority: priority, computeEnvironmentOrder: order))
        return response.jobQueueArn ?? ""
    }

    public struct ContainerDefinition: Encodable, Sendable {
        public var image: String
        public var vcpus: Int
        public var memory: Int
        public var command: [String]
        public var environment: [KeyValuePair]?

        public init(image: String, vcpus: Int, memory: Int, command: [String], environment: [String: String] = [:]) {
            self.image = image
            self.vcpus = vcpus
            self.memory = memory
            self.command = command
            self.environment = environment.isEmpty ? nil : environment.sorted { $0.key < $1.key }.map { KeyValuePair(name: $0.key, value: $0.value) }
        }
    }

    private struct RegisterJobDefinitionRequest: Encodable {
        var jobDefinitionName: String
        var type = "container"
        var containerProperties: ContainerDefinition
        var parameters: [String: String]?
        var retryStrategy: RetryStrategy?
        var timeout: JobTimeout?
    }

    /// A container job definition; returns its ARN (with the revision).
    public func registerJobDefinition(
        name: String, container: ContainerDefinition, parameters: [String: String] = [:], retryStrategy: RetryStrategy? = nil, timeout: JobTimeout? = nil
    ) throws(AWSError) -> String {
        let response: ARNResponse = try rest.call(
            "RegisterJobDefinition", method: "POST", path: "/v1/registerjobdefinition",
            body: RegisterJobDefinitionRequest(
                jobDefinitionName: name, containerProperties: container, parameters: parameters.isEmpty ? nil : parameters,
                retryStrategy: retryStrategy, timeout: timeout))
        return response.jobDefinitionArn ?? ""
    }
}
