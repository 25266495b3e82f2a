import Counters
import ProfileModel

/// Two profile reports side by side (`socprof compare`): layers matched by name, B/A ratios of
/// the time and, when asked, of one metric or event. Pure: the reports are already loaded.
public struct ProfileComparison: Sendable {
    /// One layer: both sides' values (nil where a report lacks the layer or the figure) and B/A.
    public struct Row: Codable, Sendable, Equatable {
        public let layer: String
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
    /// A's layers in A's order, then the layers only B has, in B's order.
    public let rows: [Row]

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
        var names = a.layers.map(\.name)
        for l in b.layers where la[l.name] == nil { names.append(l.name) }
        rows = names.map { n in
            let x = la[n], y = lb[n]
            let ma = metric.flatMap { x?.metrics[$0]?.value ?? x?.events[$0]?.value }
            let mb = metric.flatMap { y?.metrics[$0]?.value ?? y?.events[$0]?.value }
            return Row(layer: n, a_time_s: x?.time_s, b_time_s: y?.time_s, time_ratio: Self.ratio(x?.time_s, y?.time_s),
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
