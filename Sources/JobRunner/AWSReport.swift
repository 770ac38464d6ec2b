import AWSCore
import AWSServices
import JobModel
import JobStore
import WallTime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The runner's side of the job record on EC2: RUNNING when it starts, a heartbeat while it
/// runs, the full log in S3 and the final record (which frees the job's slots) when it ends.
/// Failures are announced by the retry reactor, which alone knows whether another attempt follows.
struct AWSReport {
    let payload: RunnerPayload
    let configuration: ReportingConfiguration
    let store: JobStore
    let logs: CloudWatchLogs
    let s3: S3
    let lambda: LambdaInvoke
    private var lastBeat = WallClock.unixSeconds()

    init(payload: RunnerPayload, configuration: ReportingConfiguration, client: AWSClient) {
        self.payload = payload
        self.configuration = configuration
        store = JobStore(dynamoDB: DynamoDB(client: client), table: configuration.table)
        logs = CloudWatchLogs(client: client)
        s3 = S3(client: client)
        lambda = LambdaInvoke(client: client)
    }

    var logStream: String { configuration.logStream(job: payload.spec.name, jobID: payload.jobID, attempt: payload.attempt) }

    /// STARTING → RUNNING. `false` when the attempt is no longer this runner's to run (it was
    /// failed or cancelled meanwhile); a runner restarted on the same attempt carries on.
    func begin(instanceID: String?) throws(AWSError) -> Bool {
        let reason = "Runner started on instance \(instanceID ?? "unknown")"
        if try store.beginRun(payload.jobID, attempt: payload.attempt, instanceID: instanceID, logStream: "\(configuration.logGroup) \(logStream)", reason: reason) {
            return true
        }
        let current = try store.record(payload.jobID)
        return current?.state == .running && current?.attempt == payload.attempt
    }

    mutating func heartbeatIfDue() {
        guard WallClock.unixSeconds() - lastBeat >= Double(configuration.heartbeatSeconds) else { return }
        lastBeat = WallClock.unixSeconds()
        do {
            if try !store.heartbeat(payload.jobID, attempt: payload.attempt) {
                complain("heartbeat: job \(payload.jobID) attempt \(payload.attempt) is no longer RUNNING")
            }
        } catch {
            complain("heartbeat failed: \(error)")
        }
    }

    /// Marks the attempt as warned of its spot instance's interruption, as the reactor does on
    /// EC2's event: its ending then counts as the host's, whatever EC2's state reason says.
    func noteInterruption() {
        do {
            _ = try store.noteInterruption(payload.jobID, attempt: payload.attempt)
        } catch {
            complain("could not record the spot interruption notice: \(error)")
        }
    }

    /// Tells the retry reactor the attempt has ended (`AttemptEnded`), for an instance kept after
    /// its job: no EC2 event will come until someone ends it. A lost message leaves it to the sweep.
    func announceEnding() {
        guard let function = configuration.reactorFunction else { return }
        do {
            try lambda.invoke(functionName: function, payload: try AttemptEnded(jobID: payload.jobID, attempt: payload.attempt).event, invocationType: .event)
        } catch {
            complain("could not tell \(function) that the attempt ended (its sweep will decide it): \(error)")
        }
    }

    /// The log to S3, then the final record. Each failure is reported and the rest still done:
    /// the record matters most, and a missing log must not keep the slot taken.
    func finish(_ outcome: JobOutcome, logPath: String) -> Bool {
        let key = configuration.logKey(job: payload.spec.name, jobID: payload.jobID, attempt: payload.attempt)
        var logURI: String?
        do {
            // Streamed from the file one part at a time: a job's log may be bigger than the instance's memory.
            try s3.putFile(logPath, bucket: configuration.logBucket, key: key, contentType: "text/plain; charset=utf-8")
            logURI = "s3://\(configuration.logBucket)/\(key)"
        } catch {
            complain("could not put the log in s3://\(configuration.logBucket)/\(key): \(error)")
        }
        do {
            guard try store.finishRun(payload.jobID, attempt: payload.attempt, job: payload.spec.name, outcome, logURI: logURI) else {
                complain("job \(payload.jobID) attempt \(payload.attempt) was no longer RUNNING: its final record was not written")
                return false
            }
        } catch {
            complain("could not write the final record of job \(payload.jobID): \(error)")
            return false
        }
        return true
    }
}
