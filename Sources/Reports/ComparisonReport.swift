import Foundation
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
        public let metric: String?
        public let layers: [ProfileComparison.Row]
    }

    /// The JSON document, pretty-printed with sorted keys, ending in a newline.
    public static func json(_ c: ProfileComparison, aName: String, bName: String) throws -> String {
        let doc = Document(a: aName, b: bName, a_throughput_ips: c.a.throughput_ips, b_throughput_ips: c.b.throughput_ips,
                           throughput_ratio: c.throughputRatio, metric: c.metric, layers: c.rows)
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
        for (label, name, p) in [("A", aName, c.a), ("B", bName, c.b)] {
            out += "\(label): \(name): \(p.network) on \(p.placement), \(p.threads) thread(s), \(String(format: "%.2f", p.throughput_ips)) images/s\n"
        }
        out += "images/s B/A: \(r(c.throughputRatio))\n\n"
        var header = "layer".rightPad(40) + "A ms".leftPad(10) + "B ms".leftPad(10) + "B/A".leftPad(8)
        if let metric = c.metric { header += ("A " + metric).leftPad(16) + ("B " + metric).leftPad(16) + "B/A".leftPad(8) }
        out += header + "\n"
        for row in c.rows {
            var line = String(row.layer.suffix(39)).rightPad(40) + ms(row.a_time_s).leftPad(10) + ms(row.b_time_s).leftPad(10) + r(row.time_ratio).leftPad(8)
            if c.metric != nil { line += m(row.a_metric).leftPad(16) + m(row.b_metric).leftPad(16) + r(row.metric_ratio).leftPad(8) }
            out += line + "\n"
        }
        return out
    }
}
