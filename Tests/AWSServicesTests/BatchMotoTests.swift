import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import SortieTestSupport
import Testing

@Suite("Batch against moto")
struct BatchMotoTests {
    /// An unmanaged compute environment, a queue on it and a container job definition.
    private func makeQueue(_ client: AWSClient) throws(AWSError) -> (queue: String, definition: String) {
        let batch = Batch(client: client)
        let role = try IAM(client: client).createRole(name: unique("batch-role"), servicePrincipal: "batch.amazonaws.com")
        let environment = try batch.createComputeEnvironment(name: unique("env"), serviceRole: role)
        let queueName = unique("chunks")
        let queueARN = try batch.createJobQueue(name: queueName, computeEnvironments: [environment])
        #expect(queueARN.hasSuffix("job-queue/\(queueName)"))
        let definitionName = unique("chunk")
        let definitionARN = try batch.registerJobDefinition(
            name: definitionName,
            container: .init(image: "public.ecr.aws/sortie/chunk:1", vcpus: 1, memory: 512, command: ["run", "Ref::chunk"]))
        #expect(definitionARN.contains("job-definition/\(definitionName):1"))
        return (queueName, definitionName)
    }

    @Test("SubmitJob with every option, then DescribeJobs reads the jobs back")
    func submitAndDescribe() async throws {
        let server = try await MotoServer.shared()
        let client = motoClient(server)
        let batch = Batch(client: client)
        let (queue, definition) = try await blocking { try makeQueue(client) }

        let input = Batch.SubmitJobInput(
            jobName: "chunks-7", jobQueue: queue, jobDefinition: definition, parameters: ["chunk": "s3://bucket/in/7"],
            arrayProperties: Batch.ArrayProperties(size: 4),
            containerOverrides: Batch.ContainerOverrides(
                command: ["run", "--fast"], environment: [Batch.KeyValuePair(name: "SORTIE_JOB", value: "7")],
                resourceRequirements: [Batch.ResourceRequirement(type: "VCPU", value: "2"), Batch.ResourceRequirement(type: "MEMORY", value: "2048")]),
            retryStrategy: Batch.RetryStrategy(attempts: 3, evaluateOnExit: [Batch.EvaluateOnExit(action: "RETRY", onStatusReason: "Host EC2*")]),
            timeout: Batch.JobTimeout(attemptDurationSeconds: 900), tags: ["sortie:job": "7"])
        let first = try await blocking { try batch.submitJob(input) }
        #expect(first.jobName == "chunks-7")
        #expect(!first.jobId.isEmpty)
        let second = try await blocking {
            try batch.submitJob(.init(jobName: "merge-7", jobQueue: queue, jobDefinition: definition, dependsOn: [.init(jobId: first.jobId)]))
        }

        let jobs: [Batch.JobDetail] = try await blocking { try batch.describeJobs([first.jobId, second.jobId, "00000000-0000-0000-0000-000000000000"]) }
        #expect(Set(jobs.map(\.jobId)) == [first.jobId, second.jobId], "unknown ids are left out")
        let described = try #require(jobs.first { $0.jobId == first.jobId })
        #expect(described.jobName == "chunks-7")
        #expect(described.jobQueue.hasSuffix(queue))
        #expect(["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"].contains(described.status))
        #expect(described.parameters?["chunk"] == "s3://bucket/in/7")
        #expect(described.arrayProperties?.size == 4)
        #expect(described.createdAt.map { $0 > 1_600_000_000_000 } == true, "epoch milliseconds")
        let merge = try #require(jobs.first { $0.jobId == second.jobId })
        #expect(merge.dependsOn?.compactMap(\.jobId) == [first.jobId])
    }

    @Test("a REST-JSON error: the code from the body or x-amzn-ErrorType, not retried")
    func errors() async throws {
        let server = try await MotoServer.shared()
        let batch = Batch(client: motoClient(server))
        let error = await awsError { () throws(AWSError) in
            try batch.submitJob(.init(jobName: "orphan", jobQueue: unique("absent-queue"), jobDefinition: "absent-definition"))
        }
        #expect(error?.code == "ClientException")
        #expect(error?.status == 400)
        #expect(error?.service == "Batch")
        #expect(error?.operation == "SubmitJob")
        #expect(error?.attempts == 1)
    }
}
