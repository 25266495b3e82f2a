import Foundation

/// The samples file `powermodel collect` writes and `powermodel fit` reads (docs/powermodel.md):
/// `#` comment lines saying where the figures came from, a header, then one line per row, written
/// as each row is measured so that a stopped collection keeps what it measured.
public enum PowerSamplesCSV {
    /// The columns before the event columns. `workload`, `freq_read_mhz` and `seconds` are labels
    /// that `powermodel fit` does not take for events (`PowerSamples.labelColumns`).
    public static let leadingColumns = ["workload", "freq_mhz", "freq_read_mhz", "voltage_v", "power_w", "seconds"]

    /// A column name for an event spec: letters, digits and `_` (`r11` stays `r11`,
    /// `task-clock` becomes `task_clock`, `armv8_pmuv3/event=0x11/` becomes `armv8_pmuv3_event_0x11`).
    public static func columnName(for spec: String) -> String {
        var out = ""
        for c in spec.unicodeScalars {
            let ok = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_"
            if ok { out.unicodeScalars.append(c) } else if !out.hasSuffix("_") { out += "_" }
        }
        while out.hasSuffix("_") { out.removeLast() }
        if out.isEmpty || out.first!.isNumber { out = "e_" + out }
        return out
    }

    /// The comment lines (each starting with `# `) and the header line.
    public static func header(comments: [String], eventColumns: [String]) -> String {
        comments.map { "# \($0)\n" }.joined() + (leadingColumns + eventColumns).joined(separator: ",") + "\n"
    }

    /// One line; numbers in their shortest form that reads back exactly (refitting the file fits
    /// what was measured).
    public static func line(_ r: PowerCollectRow) -> String {
        func g(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)" }
        let lead = [r.workload, g(r.freqMHz), r.freqReadMHz.map(g) ?? "", g(r.voltageV), g(r.powerW), g(r.seconds)]
        return (lead + r.rates.map(g)).joined(separator: ",") + "\n"
    }
}
