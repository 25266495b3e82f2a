import Foundation
import Networks
import ProfileModel
import Profiler

/// Renderings of a `NetworkProfile`.
public enum ProfileReport {
    /// The metrics the table shows, in order.
    public static let columns = ["cycles", "ipc", "l1d_refills", "l2_refills", "dram_bytes"]

    /// The per-layer table `profile` prints: times, GOP/s, intensities, the main metrics, the bound
    /// and the energy, then why each n/a is one, the roofline and the notes.
    public static func table(_ p: NetworkProfile) -> String {
        let quantized = (p.precision ?? .fp32) != .fp32
        let title = p.network + (quantized ? " (\(p.precision!.rawValue))" : "")
        var s = String(format: "%@ on %@, %d thread(s), %d repeats: %.2f images/s\n\n", title, p.placement, p.threads, p.repeats, p.throughput_ips)
        s += "layer".rightPad(40) + "kind".rightPad(9) + (quantized ? "prec".rightPad(6) : "") + "MMAC".leftPad(8) + "ms".leftPad(9) + "GOP/s".leftPad(8) + "OI_t".leftPad(7) +
            "task-clk ms".leftPad(12) + "faults".leftPad(8) + columns.map { $0.leftPad(12) }.joined() + "OI_e".leftPad(7) + "bound".leftPad(10) + "mJ".leftPad(9) + "\n"
        var reasons: [String: [String]] = [:]
        func cell(_ f: Figure?, _ name: String, scale: Double = 1, format: String = "%.0f") -> String {
            guard let f else { return "-" }
            guard let v = f.value else { reasons[f.detail ?? "unavailable", default: []].append(name); return "n/a" }
            return String(format: format, v * scale)
        }
        for l in p.layers {
            var row = String(l.name.suffix(39)).rightPad(40) + kindLabel(l).rightPad(9) + (quantized ? precisionLabel(l.precision).rightPad(6) : "") + String(format: "%8.1f%9.3f", Double(l.macs) / 1e6, l.time_s * 1e3)
                + (isFusedAdd(l) ? "-".leftPad(8) : String(format: "%8.1f", l.gops)) + String(format: "%7.2f", l.oi_theoretical)
            row += cell(l.events["task-clock"], "task-clock", scale: 1e-6, format: "%.3f").leftPad(12)
            row += cell(l.events["page-faults"], "page-faults").leftPad(8)
            for c in columns { row += cell(l.metrics[c], c, format: c == "ipc" ? "%.2f" : "%.0f").leftPad(12) }
            row += cell(l.oi_empirical, "OI_e", format: "%.2f").leftPad(7)
            row += (l.bound.map { $0.rawValue + (l.bound_basis == .theoretical ? "*" : "") } ?? "-").leftPad(10)
            row += cell(l.energy_j, "mJ", scale: 1e3, format: "%.3f").leftPad(9)
            s += row + "\n"
        }
        if quantized { s += quantizationSummary(p) }
        if let e = p.energy {
            func v(_ f: Figure, _ fmt: String) -> String { f.value.map { String(format: fmt, $0) } ?? "n/a (\(f.detail ?? ""))" }
            s += "\nEnergy (\(e.sensors.joined(separator: " + "))): mean \(v(e.mean_watts, "%.3f W")), idle \(v(e.idle_watts, "%.3f W"))\n"
            s += "  joules per image: \(v(e.joules_per_image, "%.4f J")) (with idle power), \(v(e.joules_per_image_above_idle, "%.4f J")) (above idle)\n"
            s += "  images/s per watt: \(v(e.images_per_second_per_watt, "%.2f")) (with idle power), \(v(e.images_per_second_per_watt_above_idle, "%.2f")) (above idle)\n"
        }
        if let r = p.roofline {
            s += String(format: "\nRoofline: peak %.1f GFLOP/s, DRAM %.1f GB/s, ridge %.2f ops/byte (%@). bound*: from OI_t, DRAM bytes not measured.\n",
                        r.peak_gflops, r.dram_gbs, r.ridge, r.source)
        }
        s += "\nOI_t: ops per byte the layer must move (cost model, docs/cost-model.md). n/a: not measured, for these reasons:\n"
        for (why, names) in reasons.sorted(by: { $0.key < $1.key }) {
            s += "  \(Array(Set(names)).sorted().joined(separator: ", ")): \(why)\n"
        }
        for n in p.notes { s += " note: \(n)\n" }
        return s
    }

    /// A layer's kind as the table's column shows it: a convolution that did the add after it is
    /// conv+add, that add is fused.
    static func kindLabel(_ l: LayerProfile) -> String {
        guard l.fused_with != nil else { return l.kind }
        return isFusedAdd(l) ? "fused" : l.kind + "+add"
    }

    /// An add the convolution before it did: its row times an empty layer boundary, so the table
    /// gives it no GOP/s ("-", not its 0).
    static func isFusedAdd(_ l: LayerProfile) -> Bool { l.fused_with != nil && l.kind == "add" }

    /// A layer's precision as the table's column shows it: fp32, int8, i8w (int8 weights).
    static func precisionLabel(_ p: Precision?) -> String {
        switch p ?? .fp32 {
        case .fp32: "fp32"
        case .int8: "int8"
        case .int8Weights: "i8w"
        }
    }

    /// A quantized profile's lines under the table: its weights, the quantize and dequantize
    /// layers' share of the layers' time, the accuracy against fp32.
    static func quantizationSummary(_ p: NetworkProfile) -> String {
        var s = "\n"
        if let w = p.weight_bytes { s += String(format: "Weights: %.2f MiB as stored (int8 layers: 1 byte a weight, 4 a bias and a scale).\n", Double(w) / 1048576) }
        let total = p.layers.reduce(0.0) { $0 + $1.time_s }
        let conversions = p.layers.filter { $0.kind == "quantize" || $0.kind == "dequantize" }
        let t = conversions.reduce(0.0) { $0 + $1.time_s }
        s += String(format: "Quantize/dequantize layers: %d, %.3f ms of %.3f ms (%.1f %%) of the layers' median times.\n",
                    conversions.count, t * 1e3, total * 1e3, total > 0 ? 100 * t / total : 0)
        if let a = p.accuracy {
            s += String(format: "Accuracy against fp32 on %d seeded images: top-1 agreement %.1f %%, fp32's top-1 in the top 5 %.1f %%, logit cosine mean %.5f (least %.5f), max logit error %.2g of the largest.\n",
                        a.images, a.top1_agreement * 100, a.top5_contains_top1 * 100, a.mean_cosine, a.min_cosine, a.max_relative_logit_error)
        } else {
            s += "Accuracy against fp32: not measured (--accuracy-images 0).\n"
        }
        return s
    }

    /// One line per layer, every event and metric a column (`event:NAME`, `metric:NAME`); empty
    /// fields where a figure has no value.
    public static func csv(_ p: NetworkProfile) -> String {
        let eventNames = Array(Set(p.layers.flatMap { $0.events.keys })).sorted()
        let metricNames = Array(Set(p.layers.flatMap { $0.metrics.keys })).sorted()
        var s = (["layer", "kind", "precision", "output", "macs", "ops", "min_bytes", "param_bytes", "time_s", "time_min_s", "time_max_s", "gops", "oi_theoretical", "oi_empirical",
                  "attainable_gops", "bound", "bound_basis", "energy_j"] +
                 eventNames.map { "event:\($0)" } + metricNames.map { "metric:\($0)" }).map(CSV.field).joined(separator: ",") + "\n"
        func v(_ f: Figure?) -> String { f?.value.map { String($0) } ?? "" }
        for l in p.layers {
            var f = [l.name, l.kind, (l.precision ?? .fp32).rawValue, l.output.description, String(l.macs), String(l.ops),
                     l.min_bytes.map { String($0) } ?? "", l.param_bytes.map { String($0) } ?? "", String(l.time_s), String(l.time_min_s),
                     String(l.time_max_s), String(l.gops), String(l.oi_theoretical), v(l.oi_empirical), v(l.attainable_gops),
                     l.bound?.rawValue ?? "", l.bound_basis?.rawValue ?? "", v(l.energy_j)]
            f += eventNames.map { v(l.events[$0]) } + metricNames.map { v(l.metrics[$0]) }
            s += CSV.row(f)
        }
        return s
    }
}
