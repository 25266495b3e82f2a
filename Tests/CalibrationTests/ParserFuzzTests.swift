import Calibration
import Foundation
import Testing
import TestSupport

/// Seeded mutants of gem5 stats files and power-model samples: read or refused, never a trap.
@Suite("parsers under mutated input: gem5 stats, samples CSV")
struct CalibrationParserFuzzTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/gem5")

    @Test("gem5 stats files")
    func stats() throws {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent("arm-o3-mcf-stats.txt"), encoding: .utf8)
        // A slice around the start keeps each mutant small.
        let head = String(text.prefix(6000))
        var m = Mutator(seed: 5)
        for _ in 0..<300 { _ = try? Gem5StatsFile(text: m.mutate(head)) }
    }

    @Test("power-model samples")
    func samples() {
        var m = Mutator(seed: 9)
        let csv = "# made by a test\nworkload,freq_mhz,freq_read_mhz,voltage_v,power_w,seconds,r11,r08\nfma,600,600,0.912,0.8,2,5e8,4e8\nidle,1000,,0.954,0.4,2,1e6,2e5\n"
        for _ in 0..<3000 {
            let text = m.mutate(csv)
            _ = try? PowerSamples(csv: text)
            _ = try? PowerSamples(csv: text, events: ["r11"])
        }
    }
}
