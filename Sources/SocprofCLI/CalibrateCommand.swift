import ArgumentParser
import Calibration
import Foundation
import Platform
import ProfileModel
import Profiler
import Reports

/// `socprof calibrate PROFILE.json STATS.txt`: a gem5 model beside the board, layer by layer.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "How far a gem5 model is from the board: a profile report's layers beside gem5's dumps, per layer and metric, with the error, the MAPE and the correlation over layers.",
        discussion: """
            The dumps line up with the profile's layers in order: one dump per layer (socprof profile --m5ops run in \
            gem5; gem5's own last dump at exit is left out), or one dump for the whole network. The error is \
            (simulated - measured) / measured; the MAPE is the mean of its absolute value over the layers where both \
            sides have the metric. A metric missing on either side is shown as such, never as 0. docs/calibration.md.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, json }

    @Argument(help: ArgumentHelp("A `socprof profile --format json` report from the board.", valueName: "profile.json")) var profile: String
    @Argument(help: ArgumentHelp("gem5's stats.txt for the same network.", valueName: "stats.txt")) var stats: String
    @Option(help: "Output format.") var format: Format = .table
    @Option(help: ArgumentHelp("A stat map instead of events/gem5-stats.json.", valueName: "file.json")) var map: String?
    @Option(help: ArgumentHelp("The dump order `socprof run --m5ops` wrote: checked against the profile's layers; with several images, the last image's dumps are compared.", valueName: "file.json"))
    var manifest: String?

    func run() throws {
        let report = try CompareCommand.load(profile)
        let file = try Gem5StatsCommand.readStats(stats)
        var dumps = Gem5MetricReader(map: try Gem5StatsCommand.loadMap(map)).read(file)
        var extraNotes: [String] = []
        if let manifest {
            (dumps, extraNotes) = try Self.select(dumps, manifest: manifest, layers: report.layers.map(\.name))
        }
        var comparison: CalibrationComparison
        do { comparison = try Calibrator.compare(layers: report.layers.map(Self.measured), dumps: dumps) } catch {
            throw fail("\(profile) and \(stats): \(error.description)")
        }
        comparison.notes = extraNotes + comparison.notes
        switch format {
        case .json: print(try Self.json(comparison, profile: profile, stats: stats, network: report.network), terminator: "")
        case .csv: print(Self.csv(comparison), terminator: "")
        case .table: print(Self.table(comparison, network: report.network), terminator: "")
        }
    }

    /// The dumps of the manifest's last image, after checking that the manifest, the stats file
    /// and the profile agree.
    static func select(_ dumps: [Gem5DumpMetrics], manifest path: String, layers: [String]) throws -> ([Gem5DumpMetrics], [String]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("\(path): cannot read the manifest") }
        let m: M5Ops.Manifest
        do { m = try JSONDecoder().decode(M5Ops.Manifest.self, from: data) } catch {
            throw fail("\(path): not a socprof m5ops manifest (\(error))")
        }
        guard m.schema == "socprof.m5ops-manifest", m.schema_version == 1 else {
            throw fail("\(path): schema \(m.schema) version \(m.schema_version); this socprof reads socprof.m5ops-manifest version 1")
        }
        guard dumps.count == m.dumps.count || dumps.count == m.dumps.count + 1 else {
            throw fail("the stats file has \(dumps.count) dumps, the manifest \(path) \(m.dumps.count) (plus gem5's final one): the stats are not from that run, or the simulation stopped early")
        }
        let last = m.dumps.map(\.iteration).max() ?? 0
        let chosen = m.dumps.filter { $0.iteration == last }
        let names = chosen.map(\.layer)
        guard names == layers else {
            let i = (0..<min(names.count, layers.count)).first { names[$0] != layers[$0] } ?? min(names.count, layers.count)
            throw fail("the manifest's layers and the profile's differ at layer \(i + 1) (\(i < names.count ? names[i] : "none") in the manifest, \(i < layers.count ? layers[i] : "none") in the profile): not the same network")
        }
        var notes = ["dumps lined up by the manifest \(path) (\(m.network), \(m.iterations) image(s))"]
        if m.iterations > 1 { notes.append("the last image's dumps are compared (caches warm, as in the profile's repeats)") }
        return (chosen.map { dumps[$0.dump] }, notes)
    }

    /// A profile layer's figures under the names the comparison uses.
    static func measured(_ l: LayerProfile) -> MeasuredLayer {
        var values: [String: Double] = ["time_s": l.time_s], reasons: [String: String] = [:]
        for m in Calibrator.metrics where m != "time_s" {
            if let f = l.metrics[m] ?? l.events[m] {
                if let v = f.value { values[m] = v } else { reasons[m] = f.detail ?? "unavailable" }
            }
        }
        return MeasuredLayer(name: l.name, values: values, reasons: reasons)
    }

    // MARK: renderings

    struct CellJSON: Encodable {
        let measured: Double?, simulated: Double?, error_percent: Double?, reason: String?
    }
    struct LayerJSON: Encodable {
        let layer: String, dump: Int, metrics: [String: CellJSON]
    }
    struct WorstJSON: Encodable { let layer: String, error_percent: Double }
    struct SummaryJSON: Encodable {
        let layers: Int, mape_percent: Double?, correlation: Double?, worst: [WorstJSON]
    }
    struct Doc: Encodable {
        var schema = "socprof.calibration"
        var schema_version = 1
        let profile: String, stats: String, network: String, alignment: String
        let error_definition = "(simulated - measured) / measured x 100; MAPE: mean of |error| over the layers with both"
        let layers: [LayerJSON]
        let metrics: [String: SummaryJSON]
        let notes: [String]
    }

    static func json(_ c: CalibrationComparison, profile: String, stats: String, network: String) throws -> String {
        let layers = c.layers.map { l in
            LayerJSON(layer: l.name, dump: l.dump, metrics: Dictionary(uniqueKeysWithValues: l.cells.map {
                ($0.metric, CellJSON(measured: $0.measured, simulated: $0.simulated, error_percent: $0.errorPercent, reason: $0.reason))
            }))
        }
        let summaries = Dictionary(uniqueKeysWithValues: c.summaries.map {
            ($0.metric, SummaryJSON(layers: $0.layers, mape_percent: $0.mapePercent, correlation: $0.correlation,
                                    worst: $0.worst.map { WorstJSON(layer: $0.layer, error_percent: $0.errorPercent) }))
        })
        let enc = ReportJSON.encoder()
        let doc = Doc(profile: profile, stats: stats, network: network, alignment: c.alignment, layers: layers, metrics: summaries, notes: c.notes)
        return String(decoding: try enc.encode(doc), as: UTF8.self) + "\n"
    }

    /// A value for CSV: whole numbers without a decimal point, empty when there is none.
    static func number(_ v: Double?) -> String {
        guard let v else { return "" }
        return v == v.rounded() && abs(v) < 9e15 ? String(Int64(v)) : String(v)
    }

    static func csv(_ c: CalibrationComparison) -> String {
        var s = "layer,dump,metric,measured,simulated,error_percent,reason\n"
        for l in c.layers {
            for cell in l.cells {
                let fields: [String] = [l.name, String(l.dump), cell.metric, number(cell.measured), number(cell.simulated),
                                        cell.errorPercent.map { String(format: "%.4f", $0) } ?? "", cell.reason ?? ""]
                s += CSV.row(fields)
            }
        }
        return s
    }

    static func table(_ c: CalibrationComparison, network: String) -> String {
        func pct(_ v: Double?) -> String { v.map { String(format: "%+.1f%%", $0) } ?? "-" }
        var s = "\(network): \(c.layers.count) \(c.alignment == "layer" ? "layer(s), one gem5 dump each" : "dump for the whole network")\n"
        s += "error = (simulated - measured) / measured\n\n"
        let shown = c.summaries.filter { $0.layers > 0 }.map(\.metric)
        s += "  " + "layer".rightPad(34) + shown.map { $0.leftPad(16) }.joined(separator: " ") + "\n"
        for l in c.layers {
            s += "  " + String(l.name.prefix(33)).rightPad(34) + shown.map { pct(l[$0]?.errorPercent).leftPad(16) }.joined(separator: " ") + "\n"
        }
        s += "\n  per metric over the layers (MAPE: mean |error|; r: Pearson correlation of measured and simulated):\n"
        for m in c.summaries {
            guard m.layers > 0 else {
                let why = c.layers.first?[m.metric]?.reason ?? "no layer has both"
                s += "  " + m.metric.rightPad(18) + "not compared: \(why)\n"
                continue
            }
            let mape: String = String(format: "MAPE %7.2f%%", m.mapePercent ?? Double.nan)
            let r: String = m.correlation.map { String(format: "%6.3f", $0) } ?? "     -"
            let worst: String = m.worst.isEmpty ? "" : "; furthest off: " + m.worst.map { "\($0.layer) \(pct($0.errorPercent))" }.joined(separator: ", ")
            s += "  \(m.metric.rightPad(18))\(mape)  r \(r)  \(m.layers) layer(s)\(worst)\n"
        }
        for n in c.notes { s += "  note: \(n)\n" }
        return s
    }
}
