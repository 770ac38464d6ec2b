import AWSCore
import AWSServices
import Logging
import JobModel
import JobStore
import WallTime

extension JobStarter {
    /// Every listed type was refused for capacity: as AWS Batch leaves such a job RUNNABLE, the
    /// job goes back to RUNNABLE (freeing its slots) with the reason, startable again after
    /// `SORTIE_CAPACITY_BACKOFF_SECONDS` (the reactor's walk and sweep try it), until the spec's
    /// `capacity_timeout` has passed since the first refusal. `nil` once it has: the caller fails it.
    func awaitCapacity(_ record: JobRecord, _ spec: JobSpec, detail: String, store: JobStore, logger: Logger) throws(LaunchError) -> LaunchResponse? {
        let now = WallClock.unixMilliseconds()
        let since = record.capacityShortSince ?? now
        guard now - since < Int64(spec.capacityTimeoutSeconds) * 1000 else { return nil }
        let backoff = configuration.capacityBackoffSeconds
        let reason = "No capacity for any instance type (\(detail)); trying again in \(backoff)s, for up to \(spec.capacityTimeoutSeconds)s"
        let moved = try aws { () throws(AWSError) in
            try store.awaitCapacity(record, reason: reason, notBefore: now + Int64(backoff) * 1000, since: since)
        }
        guard moved else { return LaunchResponse(.duplicate, try aws { () throws(AWSError) in try store.record(record.id) } ?? record) }
        logger.warning("job \(record.id) RUNNABLE again: \(reason)", metadata: ["job": "\(spec.name)"])
        var waiting = record
        waiting.state = .runnable
        waiting.statusReason = reason
        waiting.capacityShortSince = since
        return LaunchResponse(.waiting, waiting)
    }
}
