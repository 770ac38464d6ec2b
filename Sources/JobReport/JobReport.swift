import JobModel

/// What `sortie report` draws: every job and attempt active in a window, each job's
/// `max_concurrency`, the file pipeline and the failures, as plain values gathered from the
/// deployment (`JobReport+Gathering.swift`) and embedded as one JSON document in a self-contained
/// page (`JobReport+Page.swift`), whose script draws it. Times are milliseconds since the epoch.
///
/// Each attempt carries its cost (`JobCost`: its billed hours at its market's price), unknown
/// where no price is found; the page sums them by job name.
public struct JobReport: Sendable, Equatable, Encodable {
    public var generatedAt: Int64
    /// The window's start: jobs changed since then, or still under way, and files created since.
    public var since: Int64
    /// The region, for links to the S3 console.
    public var region: String
    /// Each job name's `max_concurrency`, from its published spec (missing: no spec found).
    public var limits: [String: Int]
    public var jobs: [Job]
    public var files: [File]
    /// Where a served page fetches fresh data (`sortie dev`); nil in a written file.
    public var live: String?

    public init(generatedAt: Int64, since: Int64, region: String, limits: [String: Int], jobs: [Job], files: [File], live: String? = nil) {
        self.generatedAt = generatedAt
        self.since = since
        self.region = region
        self.limits = limits
        self.jobs = jobs
        self.files = files
        self.live = live
    }

    /// One job: its whole history across attempts and each attempt's outcome.
    public struct Job: Sendable, Equatable, Encodable {
        public var id: String
        public var name: String
        public var state: JobState
        public var reason: String?
        public var submittedAt: Int64
        /// Every state it entered, each `[state, at, reason]` in the JSON: a job has many, and the page must stay small.
        public var history: [JobRecord.Transition]
        public var attempts: [Attempt]
        public var dependsOn: [String]

        public init(
            id: String, name: String, state: JobState, reason: String?, submittedAt: Int64, history: [JobRecord.Transition], attempts: [Attempt],
            dependsOn: [String] = []
        ) {
            self.id = id
            self.name = name
            self.state = state
            self.reason = reason
            self.submittedAt = submittedAt
            self.history = history
            self.attempts = attempts
            self.dependsOn = dependsOn
        }

        enum CodingKeys: String, CodingKey {
            case id, name, state, reason, submittedAt, history, attempts, dependsOn
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(state, forKey: .state)
            try container.encodeIfPresent(reason, forKey: .reason)
            try container.encode(submittedAt, forKey: .submittedAt)
            var entries = container.nestedUnkeyedContainer(forKey: .history)
            for transition in history {
                var entry = entries.nestedUnkeyedContainer()
                try entry.encode(transition.state.rawValue)
                try entry.encode(transition.at)
                if let reason = transition.reason { try entry.encode(reason) }
            }
            try container.encode(attempts, forKey: .attempts)
            if !dependsOn.isEmpty { try container.encode(dependsOn, forKey: .dependsOn) }
        }
    }

    /// How an attempt stands.
    public enum Outcome: String, Sendable, Equatable, Encodable {
        /// Not started yet (SUBMITTED, PENDING, RUNNABLE).
        case waiting
        /// STARTING or RUNNING.
        case running
        case succeeded
        /// FAILED, and a later attempt followed.
        case retried
        /// FAILED for good.
        case failed
    }

    public struct Attempt: Sendable, Equatable, Encodable {
        public var number: Int
        public var outcome: Outcome
        /// When its instance was requested, when the runner reported in, when it ended.
        public var startedAt: Int64?
        public var runningAt: Int64?
        public var endedAt: Int64?
        public var instanceID: String?
        public var instanceType: String?
        public var market: String?
        public var exitCode: Int?
        /// Why it ended as it did: the job-level and the step-level reason.
        public var reason: String?
        /// Its full log: the runner's S3 copy (`s3://…`), else its CloudWatch Logs group and stream.
        public var log: String?
        /// Its instance's EC2 state, while the instance is kept after the attempt (`no_shutdown`).
        public var kept: String?
        /// What it cost in US dollars; nil while unknown (no price found, or no instance ran).
        public var usd: Double?

        public init(
            number: Int, outcome: Outcome, startedAt: Int64? = nil, runningAt: Int64? = nil, endedAt: Int64? = nil, instanceID: String? = nil,
            instanceType: String? = nil, market: String? = nil, exitCode: Int? = nil, reason: String? = nil, log: String? = nil, kept: String? = nil,
            usd: Double? = nil
        ) {
            self.number = number
            self.outcome = outcome
            self.startedAt = startedAt
            self.runningAt = runningAt
            self.endedAt = endedAt
            self.instanceID = instanceID
            self.instanceType = instanceType
            self.market = market
            self.exitCode = exitCode
            self.reason = reason
            self.log = log
            self.kept = kept
            self.usd = usd
        }
    }

    /// A file in the pipeline: its state, and its chunks and records by route.
    public struct File: Sendable, Equatable, Encodable {
        public var id: String
        public var object: String
        public var feed: String
        public var state: String
        public var createdAt: Int64
        public var completedAt: Int64?
        public var records: Int64
        public var reason: String?
        public var routes: [Route]
        public var failures: [ChunkFailure]

        public init(
            id: String, object: String, feed: String, state: String, createdAt: Int64, completedAt: Int64?, records: Int64, reason: String?,
            routes: [Route], failures: [ChunkFailure]
        ) {
            self.id = id
            self.object = object
            self.feed = feed
            self.state = state
            self.createdAt = createdAt
            self.completedAt = completedAt
            self.records = records
            self.reason = reason
            self.routes = routes
            self.failures = failures
        }
    }

    /// A file's chunks of one route (`lambda`, `batch`) and their records.
    public struct Route: Sendable, Equatable, Encodable {
        public var route: String
        public var chunks: Int
        public var done: Int
        public var failed: Int
        public var records: Int64
        public var delivered: Int64
        public var rejected: Int64

        public init(route: String, chunks: Int = 0, done: Int = 0, failed: Int = 0, records: Int64 = 0, delivered: Int64 = 0, rejected: Int64 = 0) {
            self.route = route
            self.chunks = chunks
            self.done = done
            self.failed = failed
            self.records = records
            self.delivered = delivered
            self.rejected = rejected
        }
    }

    /// A chunk that FAILED: why, and where to look (its Lambda request or Batch job).
    public struct ChunkFailure: Sendable, Equatable, Encodable {
        public var index: Int
        public var route: String
        public var reason: String
        public var attempts: Int
        public var ranBy: String?

        public init(index: Int, route: String, reason: String, attempts: Int, ranBy: String?) {
            self.index = index
            self.route = route
            self.reason = reason
            self.attempts = attempts
            self.ranBy = ranBy
        }
    }
}
