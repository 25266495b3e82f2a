import CPerfEvent
import Counters
import Foundation
import Kernels
import Networks
import SystemPackage
import Profiler
import Testing
import TestSupport

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

@Suite("Profiler passes on a PMU with too few counters")
struct MultiPassProfileTests {
    /// One dominant convolution, then small layers.
    static func network() -> Network {
        var b = GraphBuilder(name: "passes", input: TensorShape(c: 3, h: 96, w: 96))
        var x = b.conv("big", b.input, Convolution(outputChannels: 64, kernel: 3, padding: .same(1)), activation: .relu)
        x = b.pool("pool", x, Pooling(kind: .max, kernel: 2, stride: 2))
        x = b.conv("small", x, Convolution(outputChannels: 8, kernel: 1), activation: .relu)
        x = b.pool("gap", x, .global(.average))
        x = b.fc("fc", x, outputs: 10)
        _ = b.softmax("prob", x)
        return b.build()
    }

    @Test("events beyond the counters are counted in further runs of the network, each layer's value from its own pass")
    func realPasses() throws {
        let system = EmulatedPMUSystem(counters: 2)
        func emulated(_ name: String, _ code: UInt64) -> ResolvedEvent {
            ResolvedEvent(name: name, pmuName: "emulated_pmu", type: PerfEventType(rawValue: EmulatedPMUSystem.type), config: code)
        }
        var clock = ResolvedEvent(name: "task-clock", pmuName: "software", type: .software, config: UInt64(PERF_COUNT_SW_TASK_CLOCK.rawValue))
        clock.unit = "ns"
        let events = [clock, emulated("emu-task-clock", 0x11), emulated("emu-cpu-clock", 0x12),
                      emulated("emu-page-faults", 0x13), emulated("emu-context-switches", 0x14)]
        let net = Self.network()
        let pool = ThreadPool(threads: 2)
        let profiler = LayerProfiler(network: net, pool: pool, events: events, metrics: [], registry: PMURegistry(root: .live),
                                     permissions: PerfPermissions.current(root: .live), system: system)
        var runs = 0
        let report = profiler.profile(placement: "test", warmup: 1, repeats: 5, progress: { runs = $0 })
        #expect(system.refused > 0, "the emulated PMU never refused a member: nothing was split")
        #expect(report.notes.contains { $0.contains("ran 2 times") }, "\(report.notes)")
        #expect(runs == 10, "two passes of five repeats each report progress")
        #expect(report.layers.count == net.layers.count - 1)
        for l in report.layers {
            for e in events {
                let f = try #require(l.events[e.name], "\(l.name): \(e.name) missing")
                #expect(f.source == .measured && f.value != nil, "\(l.name) \(e.name): \(f)")
            }
            // Both clocks count the same threads' time in the same layer, in different runs.
            let a = try #require(l.events["task-clock"]?.value), b = try #require(l.events["emu-task-clock"]?.value)
            #expect(a > 0 && b > 0, "\(l.name): \(a) \(b)")
        }
        // Each layer's values come from its own pass: wherever pass 0 saw one layer take more than
        // 4x another's time, passes 1 and 2 see the same order (a shift by one layer would not).
        let clocks = report.layers.map { ($0.name, $0.events["task-clock"]?.value ?? 0) }
        for other in ["emu-task-clock", "emu-cpu-clock"] {
            let theirs = Dictionary(uniqueKeysWithValues: report.layers.map { ($0.name, $0.events[other]?.value ?? 0) })
            var compared = 0
            for (a, ca) in clocks { for (b, cb) in clocks where ca > 4 * cb {
                compared += 1
                #expect(theirs[a]! > theirs[b]!, "\(other): \(a) took \(ca) ns and \(b) \(cb) ns in pass 0, but \(theirs[a]!) and \(theirs[b]!)")
            } }
            #expect(compared >= 3, "too few layers with clearly different times to compare")
        }
        // A layer that ran on the caller only (softmax) counted nothing on the worker.
        let last = try #require(report.last_run.last)
        #expect(last.layer == "prob" && (last.per_thread[1]["task-clock"] ?? -1) == 0, "\(last)")
    }
}
