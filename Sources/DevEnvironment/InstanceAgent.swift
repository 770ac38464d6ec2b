import AWSCore
import AWSServices
import ChildProcesses
import Foundation
import LocalAWS
import Logging
import Synchronization

/// Plays EC2 for `sortie dev`: it notices the instances the launcher started in moto, runs each
/// one's UserData with bash in its own sandbox folder (so the real runner fetches itself, runs the
/// job's steps and reports to the table), terminates the instance in moto when the script powers it
/// off (the runner's or the script's shutdown command), and hands the matching "EC2 Instance
/// State-change Notification" to `deliver` (the reactor). A script that exits without powering off
/// (`no_shutdown`) leaves its instance running, kept as EC2 would keep it, its sandbox there to look
/// into, until it is terminated in moto (`sortie cancel`). An instance terminated in moto by someone
/// else gets its script stopped.
/// Each instance has its own instance metadata service (`InstanceMetadataStandIn`) while it runs.
public final class InstanceAgent: Sendable {
    public typealias Delivery = @Sendable (_ event: Data) async -> Void

    private let ec2: EC2
    private let environment: [String: String]
    private let sandbox: URL
    private let logger: Logger
    private let deliver: Delivery
    private let gracePeriod: Duration
    private let state = Mutex(Tracked())
    private let poller = Poller()

    private struct Tracked {
        var seen: Set<String> = []
        var running: [String: ChildProcess] = [:]
        var stopping: Set<String> = []
        /// Kept instances: their script exited without powering off.
        var kept: Set<String> = []
        var metadata: [String: InstanceMetadataStandIn] = [:]
    }

    /// `environment`: moto's region and endpoint, and the runner role's credentials.
    /// `gracePeriod`: how long a stopped instance's processes get after SIGTERM before SIGKILL, as at shutdown.
    public init(
        client: AWSClient, environment: [String: String], sandbox: URL, logger: Logger, gracePeriod: Duration = .seconds(10),
        deliver: @escaping Delivery
    ) {
        self.gracePeriod = gracePeriod
        self.ec2 = EC2(client: client)
        self.environment = environment
        self.sandbox = sandbox
        self.logger = logger
        self.deliver = deliver
    }

    /// Polls DescribeInstances every `interval` until `stop()`.
    public func start(interval: Duration = .milliseconds(200)) {
        poller.start(every: interval, logger: logger, label: "instance agent") { [self] in try await poll() }
    }

    /// Stops polling, every script still running and every instance's metadata service.
    public func stop() async {
        poller.stop()
        let (processes, services) = state.withLock { tracked in
            defer { tracked.metadata = [:] }
            return (Array(tracked.running.values), Array(tracked.metadata.values))
        }
        for process in processes { process.signal(SIGTERM) }
        for service in services { await service.stop() }
    }

    /// How many instances' scripts are running now.
    public var runningCount: Int { state.withLock { $0.running.count } }

    /// Instances kept after their script (`no_shutdown`), until their termination has been delivered.
    public var keptInstances: Set<String> { state.withLock { $0.kept } }

    func poll() async throws {
        let ec2 = ec2
        // New instances, and the ones this agent runs or keeps (to notice their termination): never
        // every instance EC2 still lists, which an array of a thousand made a poll of thousands.
        let tracked = state.withLock { Array(Set($0.running.keys).union($0.kept)).sorted() }
        let instances = try await blocking { () throws -> [EC2.Instance] in
            var all: [EC2.Instance] = []
            let sortie = EC2.Filter(name: "tag-key", values: ["sortie:job-id"])
            var queries = [[sortie, .init(name: "instance-state-name", values: ["pending", "running"])]]
            // EC2 takes up to 200 values in a filter.
            for start in stride(from: 0, to: tracked.count, by: 200) {
                queries.append([sortie, .init(name: "instance-id", values: Array(tracked[start..<min(start + 200, tracked.count)]))])
            }
            for filters in queries {
                var token: String?
                repeat {
                    let page = try ec2.describeInstances(filters: filters, nextToken: token)
                    all += page.instances
                    token = page.nextToken
                } while token != nil
            }
            return all
        }
        for instance in instances {
            let name = instance.state?.name ?? ""
            let ended = name == "shutting-down" || name == "terminated"
            let (isNew, process, keptEnded) = state.withLock { tracked -> (Bool, ChildProcess?, Bool) in
                let isNew = tracked.seen.insert(instance.instanceId).inserted
                if ended, tracked.kept.contains(instance.instanceId) { return (isNew, nil, tracked.stopping.insert(instance.instanceId).inserted) }
                guard ended, let process = tracked.running[instance.instanceId], tracked.stopping.insert(instance.instanceId).inserted else { return (isNew, nil, false) }
                return (isNew, process, false)
            }
            if isNew, name == "pending" || name == "running" {
                try await boot(instance)
            } else if let process {
                logger.info("instance \(instance.instanceId) was terminated: stopping its runner")
                stop(instance.instanceId, process)
            } else if keptEnded {
                logger.info("kept instance \(instance.instanceId) was terminated")
                await terminated(instance.instanceId)
                state.withLock { tracked in
                    tracked.kept.remove(instance.instanceId)
                    tracked.stopping.remove(instance.instanceId)
                }
            }
        }
    }

    /// SIGTERM (the runner ends its step and exits), then SIGKILL after the grace period, as a shutdown does.
    private func stop(_ instanceID: String, _ process: ChildProcess) {
        process.signal(SIGTERM)
        let grace = gracePeriod
        Task { [self] in
            try? await Task.sleep(for: grace)
            if state.withLock({ $0.running[instanceID] != nil }) { process.signal(SIGKILL) }
        }
    }

    /// Writes the instance's UserData into its sandbox and runs it, with its metadata service.
    private func boot(_ instance: EC2.Instance) async throws {
        let instanceID = instance.instanceId
        let ec2 = ec2
        guard let script = try await blocking({ try ec2.userData(instanceID: instanceID) }) else {
            logger.warning("instance \(instanceID) has no UserData: left alone")
            return
        }
        let home = sandbox.appendingPathComponent(instanceID)
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let scriptFile = home.appendingPathComponent("user-data.sh")
        try script.write(to: scriptFile)
        let metadata = try await InstanceMetadataStandIn.start(
            .init(instanceID: instanceID, instanceType: instance.instanceType ?? "t3.micro", region: MotoServer.region))
        // The sandbox stands in for /opt/sortie; shutting down leaves a mark, and powers off when the script exits.
        // Credentials are the runner role's, from the environment, which the runner's chain reads before IMDS.
        var environment = environment.merging([
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", "HOME": home.path,
            "SORTIE_HOME": home.path, "SORTIE_SHUTDOWN_COMMAND": "touch '\(Self.poweredOff(home).path)'",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": metadata.endpoint,
            // A busy laptop may not answer on loopback within EC2's 1 s; the stand-in is always there.
            "AWS_METADATA_SERVICE_TIMEOUT": "10",
        ]) { $1 }
        environment["AWS_EC2_METADATA_DISABLED"] = nil
        // Spawned under the lock, so even an instant exit finds the process recorded as running.
        do {
            try state.withLock { tracked in
                tracked.running[instanceID] = try ChildProcess.spawn(
                    executable: "/bin/bash", arguments: [scriptFile.path], environment: environment, workingDirectory: home.path,
                    output: .file(home.appendingPathComponent("console.log").path)
                ) { [self] status in
                    Task { await self.exited(instanceID, status: status, home: home) }
                }
                tracked.metadata[instanceID] = metadata
            }
        } catch {
            await metadata.stop()
            throw error
        }
        logger.info("instance \(instanceID) booted: running its UserData in \(home.path)")
    }

    /// The mark the shutdown command leaves in an instance's sandbox.
    static func poweredOff(_ home: URL) -> URL { home.appendingPathComponent("powered-off") }

    /// The script exited: the instance powers off if it was shut down or terminated, else it is kept.
    private func exited(_ instanceID: String, status: Int32, home: URL) async {
        let shutDown = FileManager.default.fileExists(atPath: Self.poweredOff(home).path)
        let kept = state.withLock { tracked in
            tracked.running[instanceID] = nil
            let terminated = tracked.stopping.remove(instanceID) != nil
            return !shutDown && !terminated && tracked.kept.insert(instanceID).inserted
        }
        if kept {
            logger.notice("instance \(instanceID): UserData exited with status \(status) without shutting down: kept running (\(home.path)); sortie cancel ends it")
            return
        }
        await ended(instanceID, status: status)
    }

    /// The instance powers off, and EventBridge tells the reactor.
    private func ended(_ instanceID: String, status: Int32) async {
        logger.info("instance \(instanceID): UserData exited with status \(status); terminating it")
        let ec2 = ec2
        do {
            try await blocking { try ec2.terminateInstances([instanceID]) }
        } catch {
            logger.warning("instance \(instanceID) could not be terminated in moto: \(error)")
        }
        await terminated(instanceID)
    }

    /// EventBridge tells the reactor the instance is terminated; its metadata service goes with it.
    private func terminated(_ instanceID: String) async {
        await deliver(Self.stateChangeEvent(instanceID: instanceID, state: "terminated"))
        let metadata = state.withLock { $0.metadata.removeValue(forKey: instanceID) }
        await metadata?.stop()
    }

    /// The event as EventBridge delivers it for the default bus.
    static func stateChangeEvent(instanceID: String, state: String) -> Data {
        let region = MotoServer.region
        let account = MotoServer.accountID
        let event: [String: Any] = [
            "version": "0", "id": UUID().uuidString.lowercased(), "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
            "account": account, "time": ISO8601DateFormatter().string(from: Date()), "region": region,
            "resources": ["arn:aws:ec2:\(region):\(account):instance/\(instanceID)"],
            "detail": ["instance-id": instanceID, "state": state],
        ]
        return (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])) ?? Data()
    }
}
