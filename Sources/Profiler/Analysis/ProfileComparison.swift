import Counters
import Networks
import ProfileModel

/// Two profile reports side by side (`socprof compare`): layers matched by name, B/A ratios of
/// the time and, when asked, of one metric or event. Pure: the reports are already loaded.
public struct ProfileComparison: Sendable {
    /// One layer: both sides' values (nil where a report lacks the layer or the figure) and B/A.
    public struct Row: Codable, Sendable, Equatable {
        public let layer: String
        /// The layer's kind (A's, else B's) and each side's precision (nil where a side lacks the
        /// layer; fp32 for reports written before precisions).
        public let kind: String
        public let a_precision: Precision?
        public let b_precision: Precision?
        /// Median time per image, s.
        public let a_time_s: Double?
        public let b_time_s: Double?
        /// b / a of the time (below 1: B is faster); nil when a side is missing or A's is 0.
        public let time_ratio: Double?
        public let a_metric: Double?
        public let b_metric: Double?
        public let metric_ratio: Double?
    }

    public let a: NetworkProfile
    public let b: NetworkProfile
    /// The metric or event compared besides time, if any.
    public let metric: String?
    /// A's layers in A's order, each layer only B has just after the layer B runs before it (at
    /// the start when B runs it first).
    public let rows: [Row]

    /// The time of one kind of layer on each side: where the time went.
    public struct KindRow: Codable, Sendable, Equatable {
        public let kind: String
        /// Sum of the layers' median times, s; 0 where a side has no layer of the kind.
        public let a_time_s: Double
        public let b_time_s: Double
        /// Each side's share of its layers' summed time (0...1).
        public let a_share: Double
        public let b_share: Double
        /// b / a of the time; nil when A has none.
        public let time_ratio: Double?
    }

    /// Time by layer kind, kinds in order of first appearance (A's, then B's). The quantize and
    /// dequantize layers of a quantized report are kinds of their own: their share is what the
    /// conversions cost.
    public var kinds: [KindRow] {
        var order: [String] = []
        var ta: [String: Double] = [:], tb: [String: Double] = [:]
        for l in a.layers { if ta[l.kind] == nil && tb[l.kind] == nil { order.append(l.kind) }; ta[l.kind, default: 0] += l.time_s }
        for l in b.layers { if ta[l.kind] == nil && tb[l.kind] == nil { order.append(l.kind) }; tb[l.kind, default: 0] += l.time_s }
        let sa = a.layers.reduce(0) { $0 + $1.time_s }, sb = b.layers.reduce(0) { $0 + $1.time_s }
        return order.map { k in
            let x = ta[k] ?? 0, y = tb[k] ?? 0
            return KindRow(kind: k, a_time_s: x, b_time_s: y, a_share: sa > 0 ? x / sa : 0, b_share: sb > 0 ? y / sb : 0,
                           time_ratio: Self.ratio(x, y))
        }
    }

    /// Images/s of B over A's; nil when A's is 0.
    public var throughputRatio: Double? { Self.ratio(a.throughput_ips, b.throughput_ips) }

    /// Compares `b` with `a`. Throws when `metric` is in neither report's metrics or events.
    public init(a: NetworkProfile, b: NetworkProfile, metric: String? = nil) throws(ComparisonError) {
        if let metric {
            let known = Set([a, b].flatMap { $0.layers.flatMap { Array($0.metrics.keys) + Array($0.events.keys) } })
            guard known.contains(metric) else { throw ComparisonError(metric: metric, known: known.sorted()) }
        }
        let la = Dictionary(a.layers.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let lb = Dictionary(b.layers.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        // A's layers in A's order; a layer only B has (a quantize layer, say) just after the
        // layer B runs before it.
        var names = a.layers.map(\.name)
        var after = -1 // where B's previous layer is in `names`
        for l in b.layers {
            if la[l.name] != nil {
                after = names.firstIndex(of: l.name) ?? after
            } else {
                names.insert(l.name, at: after + 1)
                after += 1
            }
        }
        rows = names.map { n in
            let x = la[n], y = lb[n]
            let ma = metric.flatMap { x?.metrics[$0]?.value ?? x?.events[$0]?.value }
            let mb = metric.flatMap { y?.metrics[$0]?.value ?? y?.events[$0]?.value }
            return Row(layer: n, kind: x?.kind ?? y?.kind ?? "", a_precision: x.map { $0.precision ?? .fp32 },
                       b_precision: y.map { $0.precision ?? .fp32 }, a_time_s: x?.time_s, b_time_s: y?.time_s, time_ratio: Self.ratio(x?.time_s, y?.time_s),
                       a_metric: ma, b_metric: mb, metric_ratio: Self.ratio(ma, mb))
        }
        self.a = a
        self.b = b
        self.metric = metric
    }

    /// y / x, or nil when either is missing or x is not above 0.
    static func ratio(_ x: Double?, _ y: Double?) -> Double? {
        guard let x, let y, x > 0 else { return nil }
        return y / x
    }
}

/// A metric to compare that neither report has.
public struct ComparisonError: Error, Sendable, CustomStringConvertible {
    public let metric: String
    /// The metrics and events the reports have, sorted.
    public let known: [String]
    public var description: String {
        let near = Suggestions.closest(to: metric, in: known)
        return "--metric '\(metric)' is in neither report; they have \(known.joined(separator: ", "))" +
            (near.isEmpty ? "" : "; did you mean '\(near[0])'?")
    }
}
