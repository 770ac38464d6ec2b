/// An array job, as AWS Batch's `arrayProperties`: one parent and `size` children, each its own
/// job (instance, attempts, retries) with its index in `SORTIE_ARRAY_INDEX`. The parent runs no
/// instance: it is RUNNING while its children are, SUCCEEDED once all of them did, FAILED once
/// all have ended and any of them FAILED (as Batch decides a parent). Children are created
/// lazily, a window at a time, as earlier ones end (`JobArrays.window`).
public struct JobArray: Sendable, Equatable {
    public var size: Int
    /// `SEQUENTIAL`: child i starts only after child i − 1 SUCCEEDED (Batch's dependency without a job id).
    public var sequential: Bool
    /// `N_TO_N`: child i starts only after child i of each of these arrays (parent ids, same size) SUCCEEDED.
    public var nToN: [String]

    public init(size: Int, sequential: Bool = false, nToN: [String] = []) {
        self.size = size
        self.sequential = sequential
        self.nToN = nToN
    }
}

/// A child's place in its array.
public struct ArrayChild: Sendable, Equatable {
    public var parent: String
    public var index: Int
    public var size: Int

    public init(parent: String, index: Int, size: Int) {
        self.parent = parent
        self.index = index
        self.size = size
    }
}

/// The rules arrays follow, free of I/O.
public enum JobArrays {
    /// The sizes Batch allows.
    public static let sizes = 2...10_000

    /// Batch's dependency types, as submissions spell them.
    public enum DependencyType: String, Sendable, CaseIterable {
        case sequential = "SEQUENTIAL", nToN = "N_TO_N"
    }

    /// `<parent>.<index>`: Batch writes `<parent>:<index>`, but a job id names CloudWatch Logs
    /// streams, which may not hold `:`.
    public static func childID(_ parent: String, _ index: Int) -> String { "\(parent).\(index)" }

    /// The parent's id in a child's id, `nil` for an id that cannot be a child's.
    public static func parent(ofChild id: String) -> String? {
        guard let dot = id.lastIndex(of: "."), Int(id[id.index(after: dot)...]) != nil, dot > id.startIndex else { return nil }
        return String(id[..<dot])
    }

    /// Whether an id can be a child's: the other ids are UUIDs, without a `.`. Saves a read per ending.
    public static func mayBeChild(_ id: String) -> Bool { id.contains(".") }

    /// How many children may exist unfinished at once: twice the kind's slots, so a slot freed by
    /// a runner's final record finds a child waiting before the reactor has counted that ending;
    /// an array's unfinished items grow with its concurrency, not its size.
    public static func window(maxConcurrency: Int) -> Int { 2 * max(1, maxConcurrency) }

    /// Why a size is refused, or `nil`.
    public static func sizeProblem(_ size: Int) -> String? {
        sizes.contains(size) ? nil : "an array has 2 to 10,000 children, as AWS Batch allows; got \(size)"
    }

    /// How the parent ends, once all its children have: `nil` while some have not.
    public static func verdict(size: Int, succeeded: Int, failed: Int, firstFailure: String?) -> (state: JobState, reason: String)? {
        guard succeeded + failed >= size else { return nil }
        if failed == 0 { return (.succeeded, "All \(size) children SUCCEEDED") }
        return (.failed, "\(failed) of \(size) children FAILED; first: \(firstFailure ?? "no reason recorded")")
    }

    /// What a child waits for: the child before it (`SEQUENTIAL`), the same index of each `N_TO_N` array.
    public static func prerequisites(of index: Int, parent: String, _ array: JobArray) -> [String] {
        var ids = array.nToN.map { childID($0, index) }
        if array.sequential, index > 0 { ids.append(childID(parent, index - 1)) }
        return ids
    }
}
