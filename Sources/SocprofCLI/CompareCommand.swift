import ArgumentParser
import Counters
import Foundation
import Platform
import ProfileModel
import Profiler

/// `socprof compare A.json B.json`: two profile reports side by side, with ratios.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Two `profile --format json` reports side by side per layer, with B/A ratios (big vs LITTLE, fp32 vs int8, before vs after).",
        discussion: "Layers are matched by name; a layer only one report has is listed with the other side empty."
    )

    @Argument(help: ArgumentHelp("Report A.", valueName: "a.json")) var a: String
    @Argument(help: ArgumentHelp("Report B.", valueName: "b.json")) var b: String
    @Option(help: ArgumentHelp("A metric to compare besides time (e.g. cycles, dram_bytes).", valueName: "name")) var metric: String?
    @Flag(help: "Print JSON.") var json = false

    static func load(_ path: String) throws -> NetworkProfile {
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("\(path): cannot read the file") }
        do { return try NetworkProfile.load(data, file: path) } catch { throw fail(error.description) }
    }

    struct Row: Encodable {
        let layer: String
        let a_time_s: Double?
        let b_time_s: Double?
        /// b / a of the time (below 1: B is faster).
        let time_ratio: Double?
        let a_metric: Double?
        let b_metric: Double?
        let metric_ratio: Double?
    }

    func run() throws {
        let pa = try Self.load(a), pb = try Self.load(b)
        let la = Dictionary(pa.layers.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let lb = Dictionary(pb.layers.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        var names = pa.layers.map(\.name)
        for l in pb.layers where la[l.name] == nil { names.append(l.name) }
        func ratio(_ x: Double?, _ y: Double?) -> Double? { guard let x, let y, x > 0 else { return nil }; return y / x }
        if let metric {
            let known = Set(pa.layers.flatMap { Array($0.metrics.keys) + Array($0.events.keys) } + pb.layers.flatMap { Array($0.metrics.keys) + Array($0.events.keys) })
            guard known.contains(metric) else {
                let near = Suggestions.closest(to: metric, in: known.sorted())
                throw fail("--metric '\(metric)' is in neither report; they have \(known.sorted().joined(separator: ", "))" + (near.isEmpty ? "" : "; did you mean '\(near[0])'?"))
            }
        }
        let rows = names.map { n -> Row in
            let x = la[n], y = lb[n]
            let ma = metric.flatMap { x?.metrics[$0]?.value ?? x?.events[$0]?.value }
            let mb = metric.flatMap { y?.metrics[$0]?.value ?? y?.events[$0]?.value }
            return Row(layer: n, a_time_s: x?.time_s, b_time_s: y?.time_s, time_ratio: ratio(x?.time_s, y?.time_s),
                       a_metric: ma, b_metric: mb, metric_ratio: ratio(ma, mb))
        }
        let throughputRatio = pa.throughput_ips > 0 ? pb.throughput_ips / pa.throughput_ips : nil
        if json {
            struct Doc: Encodable {
                let a: String, b: String, a_throughput_ips: Double, b_throughput_ips: Double, throughput_ratio: Double?
                let metric: String?, layers: [Row]
            }
            let enc = ReportJSON.encoder()
            print(String(decoding: try enc.encode(Doc(a: a, b: b, a_throughput_ips: pa.throughput_ips, b_throughput_ips: pb.throughput_ips,
                                                       throughput_ratio: throughputRatio, metric: metric, layers: rows)), as: UTF8.self))
            return
        }
        func ms(_ v: Double?) -> String { v.map { String(format: "%.3f", $0 * 1e3) } ?? "-" }
        func r(_ v: Double?) -> String { v.map { String(format: "%.2fx", $0) } ?? "-" }
        func m(_ v: Double?) -> String { v.map { String(format: "%.4g", $0) } ?? "n/a" }
        print("A: \(a): \(pa.network) on \(pa.placement), \(pa.threads) thread(s), \(String(format: "%.2f", pa.throughput_ips)) images/s")
        print("B: \(b): \(pb.network) on \(pb.placement), \(pb.threads) thread(s), \(String(format: "%.2f", pb.throughput_ips)) images/s")
        print("images/s B/A: \(r(throughputRatio))\n")
        var header = "layer".rightPad(40) + "A ms".leftPad(10) + "B ms".leftPad(10) + "B/A".leftPad(8)
        if let metric { header += ("A " + metric).leftPad(16) + ("B " + metric).leftPad(16) + "B/A".leftPad(8) }
        print(header)
        for row in rows {
            var line = String(row.layer.suffix(39)).rightPad(40) + ms(row.a_time_s).leftPad(10) + ms(row.b_time_s).leftPad(10) + r(row.time_ratio).leftPad(8)
            if metric != nil { line += m(row.a_metric).leftPad(16) + m(row.b_metric).leftPad(16) + r(row.metric_ratio).leftPad(8) }
            print(line)
        }
    }
}
