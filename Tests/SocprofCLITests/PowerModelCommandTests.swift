import Foundation
import Testing
import TestSupport

/// `socprof powermodel fit` run as a user runs it, on samples made here from known coefficients.
@Suite("socprof powermodel fit")
struct PowerModelCommandTests {
    /// 120 noiseless samples at the Odroid-XU3 A15's four V/f points (facts §3.2):
    /// P = 0.2 + 2e-10 r11 V² + 1e-10 r08 V² + 1e-4 f + 0.3 V.
    static func samples(in dir: URL) throws -> String {
        var state: UInt64 = 42
        func uniform(_ lo: Double, _ hi: Double) -> Double { // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return lo + (hi - lo) * Double(z >> 11) / Double(1 << 53)
        }
        var csv = "freq_mhz,voltage_v,power_w,r11,r08\n"
        for (f, v) in [(600.0, 0.912), (1000, 0.954), (1400, 1.042), (1800, 1.183)] {
            for _ in 0..<30 {
                let r11 = f * 1e6 * uniform(0.5, 1), r08 = r11 * uniform(0.3, 1.5)
                let p = 0.2 + 2e-10 * r11 * v * v + 1e-10 * r08 * v * v + 1e-4 * f + 0.3 * v
                csv += "\(f),\(v),\(p),\(r11),\(r08)\n"
            }
        }
        let path = dir.appendingPathComponent("samples.csv").path
        try Data(csv.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("--json gives back the coefficients the samples were made with; --gem5 writes plain decimals")
    func fitAndExport() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let samples = try Self.samples(in: dir)
        let r = try Socprof.run(["powermodel", "fit", samples, "--events", "r11,r08", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let c = try #require(doc["coefficients"] as? [String: [String: Any]])
        for (name, truth) in [("r11", 2e-10), ("r08", 1e-10), ("intercept", 0.2), ("f", 1e-4), ("V", 0.3)] {
            let v = try #require(c[name]?["value"] as? Double, "\(name)")
            #expect(abs(v - truth) <= 1e-6 * abs(truth), "\(name): \(v), made with \(truth)")
        }
        #expect((doc["mape_cv_percent"] as? Double).map { $0 < 1e-6 } == true)

        let out = dir.appendingPathComponent("model.py").path
        let g = try Socprof.run(["powermodel", "fit", samples, "--events", "r11,r08", "--gem5", out,
                                 "--gem5-stat", "r11=system.cpu.numCycles", "--gem5-stat", "r08=system.cpu.commitStats0.numInsts"])
        #expect(g.status == 0, "\(g.stderr)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        let expressions = text.split(separator: "\n").filter { $0.hasPrefix("DYN = ") || $0.hasPrefix("ST = ") }
        #expect(expressions.count == 2, "\(text.prefix(400))")
        for e in expressions {
            #expect(e.range(of: #"[0-9]e[-+]?[0-9]"#, options: .regularExpression) == nil, "gem5 misreads exponents: \(e)")
            #expect(!e.contains("::"))
        }
        #expect(expressions[0].contains("system.cpu.numCycles / simSeconds"))

        let missing = try Socprof.run(["powermodel", "fit", samples, "--events", "r11,r08", "--gem5", out, "--gem5-stat", "r11=system.cpu.numCycles"])
        #expect(missing.status == 2 && missing.stderr.contains("r08"), "\(missing.stderr)")
    }

    @Test("bad samples name the file and the line")
    func badSamples() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.csv").path
        try Data("freq_mhz,voltage_v,power_w,r11\n600,0.9,1.5,100\n600,0.9,abc,100\n".utf8).write(to: URL(fileURLWithPath: path))
        let r = try Socprof.run(["powermodel", "fit", path, "--events", "r11"])
        #expect(r.status == 2 && r.stderr.contains("bad.csv") && r.stderr.contains("3"), "\(r.stderr)")
        let noPower = dir.appendingPathComponent("nopower.csv").path
        try Data("freq_mhz,voltage_v,r11\n600,0.9,100\n".utf8).write(to: URL(fileURLWithPath: noPower))
        let n = try Socprof.run(["powermodel", "fit", noPower])
        #expect(n.status == 2 && n.stderr.contains("power_w"), "\(n.stderr)")
    }
}
