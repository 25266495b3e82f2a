import Experiments
import Foundation

/// The sweep's report as text (the study's Table I layout and, with sensors, the Fig. 2 figures),
/// as CSV (one line per cell), and as a bar chart.
public enum SweepTable {
    static func g(_ x: Double) -> String {
        x >= 100 ? String(format: "%.0f", x) : x >= 10 ? String(format: "%.1f", x) : x >= 0.1 ? String(format: "%.2f", x) : String(format: "%.3g", x)
    }

    /// Networks as rows, columns as the sweep's: images/s (median, min–max), then images/s per
    /// watt where sensors exist, then the failed cells, the moved frequencies and the notes.
    public static func text(_ r: SweepReport) -> String {
        let names = r.columns.map(\.name)
        let width = max(22, (names.map(\.count).max() ?? 0) + 2)
        let first = max(16, (r.rows.map(\.network.count).max() ?? 0) + 2)
        func line(_ head: String, _ cells: [String]) -> String {
            head.padding(toLength: first, withPad: " ", startingAt: 0) + cells.map { $0.padding(toLength: width, withPad: " ", startingAt: 0) }.joined() + "\n"
        }
        var out = "socprof sweep on \(r.board), started \(r.started): frequency \(r.settings.frequency), threads \(r.settings.threads), "
        if let p = r.settings.precision { out += "precision \(p.rawValue), " }
        out += "\(r.settings.repeats) timed image(s) after \(r.settings.warmup) warm-up per cell\n"
        for c in r.columns {
            var d = "  \(c.name): cpus \(c.cpus), \(c.threads) thread(s)" + (c.core.map { ", \($0)" } ?? "")
            d += c.pinned_mhz.map { String(format: ", pinned to %g MHz", $0) } ?? ", frequency as found" + (c.governor.map { " (governor \($0))" } ?? "")
            if !c.sensors.isEmpty { d += "; power: \(c.sensors.joined(separator: " + "))" + (c.sensors_are_own ? "" : " (not its own rail)") }
            if let idle = c.idle_watts { d += String(format: "; idle %.3f W", idle) }
            out += d + "\n"
        }
        out += "\nimages/s (median; min–max)\n" + line("network", names)
        var moved: [String] = []
        for row in r.rows {
            out += line(row.network, names.map { n in
                guard let cell = row.cells[n] else { return "not run" }
                guard let f = cell.figures else { return "failed" }
                if f.frequency?.moved == true { moved.append("\(row.network) on \(n): \(String(format: "%.0f–%.0f MHz", f.frequency!.min, f.frequency!.max))") }
                return "\(g(f.rate.median)) (\(g(f.rate.min))–\(g(f.rate.max)))" + (f.frequency?.moved == true ? " *" : "")
            })
        }
        let energy = r.rows.contains { $0.cells.values.contains { $0.figures?.energy != nil } }
        if energy {
            out += "\nimages/s per watt (above idle)\n" + line("network", names)
            for row in r.rows {
                out += line(row.network, names.map { n in
                    guard let e = row.cells[n]?.figures?.energy else { return "n/a" }
                    return "\(g(e.imagesPerSecondPerWatt))" + (e.imagesPerSecondPerWattAboveIdle.map { " (\(g($0)))" } ?? "")
                })
            }
            out += "\njoules per image\n" + line("network", names)
            for row in r.rows {
                out += line(row.network, names.map { n in row.cells[n]?.figures?.energy.map { g($0.joulesPerImage) } ?? "n/a" })
            }
        } else {
            out += "\nno power sensor: no energy figures\n"
        }
        let failed = r.rows.flatMap { $0.cells.values.filter { !$0.ok } }.sorted { ($0.network, $0.column) < ($1.network, $1.column) }
        if !failed.isEmpty {
            out += "\nfailed cells:\n" + failed.map { "  \($0.network) on \($0.column): \($0.error ?? "?")\n" }.joined()
        }
        if !moved.isEmpty {
            out += "\n* the frequency moved during the cell (throttling, or a governor that was not pinned):\n" + moved.map { "  \($0)\n" }.joined()
        }
        if r.incomplete { out += "\nincomplete: some cells have not run (--resume continues)\n" }
        for n in r.notes { out += "note: \(n)\n" }
        return out
    }

    public static let csvHeader = "network,column,status,images_per_second,images_per_second_min,images_per_second_max,images,window_images_per_second,"
        + "freq_mean_mhz,freq_min_mhz,freq_max_mhz,freq_pinned_mhz,freq_moved,watts,joules_per_image,images_per_second_per_watt,"
        + "watts_above_idle,joules_per_image_above_idle,images_per_second_per_watt_above_idle,error"

    /// One line per cell, in row then column order; empty fields where a figure is missing.
    public static func csv(_ r: SweepReport) -> String {
        func n(_ x: Double?) -> String { x.map { "\($0)" } ?? "" }
        let q = CSV.field
        var out = csvHeader + "\n"
        for row in r.rows {
            for c in r.columns {
                guard let cell = row.cells[c.name] else { continue }
                let f = cell.figures
                let fields: [String] = [
                    q(row.network), q(c.name), cell.status, n(f?.rate.median), n(f?.rate.min), n(f?.rate.max), f.map { "\($0.rate.images)" } ?? "",
                    n(f?.windowImagesPerSecond), n(f?.frequency?.mean), n(f?.frequency?.min), n(f?.frequency?.max), n(f?.frequency?.pinned),
                    f?.frequency.map { $0.moved ? "1" : "0" } ?? "", n(f?.energy?.watts), n(f?.energy?.joulesPerImage), n(f?.energy?.imagesPerSecondPerWatt),
                    n(f?.energy?.wattsAboveIdle), n(f?.energy?.joulesPerImageAboveIdle), n(f?.energy?.imagesPerSecondPerWattAboveIdle), q(cell.error ?? ""),
                ]
                out += fields.joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// The Fig. 2-style chart: images/s per watt where every measured cell has energy, else images/s.
    public static func svg(_ r: SweepReport) -> String {
        let cells = r.rows.flatMap { $0.cells.values.filter(\.ok) }
        let perWatt = !cells.isEmpty && cells.allSatisfy { $0.figures?.energy != nil }
        let names = r.columns.map(\.name)
        let values: [[Double?]] = r.rows.map { row in
            names.map { n in
                guard let f = row.cells[n]?.figures else { return nil }
                return perWatt ? f.energy?.imagesPerSecondPerWatt : f.rate.median
            }
        }
        var settings = "frequency \(r.settings.frequency), threads \(r.settings.threads), median of \(r.settings.repeats) image(s)"
        if let p = r.settings.precision { settings += ", precision \(p.rawValue)" }
        if !perWatt { settings += "; no power sensor for every cell, so images/s" }
        return BarChartSVG.render(categories: r.rows.map(\.network), series: names, values: values,
                                  yLabel: perWatt ? "images/s per W" : "images/s",
                                  title: "\(perWatt ? "Energy efficiency" : "Throughput") per cluster: \(r.board), \(r.started.prefix(10))",
                                  subtitle: settings)
    }
}
