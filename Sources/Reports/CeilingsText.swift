import Foundation
import Profiler

/// `socprof ceilings`' text report.
public enum CeilingsText {
    /// The ceilings of `report` measured on `label` (the placement), and where they were kept.
    public static func render(_ report: CeilingsReport, label: String, keptIn: String) -> String {
        var s = "\(label), \(report.threads) thread(s), board \(report.board):\n"
        s += String(format: "  peak fp32 FMA: %.1f GFLOP/s (hand-written C loop in the same run: %.1f; ratio %.2f)%@\n", report.peak_gflops_fp32,
                    report.reference_fma_gflops, report.peak_gflops_fp32 / report.reference_fma_gflops,
                    report.datasheet.peak_gflops_fp32.map { String(format: "; datasheet %.1f", $0) } ?? "")
        for level in ["L1", "L2", "L3", "DRAM"] {
            guard let bw = report.bandwidth_gbs[level], let b = report.level_bytes_per_thread[level] else { continue }
            s += String(format: "  %@ read bandwidth: %.1f GB/s (working set %@ per thread)\n", level.rightPad(4), bw,
                        b >= 1 << 20 ? "\(b >> 20) MiB" : "\(b >> 10) KiB")
        }
        s += String(format: "  DRAM copy bandwidth: %.1f GB/s (read + write)%@\n", report.dram_copy_gbs,
                    report.datasheet.dram_bandwidth_gbs.map { String(format: "; datasheet DRAM %.1f GB/s", $0) } ?? "")
        s += "  sweep (per thread -> GB/s): " + report.sweep.map {
            "\($0.bytesPerThread >= 1 << 20 ? "\($0.bytesPerThread >> 20)M" : "\($0.bytesPerThread >> 10)K") \(String(format: "%.0f", $0.readGBs))"
        }.joined(separator: ", ") + "\n"
        for note in report.notes ?? [] { s += "  note: \(note)\n" }
        s += "  kept in \(keptIn)\n"
        return s
    }
}
