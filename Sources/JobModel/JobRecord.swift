/// One job attempt's record in the job table: what was asked, where it is, how it ended.
public struct JobRecord: Sendable, Equatable {
    public struct Transition: Sendable, Equatable {
        public var state: JobState
        /// Milliseconds since the epoch.
        public var at: Int64
        public var reason: String?
        public init(state: JobState, at: Int64, reason: String?) {
            self.state = state
            self.at = at
            self.reason = reason
        }
    }

    public var id: String
    /// The job's name: its spec.
    public var job: String
    /// The resolved arguments it runs with; a new attempt reuses them.
    public var parameters: [String: String]
    /// 1 for the first.
    public var attempt: Int
    public var state: JobState
    /// Why it is in its state, `Host EC2 (instance i-…) terminated.`, `Essential step failed`.
    public var statusReason: String?
    public var priority: Int
    public var submittedAt: Int64
    public var updatedAt: Int64
    /// The event that asked for it, if one did.
    public var eventID: String?
    public var instanceID: String?
    public var instanceType: String?
    /// The market and subnet the attempt's instance was launched in (`nil` subnet: EC2's choice).
    public var market: InstanceSpec.Market?
    public var subnet: String?
    /// The zone EC2 placed the attempt's instance in: a spot instance's price is its zone's.
    public var availabilityZone: String?
    /// A manual submission's overrides of its spec, by name (`LaunchOverride`), as given.
    public var overrides: [String: String]
    public var heartbeatAt: Int64?
    /// The failing step's exit code, or the last step's when all succeeded.
    public var exitCode: Int?
    public var failingStep: String?
    /// The failing step's own reason: `Step 'load' exited with status 3`, `… timed out after 30m`.
    public var reason: String?
    /// How long the runner ran the steps, in milliseconds.
    public var durationMilliseconds: Int64?
    /// Every state it was in, oldest first, each with its time and reason.
    public var history: [Transition]
    /// The ids of the jobs it waits for: it is PENDING until all of them SUCCEEDED.
    public var dependsOn: [String]
    /// The ids of the jobs that wait for it, sorted.
    public var dependents: [String]
    /// When EC2 first refused this attempt for capacity (epoch milliseconds): its `capacity_timeout` counts from here.
    public var capacityShortSince: Int64?
    /// An array's parent: its size and how its children wait (`JobArray`).
    public var array: JobArray?
    /// An array's child: its parent and index.
    public var arrayChild: ArrayChild?

    public init(
        id: String, job: String, parameters: [String: String], attempt: Int = 1, state: JobState = .submitted, statusReason: String? = nil,
        priority: Int = 0, submittedAt: Int64, updatedAt: Int64? = nil, eventID: String? = nil, instanceID: String? = nil,
        instanceType: String? = nil, heartbeatAt: Int64? = nil, exitCode: Int? = nil, failingStep: String? = nil, reason: String? = nil,
        durationMilliseconds: Int64? = nil, history: [Transition]? = nil, dependsOn: [String] = [], dependents: [String] = [],
        capacityShortSince: Int64? = nil, market: InstanceSpec.Market? = nil, subnet: String? = nil,
        overrides: [String: String] = [:], availabilityZone: String? = nil, array: JobArray? = nil, arrayChild: ArrayChild? = nil
    ) {
        self.id = id
        self.job = job
        self.parameters = parameters
        self.attempt = attempt
        self.state = state
        self.statusReason = statusReason
        self.priority = priority
        self.submittedAt = submittedAt
        self.updatedAt = updatedAt ?? submittedAt
        self.eventID = eventID
        self.instanceID = instanceID
        self.instanceType = instanceType
        self.heartbeatAt = heartbeatAt
        self.exitCode = exitCode
        self.failingStep = failingStep
        self.reason = reason
        self.durationMilliseconds = durationMilliseconds
        self.history = history ?? [Transition(state: state, at: submittedAt, reason: statusReason)]
        self.dependsOn = dependsOn
        self.dependents = dependents
        self.capacityShortSince = capacityShortSince
        self.market = market
        self.subnet = subnet
        self.overrides = overrides
        self.availabilityZone = availabilityZone
        self.array = array
        self.arrayChild = arrayChild
    }
}
