import AWSCore
import WallTime

/// EC2's notice that it is about to reclaim a spot instance, read from instance metadata every
/// `interval` seconds (`spot/instance-action`: 404 until there is one). A runner that sees it stops
/// its step and records the attempt as interrupted while the instance still lives, whether or
/// not a SIGTERM ever reaches it (EC2 gives two minutes; a shutdown's SIGTERM may come too late).
struct SpotInterruptionWatch {
    static let path = "/latest/meta-data/spot/instance-action"

    let metadata: InstanceMetadataClient
    var interval: Double = 5
    private var polledAt: Double?
    /// The notice as EC2 gave it (`{"action": "terminate", "time": "…"}`), once it has.
    private(set) var notice: String?

    init(metadata: InstanceMetadataClient) {
        self.metadata = metadata
    }

    /// Asks when `interval` has passed since the last time; `true` when this asking found the notice.
    mutating func poll() -> Bool {
        let now = WallClock.unixSeconds()
        guard notice == nil, now - (polledAt ?? -.infinity) >= interval else { return false }
        polledAt = now
        // A 404 is no notice; any other failure (IMDS briefly unreachable) is asked again next time.
        notice = try? metadata.get(Self.path)
        return notice != nil
    }
}
