import ChunkPlanning
import SimulatedObjects
import Testing

/// Checks every chunk of a plan against the generator's own answer (never a scan): each starts
/// where its first record starts, on that record's line, and ends where the next chunk begins.
public func expectBoundaries(_ chunks: [ChunkSpec], match object: SimulatedObject, sampleEvery: Int = 1, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(chunks.reduce(0) { $0 + $1.recordCount } == object.records, "every record in one chunk", sourceLocation: sourceLocation)
    for (position, chunk) in chunks.enumerated() {
        #expect(chunk.index == position, sourceLocation: sourceLocation)
        if position > 0 { #expect(chunk.firstRecord == chunks[position - 1].firstRecord + chunks[position - 1].recordCount, sourceLocation: sourceLocation) }
        guard position % sampleEvery == 0 || position == chunks.count - 1 else { continue }
        let first = object.record(chunk.firstRecord)
        #expect(chunk.start == first.start && chunk.startLine == first.line, "chunk \(position): \(chunk.start) line \(chunk.startLine), the generator says \(first)", sourceLocation: sourceLocation)
        #expect(chunk.end == object.record(chunk.firstRecord + chunk.recordCount).start, "chunk \(position) ends where record \(chunk.firstRecord + chunk.recordCount) starts", sourceLocation: sourceLocation)
    }
}
