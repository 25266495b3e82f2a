import Counters
import Foundation
import Kernels
import Networks
import Platform
import ProfileModel
import Profiler
import Reports
import Testing

/// The profile's arithmetic on hand-written samples (`SyntheticRun`), each figure against a value
/// worked out by hand: scaling, medians, metrics, OI_e, unavailable figures, the trace.
@Suite("profile analysis: recorded samples to the report")
struct ProfileAnalysisTests {
    let report = ProfileAnalysis.report(SyntheticRun.samples(), network: SyntheticRun.network, metrics: SyntheticRun.metrics, placement: "test")

    @Test("each convolution names its algorithm (JSON key algorithm); other layers none; a report without the key still loads")
    func algorithms() throws {
        // a: 1x1 stride 1; b: 3x3 stride 1 on 8x8, whichever SOCPROF_CONV_ALGORITHM picks; prob: a softmax.
        #expect(report.layers.map(\.algorithm) == ["gemm-1x1", ConvAlgorithm.of(layer: 2, in: SyntheticRun.network)?.rawValue, nil])
        #expect(["gemm-im2col", "winograd-f4x4"].contains(report.layers[1].algorithm ?? ""))
        let json = try JSONEncoder().encode(report)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        var layers = try #require(object["layers"] as? [[String: Any]])
        #expect(layers[0]["algorithm"] as? String == "gemm-1x1" && layers[2]["algorithm"] == nil)
        for i in layers.indices { layers[i]["algorithm"] = nil }
        var old = object
        old["layers"] = layers
        let loaded = try NetworkProfile.load(try JSONSerialization.data(withJSONObject: old), file: "old.json")
        #expect(loaded.layers.count == 3 && loaded.layers.allSatisfy { $0.algorithm == nil })
        #expect(try NetworkProfile.load(json, file: "new.json").layers[0].algorithm == "gemm-1x1")
    }

    @Test("a residual add run by the convolution before it: both rows name the other (fused_with), a note says so, the table shows conv+add and fused")
    func fusedAdd() throws {
        // input, a (1x1, ReLU), b (1x1, no activation), add(a, b): b does the add.
        var g = GraphBuilder(name: "tiny-add", input: TensorShape(c: 4, h: 8, w: 8))
        let a = g.conv("a", g.input, Convolution(outputChannels: 8, kernel: 1), activation: .relu)
        let b = g.conv("b", a, Convolution(outputChannels: 8, kernel: 1))
        _ = g.add("sum", a, b, activation: .relu)
        let network = g.build()
        var samples = SyntheticRun.samples()
        samples.fusion = ResidualFusion(network: network, algorithms: network.layers.indices.map { ConvAlgorithm.of(layer: $0, in: network) })
        let fused = ProfileAnalysis.report(samples, network: network, metrics: SyntheticRun.metrics, placement: "test")
        #expect(fused.layers.map(\.fused_with) == [nil, "sum", "b"])
        // The add's own interval is an empty boundary: no GOP/s for it.
        #expect(fused.layers[2].gops == 0 && fused.layers[1].gops > 0)
        #expect(fused.notes.contains { $0.contains("1 residual adds ran inside the convolution before each") })
        // Each row's kind and GOP/s cells (name, kind, MMAC, ms, GOP/s, ...).
        let rows = ProfileReport.table(fused).split(separator: "\n").compactMap { line -> [String]? in
            let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            return cells.count > 4 && ["a", "b", "sum"].contains(cells[0]) ? cells : nil
        }
        #expect(rows.map { $0[1] } == ["conv", "conv+add", "fused"])
        #expect(rows.map { $0[4] == "-" } == [false, false, true], "the fused add's GOP/s: \(rows.map { $0[4] })")
        // Without fusion: no field, no note.
        samples.fusion = nil
        let separate = ProfileAnalysis.report(samples, network: network, metrics: SyntheticRun.metrics, placement: "test")
        #expect(separate.layers.allSatisfy { $0.fused_with == nil } && !separate.notes.contains { $0.contains("residual adds") })
        #expect(try NetworkProfile.load(try JSONEncoder().encode(fused), file: "fused.json").layers[2].fused_with == "b")
    }

    @Test("the int8 GEMM kernel the runner used: int8_kernel and a note naming its weight range; none without int8 convolutions")
    func int8Kernel() throws {
        #expect(report.int8_kernel == nil && !report.notes.contains { $0.contains("int8 GEMM kernel") })
        for kernel in [Int8Kernel.maddubs, .sdot] {
            var samples = SyntheticRun.samples()
            samples.int8Kernel = kernel
            let r = ProfileAnalysis.report(samples, network: SyntheticRun.network, metrics: SyntheticRun.metrics, placement: "test")
            #expect(r.int8_kernel == kernel.rawValue)
            let range = kernel == .maddubs ? "-64...64" : "-127...127"
            #expect(r.notes.contains { $0.hasPrefix("int8 GEMM kernel \(kernel.rawValue)") && $0.contains(range) }, "\(r.notes)")
            #expect(try NetworkProfile.load(try JSONEncoder().encode(r), file: "int8.json").int8_kernel == kernel.rawValue)
        }
    }

    @Test("one event over threads: a multiplexed thread is scaled by enabled/running, a cluster share is not, no counter or a failed read gives no value")
    func combine() {
        let full = CounterDelta(count: 500, enabled: 1000, running: 1000)
        let quarter = CounterDelta(count: 1000, enabled: 1000, running: 250)
        #expect(LayerCount.combine([full, quarter], readFailed: false, scalesWithTime: true) == .scaled(4500))
        #expect(LayerCount.combine([full, quarter], readFailed: false, scalesWithTime: false) == .counted(1500))
        #expect(LayerCount.combine([full, full], readFailed: false, scalesWithTime: true) == .counted(1000))
        // A thread that did not run while the counters were enabled adds nothing.
        #expect(LayerCount.combine([full, CounterDelta(count: 0, enabled: 0, running: 0)], readFailed: false, scalesWithTime: true) == .counted(500))
        #expect(LayerCount.combine([full, CounterDelta(count: 0, enabled: 1000, running: 0)], readFailed: false, scalesWithTime: true) == .neverOnCounter)
        #expect(LayerCount.combine([full], readFailed: true, scalesWithTime: true) == .readFailed)
        #expect(LayerCount.scaled(7).value == 7 && LayerCount.readFailed.value == nil && LayerCount.neverOnCounter.value == nil)
    }

    @Test("an event bound to one cluster's PMU that ran part of the time is that cluster's share: not scaled, measured")
    func clusterShare() throws {
        var event = ResolvedEvent(name: "armv8_cortex_a53/event=0x11/", pmuName: "armv8_cortex_a53", type: .raw, config: 0x11)
        event.clusterBound = true
        var s = LayerSamples(events: [event], systemEvents: [], threads: 1, layers: 4, repeats: 1, warmup: 0, passes: [[0]])
        s.passRuns = [1]
        for i in 1...3 {
            s.windows[0][i] = Window(start: UInt64(i) * 1000, end: UInt64(i + 1) * 1000)
            s.counts[repeat: 0, layer: i, event: 0, thread: 0] = CounterDelta(count: 700, enabled: 1000, running: 400)
        }
        s.runWindows[0] = Window(start: 0, end: 5000)
        let f = try #require(ProfileAnalysis.report(s, network: SyntheticRun.network, metrics: [], placement: "t").layers[0].events[event.name])
        #expect(f.value == 700 && f.source == .measured, "\(f)")
        event.clusterBound = false
        s = LayerSamples(events: [event], systemEvents: [], threads: 1, layers: 4, repeats: 1, warmup: 0, passes: [[0]])
        s.passRuns = [1]
        s.counts[repeat: 0, layer: 1, event: 0, thread: 0] = CounterDelta(count: 700, enabled: 1000, running: 400)
        let g = try #require(ProfileAnalysis.report(s, network: SyntheticRun.network, metrics: [], placement: "t").layers[0].events[event.name])
        #expect(g.value == 1750 && g.source == .estimated, "\(g)")
    }

    @Test("a delta across a counter's wrap is the distance travelled")
    func wrappingDelta() {
        let d = CounterDelta(from: (UInt64.max - 9, 100, 90), to: (5, 300, 290))
        #expect(d == CounterDelta(count: 15, enabled: 200, running: 200))
    }

    @Test("medians: the middle value of an odd count, the mean of the two middle values of an even one")
    func medians() {
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.median([10, 1, 3, 2]) == 2.5)
        #expect(Statistics.median([4]) == 4)
        #expect(Statistics.median([Double]()) == nil)
        #expect(Statistics.mean([1, 2, 6]) == 3)
        // perf's +- : sample sd of (1, 2, 6) is sqrt(7); over sqrt(3), as a percentage of 3.
        let rse = try! #require(Statistics.relativeStandardErrorPercent([1, 2, 6]))
        #expect(abs(rse - 100 * (7.0 / 3).squareRoot() / 3) < 1e-12)
        #expect(Statistics.relativeStandardErrorPercent([5]) == nil)
    }

    @Test("layer times: the median of 1, 2, 3 and 10 ms is 2.5 ms; fastest and slowest kept; GOP/s from it; images/s from the median run")
    func times() throws {
        let a = try #require(report.layers.first)
        #expect(report.layers.map(\.name) == ["a", "b", "prob"])
        #expect(abs(a.time_s - 0.0025) < 1e-12 && abs(a.time_min_s - 0.001) < 1e-12 && abs(a.time_max_s - 0.010) < 1e-12)
        let ops = SyntheticRun.network.costs()[1].ops
        #expect(abs(a.gops - Double(ops) / 0.0025 / 1e9) < 1e-9)
        // Runs of 10, 20, 30, 40 ms: median 25 ms, 40 images/s.
        #expect(abs(report.throughput_ips - 40) < 1e-9)
        #expect(report.repeats == 4 && report.threads == 2 && report.warmup == 1)
    }

    @Test("events: summed over threads, the median over repeats, estimated when a repeat was scaled")
    func events() throws {
        let a = try #require(report.layers.first)
        let refill = try #require(a.events[SyntheticRun.spec("L2D_CACHE_REFILL")])
        // 200 (100 + 50 x 1000/500), 300, 220, 180: median 210.
        #expect(refill.value == 210 && refill.source == .estimated && refill.detail?.contains("scaled for multiplexing") == true, "\(refill)")
        let wb = try #require(a.events[SyntheticRun.spec("L2D_CACHE_WB")])
        #expect(wb.value == 20 && wb.source == .measured)
        #expect(a.events["task-clock"]?.value == 3_000_000)
    }

    @Test("metrics from the formulas by their names: IPC 6000/4000, DRAM bytes (210 + 20) x 64, OI_e = ops / DRAM bytes")
    func metrics() throws {
        let a = try #require(report.layers.first)
        #expect(a.metrics["cycles"]?.value == 4000)
        #expect(a.metrics["instructions"]?.value == 6000)
        #expect(a.metrics["ipc"]?.value == 1.5)
        #expect(a.metrics["l2_refills"]?.value == 210)
        let bytes = (a.metrics["dram_read_bytes"]?.value ?? 0, a.metrics["dram_write_bytes"]?.value ?? 0)
        #expect(bytes == (210 * 64, 20 * 64), "\(String(format: "%.17g %.17g", bytes.0, bytes.1))")
        #expect(a.metrics["dram_write_bytes"]?.value == 1280.0)
        #expect(a.metrics["dram_bytes"]?.value == 14_720.0)
        let ops = Double(SyntheticRun.network.costs()[1].ops)
        #expect(a.oi_empirical.value == ops / (230 * 64) && a.oi_empirical.source == .measured)
        // The evaluation on its own: values keyed by spec, formulas by name.
        let direct = ProfileAnalysis.evaluate(SyntheticRun.metrics, events: [SyntheticRun.spec("CPU_CYCLES"): 10, SyntheticRun.spec("INST_RETIRED"): 25])
        #expect(direct.values["ipc"] == 2.5)
        #expect(direct.figures["dram_bytes"]?.value == nil && direct.figures["dram_bytes"]?.source == .unavailable)
    }

    @Test("no counter in one repeat, or a failed read, leaves the figure unavailable with the reason, and the metrics that need it too")
    func unavailable() throws {
        let b = report.layers[1], prob = report.layers[2]
        let cycles = try #require(b.events[SyntheticRun.spec("CPU_CYCLES")])
        #expect(cycles.value == nil && cycles.source == .unavailable && cycles.detail?.contains("never got onto a counter") == true)
        #expect(b.metrics["ipc"]?.value == nil && b.metrics["ipc"]?.detail?.contains("was not counted") == true)
        #expect(b.metrics["instructions"]?.value == 6000)
        #expect(prob.events["task-clock"]?.value == nil && prob.events["task-clock"]?.detail?.contains("read of its counters failed") == true)
        #expect(prob.oi_empirical.value == nil)
    }

    @Test("passes: events of an unfinished pass come from its repeats; one never started is unavailable; the note says so")
    func passes() throws {
        let split = [[0, 1, 2], [0, 3, 4]]
        let partial = ProfileAnalysis.report(SyntheticRun.samples(passes: split, passRuns: [4, 2]), network: SyntheticRun.network, metrics: SyntheticRun.metrics, placement: "t")
        #expect(partial.layers[0].metrics["ipc"]?.value == 1.5)
        #expect(partial.notes.contains { $0.contains("passes finished 4, 2 repeats") })
        let none = ProfileAnalysis.report(SyntheticRun.samples(passes: split, passRuns: [4, 0]), network: SyntheticRun.network, metrics: SyntheticRun.metrics, placement: "t")
        let cycles = try #require(none.layers[0].events[SyntheticRun.spec("CPU_CYCLES")])
        #expect(cycles.value == nil && cycles.detail == "interrupted before pass 2 of 2, which counts it")
        #expect(none.layers[0].events[SyntheticRun.spec("L2D_CACHE_REFILL")]?.value == 210)
        #expect(none.last_run[0].per_thread[0][SyntheticRun.spec("CPU_CYCLES")] == nil)
        let nothing = ProfileAnalysis.report(SyntheticRun.samples(passRuns: [0]), network: SyntheticRun.network, metrics: [], placement: "t")
        #expect(nothing.layers.isEmpty && nothing.repeats == 0 && nothing.notes.contains("no repeat completed: nothing was measured"))
    }

    @Test("the trace: the last repeat's layer windows from the start of its run, each thread's raw count")
    func lastRun() throws {
        let runs = report.last_run
        #expect(runs.map(\.layer) == ["a", "b", "prob"])
        // Repeat 3: layer "a" from 1 ms to 11 ms, "b" 11 to 13 ms.
        #expect(abs(runs[0].start_s - 0.001) < 1e-12 && abs(runs[0].end_s - 0.011) < 1e-12)
        #expect(abs(runs[1].start_s - 0.011) < 1e-12 && abs(runs[1].end_s - 0.013) < 1e-12)
        #expect(runs[0].per_thread.count == 2)
        #expect(runs[0].per_thread[0][SyntheticRun.spec("L2D_CACHE_REFILL")] == 80)
        #expect(runs[0].per_thread[1][SyntheticRun.spec("CPU_CYCLES")] == 3000)
    }

    @Test("roofline placement on both sides of the ridge, from OI_e when measured, else OI_t")
    func roofline() throws {
        let r = Roofline(peak_gflops: 100, dram_gbs: 10, source: "test")
        #expect(r.ridge == 10)
        let low = r.place(measured: 2, theoretical: 50)
        #expect(low.attainable == 20 && low.bound == .memory && low.basis == .empirical)
        let high = r.place(measured: nil, theoretical: 50)
        #expect(high.attainable == 100 && high.bound == .compute && high.basis == .theoretical)
        #expect(r.place(measured: 10, theoretical: 1).bound == .compute)
        var placed = report
        placed.place(under: r)
        let a = placed.layers[0]
        let oi = try #require(a.oi_empirical.value)
        #expect(a.attainable_gops.value == min(100, oi * 10) && a.attainable_gops.source == .estimated)
        #expect(a.bound == (oi < 10 ? .memory : .compute) && a.bound_basis == .empirical)
        #expect(placed.layers[2].bound_basis == .theoretical && placed.layers[2].attainable_gops.detail?.contains("oi_theoretical") == true)
    }
}
