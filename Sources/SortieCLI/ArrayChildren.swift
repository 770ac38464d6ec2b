import Foundation
import JobModel
import JobStore

/// An array parent's progress and its children as they stand, for `sortie describe`.
struct ArrayChildren {
    var array: JobArray
    var progress: JobStore.ArrayProgress
    var children: [JobRecord]

    /// `nil` for a job that is not an array's parent.
    static func read(_ record: JobRecord, store: JobStore) throws -> ArrayChildren? {
        guard let (parent, progress) = try store.array(record.id), let array = parent.array else { return nil }
        return ArrayChildren(array: array, progress: progress, children: try store.children(of: parent, created: progress.created))
    }

    var json: [String: Any] {
        var object: [String: Any] = [
            "size": array.size, "created": progress.created, "succeeded": progress.succeeded, "failed": progress.failed,
            "children": children.map { ["index": $0.arrayChild?.index ?? 0, "id": $0.id, "state": $0.state.rawValue, "attempt": $0.attempt] },
        ]
        if array.sequential { object["sequential"] = true }
        if !array.nToN.isEmpty { object["nToN"] = array.nToN }
        return ["array": object]
    }

    /// Indented lines under the timeline: the counts, then one line per created child.
    var text: String {
        var lines = ["array of \(array.size)\(array.sequential ? ", SEQUENTIAL" : "")\(array.nToN.isEmpty ? "" : ", N_TO_N on \(array.nToN.joined(separator: ", "))"): "
            + "\(progress.created) created, \(progress.succeeded) succeeded, \(progress.failed) failed"]
        lines += children.map { "  \(($0.arrayChild.map { String($0.index) } ?? "?").padding(toLength: 6, withPad: " ", startingAt: 0)) \($0.id)  \($0.state.rawValue) (attempt \($0.attempt))" }
        return lines.map { $0 + "\n" }.joined()
    }
}
