import AWSCore
import JobLaunch
import JobModel
import JobStore
import Logging

extension Launcher {
    /// The array a submission asks for: the event's `array` size, else the spec's; `SEQUENTIAL`
    /// from either; each `N_TO_N` id an existing array of the same size (as Batch requires).
    /// Refused before anything is written.
    func array(for event: LaunchEvent, spec: JobSpec, store: JobStore) throws(LaunchError) -> JobArray? {
        guard let size = event.arraySize ?? spec.array?.size else {
            if event.sequential || !event.nToN.isEmpty {
                throw .invalidDependencies("SEQUENTIAL and N_TO_N dependencies are for array jobs: give the submission an array size (--array N)")
            }
            return nil
        }
        if let problem = JobArrays.sizeProblem(size) { throw .invalidArray(problem) }
        var nToN: [String] = []
        for id in event.nToN where !nToN.contains(id) {
            guard let other = try starter.aws({ () throws(AWSError) in try store.record(id) }) else {
                throw .invalidDependencies("no job \(id) to depend on N_TO_N: it takes the id of a submitted array job")
            }
            guard other.array?.size == size else {
                let what = other.array.map { "an array of \($0.size)" } ?? "not an array job"
                throw .invalidDependencies("N_TO_N waits on an array of the same size: \(id) is \(what), this one has \(size) children")
            }
            nToN.append(id)
        }
        guard nToN.count + event.dependsOn.count <= JobDependencies.limit else {
            throw .invalidDependencies("depends_on names \(nToN.count + event.dependsOn.count) jobs; at most \(JobDependencies.limit) are allowed, as AWS Batch allows")
        }
        return JobArray(size: size, sequential: event.sequential || spec.array?.sequential == true, nToN: nToN)
    }

    /// A RUNNING array's parent, just recorded (or found again by a repeated event): its first
    /// children created and started. Answers `launched` when some started, `waiting` when all
    /// wait for slots (or for what they depend on), `failed` when the array is already decided so.
    func startArray(_ parent: JobRecord, store: JobStore, logger: Logger, duplicate: Bool) throws(LaunchError) -> LaunchResponse {
        let advance = try starter.advanceArray(parent.id, logger: logger)
        let current = try starter.aws({ () throws(AWSError) in try store.record(parent.id) }) ?? parent
        logger.info(
            "array \(parent.id) of \(parent.array?.size ?? 0): \(advance.launched.count) children launched, \(advance.queued.count) waiting",
            metadata: ["job": "\(parent.job)"])
        let outcome: LaunchResponse.Outcome = current.state == .failed ? .failed : advance.launched.isEmpty ? .waiting : .launched
        return LaunchResponse(duplicate ? .duplicate : outcome, current)
    }
}
