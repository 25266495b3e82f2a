/// One layer as measured on the board: socprof's metrics by name (counts, bytes, seconds).
public struct MeasuredLayer: Sendable {
    public let name: String
    /// Metric name to value; a metric absent here is unavailable.
    public let values: [String: Double]
    /// Why a metric is unavailable, where the report says.
    public let reasons: [String: String]

    public init(name: String, values: [String: Double], reasons: [String: String] = [:]) {
        self.name = name
        self.values = values
        self.reasons = reasons
    }
}

/// Measured beside simulated, per layer and metric, with the error and per-metric summaries.
public struct CalibrationComparison: Sendable {
    /// One metric of one layer (or of the whole network).
    public struct Cell: Sendable {
        public let metric: String
        public let measured: Double?
        public let simulated: Double?
        /// (simulated - measured) / measured, in percent; nil when either is missing or measured is 0.
        public let errorPercent: Double?
        /// Why there is no error figure.
        public let reason: String?
    }

    public struct Layer: Sendable {
        public let name: String
        /// The dump it was compared with.
        public let dump: Int
        public let cells: [Cell]
        public subscript(metric: String) -> Cell? { cells.first { $0.metric == metric } }
    }

    /// One metric over the layers.
    public struct Summary: Sendable {
        public let metric: String
        /// Layers with both sides and a non-zero measurement.
        public let layers: Int
        /// Mean of |error| in percent, the measurement as denominator; nil with no layer.
        public let mapePercent: Double?
        /// Pearson correlation of measured and simulated over the layers; nil with fewer than 2
        /// layers or no spread.
        public let correlation: Double?
        /// The layers furthest off, largest |error| first (at most 3).
        public let worst: [(layer: String, errorPercent: Double)]
    }

    /// "layer": one dump per layer; "network": one dump for the whole network.
    public let alignment: String
    public let layers: [Layer]
    public let summaries: [Summary]
    public var notes: [String]
}

/// A profile and a stats file that cannot be compared.
public struct CalibrationError: Error, Sendable, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Lines gem5's dumps up with a profile's layers and compares them, metric by metric.
public enum Calibrator {
    /// The metrics compared, in report order: the gem5 name is the same as socprof's, except the
    /// layer's time (`time_s`), which is compared with the dump's simulated seconds.
    public static let metrics = ["time_s", "cycles", "instructions", "ipc", "l1d_refills", "l2_refills", "dram_read_bytes", "dram_write_bytes"]

    /// Compares `layers` (in the profile's order) with `dumps`:
    /// - as many dumps as layers: dump i is layer i (`--m5ops` dumps after each layer);
    /// - one more dump than layers: the same, and the last dump (gem5's own at exit, after the
    ///   last layer) is left out and said so;
    /// - one dump: the whole network (counts summed over the layers, IPC from the sums).
    /// Anything else is refused.
    public static func compare(layers: [MeasuredLayer], dumps: [Gem5DumpMetrics], metrics: [String] = Calibrator.metrics) throws(CalibrationError) -> CalibrationComparison {
        guard !layers.isEmpty else { throw CalibrationError("the profile has no layers") }
        guard !dumps.isEmpty else { throw CalibrationError("the stats file has no dumps") }
        var notes: [String] = []
        var pairs: [(MeasuredLayer, Gem5DumpMetrics)]
        let alignment: String
        if dumps.count == layers.count || dumps.count == layers.count + 1 {
            if dumps.count == layers.count + 1 {
                notes.append("the last of \(dumps.count) dumps (gem5's own at the end of the simulation, after the last layer) is left out")
            }
            pairs = Array(zip(layers, dumps))
            alignment = "layer"
        } else if dumps.count == 1 {
            pairs = [(whole(layers), dumps[0])]
            alignment = "network"
            notes.append("one dump: compared with the whole network (the layers' counts summed)")
        } else {
            throw CalibrationError("the stats file has \(dumps.count) dumps and the profile \(layers.count) layers: they line up one dump per layer (socprof profile --m5ops in gem5, plus at most gem5's final dump), or one dump for the whole network")
        }
        for (_, d) in pairs where !d.complete {
            notes.append("dump \(d.index) has no End line: the stats file may be cut short")
        }
        let rows = pairs.map { layer, dump in
            CalibrationComparison.Layer(name: layer.name, dump: dump.index, cells: metrics.map { cell($0, layer, dump) })
        }
        let summaries = metrics.map { m in summary(m, rows) }
        return CalibrationComparison(alignment: alignment, layers: rows, summaries: summaries, notes: notes)
    }

    /// The whole network as one layer: counts and seconds summed, IPC from the sums.
    static func whole(_ layers: [MeasuredLayer]) -> MeasuredLayer {
        var values: [String: Double] = [:], reasons: [String: String] = [:]
        for m in metrics where m != "ipc" {
            let v = layers.compactMap { $0.values[m] }
            if v.count == layers.count { values[m] = v.reduce(0, +) } else {
                reasons[m] = "\(layers.count - v.count) of \(layers.count) layers have no \(m)"
            }
        }
        if let i = values["instructions"], let c = values["cycles"], c > 0 { values["ipc"] = i / c } else { reasons["ipc"] = "no instructions or cycles" }
        return MeasuredLayer(name: "whole network", values: values, reasons: reasons)
    }

    static func simulated(_ metric: String, _ dump: Gem5DumpMetrics) -> Gem5Figure? {
        dump[metric == "time_s" ? "sim_seconds" : metric]
    }

    static func cell(_ metric: String, _ layer: MeasuredLayer, _ dump: Gem5DumpMetrics) -> CalibrationComparison.Cell {
        let measured = layer.values[metric]
        let sim = simulated(metric, dump)
        var reason: String? = nil
        var error: Double? = nil
        if measured == nil {
            reason = "not measured: " + (layer.reasons[metric] ?? "the profile has no \(metric)")
        } else if sim?.value == nil {
            reason = "not simulated: " + (sim?.reason ?? "gem5 gives no \(metric)")
        } else if measured! == 0 {
            reason = "measured 0: no relative error"
        } else {
            error = (sim!.value! - measured!) / measured! * 100
        }
        return .init(metric: metric, measured: measured, simulated: sim?.value, errorPercent: error, reason: reason)
    }

    static func summary(_ metric: String, _ rows: [CalibrationComparison.Layer]) -> CalibrationComparison.Summary {
        let cells = rows.compactMap { r in r[metric].flatMap { c in c.errorPercent.map { (r.name, c.measured!, c.simulated!, $0) } } }
        let mape = cells.isEmpty ? nil : cells.map { abs($0.3) }.reduce(0, +) / Double(cells.count)
        let worst = cells.sorted { abs($0.3) > abs($1.3) }.prefix(3).map { (layer: $0.0, errorPercent: $0.3) }
        return .init(metric: metric, layers: cells.count, mapePercent: mape,
                     correlation: pearson(cells.map(\.1), cells.map(\.2)), worst: Array(worst))
    }

    /// Pearson's r; nil with fewer than two points or no spread on either side.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        guard x.count == y.count, x.count >= 2 else { return nil }
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        guard sxx > 0, syy > 0 else { return nil }
        return sxy / (sxx * syy).squareRoot()
    }
}
