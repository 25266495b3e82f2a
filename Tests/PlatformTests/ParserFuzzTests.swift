import Foundation
import Platform
import Testing
import TestSupport

/// Seeded mutants of valid board files, cpuinfo, metric formulas, meter logs and voltage tables:
/// each is read or refused with an error naming the file, never a trap or a hang.
@Suite("parsers under mutated input: board files, cpuinfo, formulas, logs")
struct PlatformParserFuzzTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("board files", arguments: ["odroid-xu3", "rk3588"])
    func boards(name: String) throws {
        let text = try String(contentsOf: Self.repository.appendingPathComponent("boards/\(name).json"), encoding: .utf8)
        var m = Mutator(seed: 7)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("socprof-fuzz-\(name)-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        for _ in 0..<400 {
            try Data(m.mutate(text).utf8).write(to: file)
            do { _ = try Board.load(contentsOf: file) } catch { #expect(error.description.contains(file.path)) }
        }
    }

    @Test("cpuinfo, metric formulas, meter logs, voltage tables, cache sizes")
    func textFormats() throws {
        var m = Mutator(seed: 11)
        let cpuinfo = "processor\t: 0\nCPU implementer\t: 0x41\nCPU variant\t: 0x0\nCPU part\t: 0xd03\nCPU revision\t: 4\n\nprocessor\t: 1\nCPU part\t: 0xd08\n\nHardware\t: X\n"
        for _ in 0..<2000 {
            let info = CPUInfoFile(text: m.mutate(cpuinfo))
            for cpu in info.processors.keys { _ = info.midr(cpu: cpu) }
            _ = try? MetricExpression.parse(m.mutate("(l2_refills + l2_writebacks) * line_size / (cycles + 1) - 2 * ipc"))
            _ = try? PowerLog(csv: m.mutate("timestamp,watts\n1700000000.0,1.5\n1700000000.5,2.25\n"), file: "log.csv")
            _ = try? VoltageSource.parseTable(csv: m.mutate("mhz,volts\n600,0.912\n1000,0.954\n"), file: "v.csv")
            _ = Topology.parseSize(m.mutate("2048K"))
        }
    }
}
