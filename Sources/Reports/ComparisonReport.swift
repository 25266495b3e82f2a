import Foundation
import Kernels
import Networks
import Platform
import ProfileModel
import Profiler

/// `socprof compare`'s renderings: the JSON document and the text table.
public enum ComparisonReport {
    /// The JSON document (`a` and `b` are the reports' file names).
    public struct Document: Encodable {
        public let a: String, b: String
        /// Images/s of each report, and B/A.
        public let a_throughput_ips: Double, b_throughput_ips: Double, throughput_ratio: Double?
        /// Each report's precision (fp32 for reports written before precisions), weight bytes
        /// (nil where the report has none) and B/A of them.
        public let a_precision: Precision, b_precision: Precision
        public let a_weight_bytes: Int64?, b_weight_bytes: Int64?, weight_bytes_ratio: Double?
        /// Each report's int8 GEMM kernel (`NetworkProfile.int8_kernel`; nil without int8
        /// convolutions): with `maddubs` the weights are 7-bit, so two int8 reports from different
        /// CPUs may differ in their numbers as well as their speed.
        public let a_int8_kernel: String?, b_int8_kernel: String?
        public let metric: String?
        public let layers: [ProfileComparison.Row]
        /// Time by layer kind on each side (`ProfileComparison.kinds`).
        public let kinds: [ProfileComparison.KindRow]
    }

    static func weightRatio(_ c: ProfileComparison) -> Double? {
        guard let a = c.a.weight_bytes, let b = c.b.weight_bytes, a > 0 else { return nil }
        return Double(b) / Double(a)
    }

    /// The JSON document, pretty-printed with sorted keys, ending in a newline.
    public static func json(_ c: ProfileComparison, aName: String, bName: String) throws -> String {
        let doc = Document(a: aName, b: bName, a_throughput_ips: c.a.throughput_ips, b_throughput_ips: c.b.throughput_ips,
                           throughput_ratio: c.throughputRatio, a_precision: c.a.precision ?? .fp32, b_precision: c.b.precision ?? .fp32,
                           a_weight_bytes: c.a.weight_bytes, b_weight_bytes: c.b.weight_bytes, weight_bytes_ratio: weightRatio(c),
                           a_int8_kernel: c.a.int8_kernel, b_int8_kernel: c.b.int8_kernel, metric: c.metric, layers: c.rows, kinds: c.kinds)
        return String(decoding: try ReportJSON.encoder().encode(doc), as: UTF8.self) + "\n"
    }

    /// Both reports' network, placement and images/s, then a line per layer: times in ms and
    /// B/A, and the metric's values and B/A when one was asked for. "-" where a side has no
    /// layer, "n/a" where it has no value of the metric.
    public static func text(_ c: ProfileComparison, aName: String, bName: String) -> String {
        func ms(_ v: Double?) -> String { v.map { String(format: "%.3f", $0 * 1e3) } ?? "-" }
        func r(_ v: Double?) -> String { v.map { String(format: "%.2fx", $0) } ?? "-" }
        func m(_ v: Double?) -> String { v.map { String(format: "%.4g", $0) } ?? "n/a" }
        var out = ""
        let precisions = c.a.precision != nil || c.b.precision != nil
        for (label, name, p) in [("A", aName, c.a), ("B", bName, c.b)] {
            let precision = precisions ? " (\((p.precision ?? .fp32).rawValue))" : ""
            out += "\(label): \(name): \(p.network)\(precision) on \(p.placement), \(p.threads) thread(s), \(String(format: "%.2f", p.throughput_ips)) images/s\n"
        }
        out += "images/s B/A: \(r(c.throughputRatio))\n"
        if let wa = c.a.weight_bytes, let wb = c.b.weight_bytes {
            out += String(format: "weights: A %.2f MiB, B %.2f MiB, B/A %@\n", Double(wa) / 1048576, Double(wb) / 1048576, r(weightRatio(c)))
        }
        if c.a.int8_kernel != nil || c.b.int8_kernel != nil {
            // Each kernel with the range it gives the convolutions' weights (Int8Kernel.weightLimit).
            func kernel(_ name: String?) -> String {
                guard let name else { return "-" }
                guard let limit = Int8Kernel(rawValue: name)?.weightLimit else { return name }
                return "\(name) (weights in -\(limit)...\(limit))"
            }
            out += "int8 GEMM kernel: A \(kernel(c.a.int8_kernel)), B \(kernel(c.b.int8_kernel))\n"
        }
        for (label, p) in [("A", c.a), ("B", c.b)] {
            if let a = p.accuracy {
                out += String(format: "%@ against fp32 on %d images: top-1 agreement %.1f %%, logit cosine mean %.5f\n", label, a.images, a.top1_agreement * 100, a.mean_cosine)
            }
        }
        out += "\n"
        func prec(_ p: Precision?) -> String { p.map { ProfileReport.precisionLabel($0) } ?? "-" }
        var header = "layer".rightPad(40) + (precisions ? "A/B prec".rightPad(11) : "") + "A ms".leftPad(10) + "B ms".leftPad(10) + "B/A".leftPad(8)
        if let metric = c.metric { header += ("A " + metric).leftPad(16) + ("B " + metric).leftPad(16) + "B/A".leftPad(8) }
        out += header + "\n"
        for row in c.rows {
            var line = String(row.layer.suffix(39)).rightPad(40) + (precisions ? (prec(row.a_precision) + "/" + prec(row.b_precision)).rightPad(11) : "") + ms(row.a_time_s).leftPad(10) + ms(row.b_time_s).leftPad(10) + r(row.time_ratio).leftPad(8)
            if c.metric != nil { line += m(row.a_metric).leftPad(16) + m(row.b_metric).leftPad(16) + r(row.metric_ratio).leftPad(8) }
            out += line + "\n"
        }
        out += "\nWhere the time went (sum of the layers' median times, by kind):\n"
        out += "kind".rightPad(14) + "A ms".leftPad(10) + "A %".leftPad(8) + "B ms".leftPad(10) + "B %".leftPad(8) + "B/A".leftPad(8) + "\n"
        for k in c.kinds {
            out += k.kind.rightPad(14) + ms(k.a_time_s).leftPad(10) + String(format: "%.1f", k.a_share * 100).leftPad(8) +
                ms(k.b_time_s).leftPad(10) + String(format: "%.1f", k.b_share * 100).leftPad(8) + r(k.time_ratio).leftPad(8) + "\n"
        }
        return out
    }
}
