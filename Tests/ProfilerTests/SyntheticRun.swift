import Counters
import Foundation
import Networks
import Platform
import ProfileModel
import Profiler

/// A profiling run written by hand: a three-layer network, two threads, four repeats, the
/// Cortex-A53's metric formulas, and counts whose medians, sums and scaled values are worked
/// out in the tests' comments. Nothing here runs a network or opens a counter.
enum SyntheticRun {
    static let data = DataDirectory.locate()!

    /// input 4x8x8 -> conv "a" (8 channels 1x1, ReLU) -> conv "b" (8 channels 3x3 same) -> softmax "prob".
    static let network = network(names: ["a", "b", "prob"])

    /// The same network with other layer names.
    static func network(names: [String]) -> Network {
        var b = GraphBuilder(name: "tiny", input: TensorShape(c: 4, h: 8, w: 8))
        let a = b.conv(names[0], b.input, Convolution(outputChannels: 8, kernel: 1), activation: .relu)
        let c = b.conv(names[1], a, Convolution(outputChannels: 8, kernel: 3, padding: .same(1)))
        _ = b.softmax(names[2], c)
        return b.build()
    }

    /// The whole report: analysed, placed under a 100 GFLOP/s, 10 GB/s roofline, with 2 W of
    /// power and a 0.5 W idle baseline.
    static func report(network: Network = network) -> NetworkProfile {
        let s = samples()
        var p = ProfileAnalysis.report(s, network: network, metrics: metrics, placement: "cluster little (cpus 0-1)")
        p.notes.append("a synthetic run")
        EnergyAttribution.apply(EnergyRecord(sensors: ["board"], periodNanoseconds: 1_000_000, idleWatts: 0.5, joules: { 2 * $0.seconds }), samples: s, to: &p)
        p.place(under: Roofline(peak_gflops: 100, dram_gbs: 10, source: "test ceilings"))
        return p
    }

    /// The Cortex-A53's metrics, resolved as `profile` resolves them for a cluster of that core.
    static let metrics: [ResolvedMetric] = {
        let catalog = try! MetricCatalog.load(data: data)
        let pmu = PMU(name: "armv8_cortex_a53", type: PerfEventType(rawValue: 8), cpus: [0, 1], cpumask: nil, formats: [:], aliases: [:])
        let ctx = MetricContext(core: CoreType(id: "cortex-a53", name: "Cortex-A53"), isX86: false, table: try! EventTable.load("arm/cortex-a53", data: data),
                                corePMU: pmu, registry: PMURegistry(root: .live, pmus: [pmu]), permissions: PerfPermissions(paranoid: 2, privileged: false),
                                lineSize: 64)
        return catalog.resolveAll(in: ctx).filter { ["cycles", "instructions", "ipc", "l2_refills", "dram_read_bytes", "dram_write_bytes", "dram_bytes"].contains($0.metric.name) }
    }()

    /// The spec `profile` opens a formula's event by (and names the counted event after).
    static func spec(_ formulaName: String) -> String {
        metrics.lazy.flatMap(\.events).first { $0.name == formulaName }!.spec
    }

    /// task-clock, L2 refills, L2 write-backs, cycles, instructions (in that order).
    static let events: [ResolvedEvent] = {
        var clock = ResolvedEvent(name: "task-clock", pmuName: nil, type: .software, config: 1)
        clock.scale = 1 // ns
        return [clock] + ["L2D_CACHE_REFILL", "L2D_CACHE_WB", "CPU_CYCLES", "INST_RETIRED"].enumerated().map { k, n in
            ResolvedEvent(name: spec(n), pmuName: "armv8_cortex_a53", type: .raw, config: [0x17, 0x18, 0x11, 0x08][k])
        }
    }()
    static let taskClock = 0, refill = 1, writeBack = 2, cycles = 3, instructions = 4

    static func full(_ count: UInt64) -> CounterDelta { CounterDelta(count: count, enabled: 1000, running: 1000) }

    /// The recorded run. Layer 1 ("a"): L2 refills per repeat 200 (thread 1 multiplexed in
    /// repeat 0: 50 counted in half the time), 300, 220, 180 -> median 210, an estimate; write-backs
    /// 20 in each; cycles 4000 and instructions 6000 in each. Layer 2 ("b"): thread 1's cycles
    /// never on a counter in repeat 2. Layer 3 ("prob"): a read failed in repeat 3.
    /// Layer times 1, 2, 3, 10 ms (layer 1), runs 10, 20, 30, 40 ms.
    static func samples(passes: [[Int]] = [[0, 1, 2, 3, 4]], passRuns: [Int]? = nil) -> LayerSamples {
        var s = LayerSamples(events: events, systemEvents: [], threads: 2, layers: 4, repeats: 4, warmup: 1, passes: passes)
        s.passRuns = passRuns ?? passes.map { _ in 4 }
        let ms: UInt64 = 1_000_000
        let runMs: [UInt64] = [10, 20, 30, 40]
        var base: UInt64 = 5_000 * ms
        for r in 0..<4 {
            s.runWindows[r] = Window(start: base, end: base + runMs[r] * ms)
            // Layer 1 starts 1 ms into the run and lasts 1, 2, 3, 10 ms; layers 2 and 3 follow, 2 and 1 ms.
            let l1 = [1, 2, 3, 10][r] * ms
            s.windows[r][1] = Window(start: base + ms, end: base + ms + l1)
            s.windows[r][2] = Window(start: base + ms + l1, end: base + 3 * ms + l1)
            s.windows[r][3] = Window(start: base + 3 * ms + l1, end: base + 4 * ms + l1)
            base += 100 * ms
            for layer in 1...3 {
                for t in 0..<2 {
                    s.counts[repeat: r, layer: layer, event: taskClock, thread: t] = full(UInt64(1_000_000 * (t + 1)))
                    s.counts[repeat: r, layer: layer, event: writeBack, thread: t] = full(10)
                    s.counts[repeat: r, layer: layer, event: cycles, thread: t] = full(t == 0 ? 1000 : 3000)
                    s.counts[repeat: r, layer: layer, event: instructions, thread: t] = full(t == 0 ? 2000 : 4000)
                }
            }
            let refills: [(UInt64, CounterDelta)] = [(100, CounterDelta(count: 50, enabled: 1000, running: 500)), (200, full(100)), (120, full(100)), (80, full(100))]
            s.counts[repeat: r, layer: 1, event: refill, thread: 0] = full(refills[r].0)
            s.counts[repeat: r, layer: 1, event: refill, thread: 1] = refills[r].1
            for layer in 2...3 { for t in 0..<2 { s.counts[repeat: r, layer: layer, event: refill, thread: t] = full(5) } }
        }
        s.counts[repeat: 2, layer: 2, event: cycles, thread: 1] = CounterDelta(count: 0, enabled: 1000, running: 0)
        s.counts.setReadFailed(true, repeat: 3, layer: 3)
        return s
    }
}
