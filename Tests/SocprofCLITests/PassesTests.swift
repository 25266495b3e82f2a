import Profiler
import Testing

@Suite("Profiler passes")
struct PassesTests {
    @Test("events that need several groups run in several passes, software events in each")
    func passesFromGroups() {
        // Events 0 and 5 are software; groups as CounterSet split them: [0, 5], [1, 2, 3, 4], [6, 7].
        let software: Set<Int> = [0, 5]
        let passes = LayerProfiler.passes(groups: [[0, 5], [1, 2, 3, 4], [6, 7]], isSoftware: { software.contains($0) })
        #expect(passes == [[0, 5, 1, 2, 3, 4], [0, 5, 6, 7]])
        #expect(LayerProfiler.passes(groups: [[0, 5]], isSoftware: { software.contains($0) }) == [[0, 5]])
        #expect(LayerProfiler.passes(groups: [[1, 2], [3]], isSoftware: { _ in false }) == [[1, 2], [3]])
    }
}
