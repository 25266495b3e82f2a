import Counters
import Foundation
import Kernels
import Networks
import Platform
import ProfileModel

/// Turns what a profiling run recorded (`LayerSamples`) into the report (`NetworkProfile`):
/// per-layer counts summed over threads and scaled by the one rule in `LayerCount.combine`,
/// medians over repeats, the platform's metrics, OI_e and the last repeat for the trace. Pure:
/// no counters, no clock, no network run, so every figure can be checked against hand values.
public enum ProfileAnalysis {
    /// The report of `samples`, recorded running `network` on `placement`; `metrics` are the
    /// platform's formulas for the cluster.
    public static func report(_ samples: LayerSamples, network: Network, metrics: [ResolvedMetric], placement: String) -> NetworkProfile {
        var notes = samples.notes
        let completed = samples.completed
        let fewest = samples.passRuns.min() ?? 0
        if fewest < samples.repeats {
            notes.append("stopped after \(completed) of \(samples.repeats) repeats" +
                         (samples.passes.count > 1 ? " (passes finished \(samples.passRuns.map(String.init).joined(separator: ", ")) repeats)" : "") +
                         ": interrupted; the figures cover the completed ones")
        }
        guard completed > 0 else {
            notes.append("no repeat completed: nothing was measured")
            return NetworkProfile(schema: "socprof.profile", schema_version: 1, network: network.name, placement: placement, threads: samples.threads,
                                  repeats: 0, warmup: samples.warmup, throughput_ips: 0, layers: [], notes: notes)
        }
        let costs = network.costs()
        // The runner that recorded the samples chose by the same rules, policy and layout.
        let algorithms = LayoutPlan(network: network).algorithms
        let dram = metrics.first { $0.metric.name == "dram_bytes" }
        var layers: [LayerProfile] = []
        for i in 1..<samples.layers {
            let ts = (0..<completed).map { samples.windows[$0][i].seconds }
            let t = Statistics.median(ts) ?? 0
            let (eventFigures, values, whyNot) = eventFigures(samples, layer: i)
            let (metricFigures, metricValues) = evaluate(metrics, events: values, whyNot: whyNot)
            let ops = costs[i].ops
            let oiE: Figure
            if let bytes = metricValues["dram_bytes"], bytes > 0 {
                oiE = .measured(Double(ops) / bytes, "ops / dram_bytes (\(dram?.formula?.text ?? ""))")
            } else {
                oiE = .unavailable(metricFigures["dram_bytes"]?.detail ?? "DRAM bytes not measured")
            }
            let layer = network.layers[i]
            let fusedWith = samples.fusion.flatMap { $0.add[i] ?? $0.doneBy[i] }.map { network.layers[$0].name }
            // An add its convolution did: its interval is an empty layer boundary, so no rate.
            let doneElsewhere = samples.fusion?.doneBy[i] != nil
            layers.append(LayerProfile(name: layer.name, kind: layer.kind.name, precision: layer.precision, output: layer.output,
                                       macs: costs[i].macs, ops: ops, min_bytes: costs[i].minBytes, param_bytes: costs[i].paramBytes, time_s: t, time_min_s: ts.min() ?? 0, time_max_s: ts.max() ?? 0,
                                       gops: t > 0 && !doneElsewhere ? Double(ops) / t / 1e9 : 0, oi_theoretical: costs[i].oiTheoretical,
                                       oi_empirical: oiE, events: eventFigures, metrics: metricFigures,
                                       algorithm: algorithms[i]?.rawValue, fused_with: fusedWith))
        }
        if let fused = samples.fusion?.count, fused > 0 {
            notes.append("\(fused) residual adds ran inside the convolution before each (conv+add rows): their time and counts are in that convolution's row; the add's row (fused) measures only the layer boundary")
        }
        if let kernel = samples.int8Kernel { notes.append(kernel.weightsSummary) }
        let total = Statistics.median(samples.runWindows.prefix(completed).map(\.seconds)) ?? 0
        var result = NetworkProfile(schema: "socprof.profile", schema_version: 1, network: network.name, placement: placement, threads: samples.threads,
                                    repeats: completed, warmup: samples.warmup, throughput_ips: total > 0 ? 1 / total : 0, layers: layers, notes: notes)
        result.last_run = lastRun(samples, network: network)
        result.precision = network.precision
        result.weight_bytes = network.totalParamBytes
        result.int8_kernel = samples.int8Kernel?.rawValue
        return result
    }

    /// Layer `i`'s events: each one's figure by name, the values counted (by the spec a formula
    /// names them with: the event's name) and why each missing one is missing.
    static func eventFigures(_ s: LayerSamples, layer i: Int) -> (figures: [String: Figure], values: [String: Double], whyNot: [String: String]) {
        var figures: [String: Figure] = [:], values: [String: Double] = [:], whyNot: [String: String] = [:]
        for (e, ev) in s.events.enumerated() {
            if let failure = s.failures[e] {
                figures[ev.name] = .unavailable(failure.explanation)
                whyNot[ev.name] = failure.explanation
                continue
            }
            let pass = s.pass(of: e)
            let runs = s.passRuns[pass]
            guard runs > 0 else {
                let why = "interrupted before pass \(pass + 1) of \(s.passes.count), which counts it"
                figures[ev.name] = .unavailable(why)
                whyNot[ev.name] = why
                continue
            }
            let counts = (0..<runs).map { r in
                LayerCount.combine(s.counts.threads(repeat: r, layer: i, event: e), readFailed: s.counts.readFailed(repeat: r, layer: i), scalesWithTime: !ev.clusterBound)
            }
            let detail = "\(ev.pmuName ?? "core")/config=0x\(String(ev.config, radix: 16)), summed over \(s.threads) thread(s)"
            if let f = figure(counts, scale: ev.scale, detail: detail, counterWord: "its counters", neverWord: "its group never got onto a counter in this layer (the PMU was busy; see --allow-multiplexing)") {
                figures[ev.name] = f
                if let v = f.value { values[ev.name] = v } else { whyNot[ev.name] = f.detail }
            }
        }
        for (k, ev) in s.systemEvents.enumerated() {
            if let failure = s.systemFailures[k] {
                figures[ev.name] = .unavailable(failure.explanation)
                whyNot[ev.name] = failure.explanation
                continue
            }
            let counts = (0..<s.completed).map { r in
                LayerCount.combine(s.systemCounts.threads(repeat: r, layer: i, event: k), readFailed: s.systemCounts.readFailed(repeat: r, layer: i), scalesWithTime: true)
            }
            let detail = "\(ev.pmuName ?? "core")/config=0x\(String(ev.config, radix: 16)), system-wide on cpu\(ev.cpus?.first ?? 0): everything in the system during the layer"
            if let f = figure(counts, scale: ev.scale, detail: detail, counterWord: "its counter", neverWord: "it never got onto a counter in this layer (the PMU was busy)") {
                figures[ev.name] = f
                if let v = f.value { values[ev.name] = v } else { whyNot[ev.name] = f.detail }
            }
        }
        return (figures, values, whyNot)
    }

    /// One event's figure from its count in each repeat: unavailable when any repeat's read failed
    /// or never got a counter, else the median times the unit `scale`, an estimate when any repeat
    /// was scaled for multiplexing.
    static func figure(_ counts: [LayerCount], scale: Double, detail: String, counterWord: String, neverWord: String) -> Figure? {
        guard let worst = counts.max(by: { $0.severity < $1.severity }) else { return nil }
        switch worst {
        case .readFailed: return .unavailable("a read of \(counterWord) failed in this layer")
        case .neverOnCounter: return .unavailable(neverWord)
        case .scaled, .counted:
            let v = (Statistics.median(counts.compactMap(\.value)) ?? 0) * scale
            if case .scaled = worst { return .estimated(v, detail + ", scaled for multiplexing") }
            return .measured(v, detail)
        }
    }

    /// The platform's metrics from one layer's event values (keyed by event name), in catalog order
    /// so that a metric can use the ones before it. A formula names its events by `Event.name`;
    /// they were counted, and are looked up, by `Event.spec`.
    public static func evaluate(_ metrics: [ResolvedMetric], events values: [String: Double], whyNot: [String: String] = [:]) -> (figures: [String: Figure], values: [String: Double]) {
        var figures: [String: Figure] = [:], computed: [String: Double] = [:]
        for m in metrics {
            guard let f = m.formula else { figures[m.metric.name] = .unavailable(m.reason ?? "no formula"); continue }
            let inputs = Dictionary(m.events.compactMap { e in values[e.spec].map { (e.name, $0) } }, uniquingKeysWith: { a, _ in a })
            if let v = m.evaluate(events: inputs, metrics: computed) {
                computed[m.metric.name] = v
                let scope = f.scope == "system" ? ", counted system-wide" : ""
                figures[m.metric.name] = .measured(v, f.text + (f.note.map { " (\($0))" } ?? "") + scope)
            } else {
                let reason = m.events.lazy.compactMap { whyNot[$0.spec] }.first.map { ": \($0)" } ?? ""
                figures[m.metric.name] = .unavailable("an event of \(f.text) was not counted" + reason)
            }
        }
        return (figures, computed)
    }

    /// The last completed repeat layer by layer: when each layer ran and each thread's raw count
    /// (unit-scaled, not multiplex-scaled) of every event that opened, from the last repeat of the
    /// event's pass.
    static func lastRun(_ s: LayerSamples, network: Network) -> [LayerRun] {
        guard s.completed > 0 else { return [] }
        let last = s.completed - 1
        let start = s.runWindows[last].start
        return (1..<s.layers).map { i in
            let w = s.windows[last][i]
            let begin = Double(w.start &- start) / 1e9
            return LayerRun(layer: network.layers[i].name, start_s: begin, end_s: begin + w.seconds,
                            per_thread: (0..<s.threads).map { t in
                                var m: [String: Double] = [:]
                                for (e, ev) in s.events.enumerated() where s.failures[e] == nil {
                                    let runs = s.passRuns[s.pass(of: e)]
                                    guard runs > 0 else { continue }
                                    m[ev.name] = Double(s.counts[repeat: runs - 1, layer: i, event: e, thread: t].count) * ev.scale
                                }
                                return m
                            })
        }
    }
}
