import Foundation
import Testing
import TestSupport

/// `socprof calibrate`: a profile report beside a gem5 stats file written from it here, exactly and
/// with a known perturbation per layer and metric, which the comparison must give back.
@Suite("socprof calibrate", .serialized)
struct CalibrateCommandTests {
    static let counted = ["cycles", "instructions", "l1d_refills", "l2_refills", "dram_read_bytes", "dram_write_bytes"]

    /// A real profile report (times only on a machine without a PMU) with counts put into every
    /// layer: what a board's report holds. Returns the report's path and its layers' values.
    static func profile(in dir: URL) throws -> (String, [(name: String, values: [String: Double])]) {
        let r = try Socprof.run(["profile", "squeezenet-1.1", "--threads", "1", "--repeat", "1", "--warmup", "0", "--no-counters",
                                 "--no-energy", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        var doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        var layers = try #require(doc["layers"] as? [[String: Any]])
        var out: [(String, [String: Double])] = []
        for i in layers.indices {
            let k = Double(i + 1)
            // Multiples of 40: each value times 1 + a multiple of 5 % is still a whole number (and an
            // even one, split over two memory controllers), so the stats file holds it exactly.
            var values: [String: Double] = ["cycles": 1_000_040 * k, "instructions": 700_000 * k + 40, "l1d_refills": 9_000 * k + 40,
                                            "l2_refills": 800 * k + 40, "dram_read_bytes": 51_200 * k, "dram_write_bytes": 6_400 * k]
            var metrics: [String: Any] = [:]
            for (m, v) in values { metrics[m] = ["value": v, "source": "measured", "detail": "test"] }
            metrics["ipc"] = ["value": values["instructions"]! / values["cycles"]!, "source": "measured", "detail": "test"]
            layers[i]["metrics"] = metrics
            values["time_s"] = try #require(layers[i]["time_s"] as? Double)
            values["ipc"] = values["instructions"]! / values["cycles"]!
            out.append((try #require(layers[i]["name"] as? String), values))
        }
        doc["layers"] = layers
        let path = dir.appendingPathComponent("profile.json").path
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: path))
        return (path, out)
    }

    /// A v23-era stats.txt with one dump per layer (each value times 1 + perturbation(layer, metric)),
    /// two memory controllers and a shared L2, and gem5's final dump after them.
    static func stats(_ layers: [(name: String, values: [String: Double])], perturbation: (Int, String) -> Double) -> String {
        var s = ""
        func v(_ i: Int, _ m: String) -> Double { layers[i].values[m]! * (1 + perturbation(i, m)) }
        for i in 0...layers.count {
            let last = i == layers.count
            let ticks = last ? 5_000_000 : (v(i, "time_s") * 1e12).rounded()
            s += "\n---------- Begin Simulation Statistics ----------\n"
            s += "simSeconds 0.000001 # Number of seconds simulated (Second)\n"
            s += "simTicks \(Int64(ticks)) # Number of ticks simulated (Tick)\n"
            s += "simFreq 1000000000000 # The number of ticks per simulated second ((Tick/Second))\n"
            s += "simInsts 123456789012 # Number of instructions simulated (Count)\n"
            func put(_ name: String, _ value: Double) { s += "\(name) \(String(format: "%.0f", value)) # (Count)\n" }
            put("system.cpu.numCycles", last ? 10 : v(i, "cycles"))
            put("system.cpu.commitStats0.numInsts", last ? 5 : v(i, "instructions"))
            put("system.cpu.dcache.overallMisses::total", last ? 1 : v(i, "l1d_refills"))
            put("system.l2.overallMisses::cpu.data", last ? 1 : v(i, "l2_refills"))
            put("system.mem_ctrls0.dram.bytesRead::total", last ? 64 : v(i, "dram_read_bytes") / 2)
            put("system.mem_ctrls1.dram.bytesRead::total", last ? 64 : v(i, "dram_read_bytes") / 2)
            put("system.mem_ctrls0.dram.bytesWritten::total", last ? 0 : v(i, "dram_write_bytes"))
            put("system.mem_ctrls1.dram.bytesWritten::total", 0)
            s += "\n---------- End Simulation Statistics   ----------\n"
        }
        return s
    }

    static func run(_ profile: String, _ stats: String) throws -> [String: Any] {
        let r = try Socprof.run(["calibrate", profile, stats, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
    }

    @Test("stats written from the profile itself: 0 % error on every layer and metric")
    func exact() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (profile, layers) = try Self.profile(in: dir)
        let stats = dir.appendingPathComponent("stats.txt")
        try Data(Self.stats(layers) { _, _ in 0 }.utf8).write(to: stats)
        let doc = try Self.run(profile, stats.path)
        #expect(doc["alignment"] as? String == "layer")
        #expect((doc["notes"] as? [String])?.contains { $0.contains("left out") } == true, "gem5's final dump is not a layer")
        let rows = try #require(doc["layers"] as? [[String: Any]])
        #expect(rows.count == layers.count)
        for (row, layer) in zip(rows, layers) {
            #expect(row["layer"] as? String == layer.name)
            let metrics = try #require(row["metrics"] as? [String: [String: Any]])
            for m in Self.counted + ["ipc", "time_s"] {
                let e = try #require(metrics[m]?["error_percent"] as? Double, "\(layer.name) \(m): \(metrics[m] ?? [:])")
                #expect(abs(e) < (m == "time_s" ? 1e-6 : 1e-9), "\(layer.name) \(m): \(e) %")
            }
        }
        let summary = try #require(doc["metrics"] as? [String: [String: Any]])
        #expect(summary["cycles"]?["layers"] as? Int == layers.count)
        #expect((summary["cycles"]?["mape_percent"] as? Double).map { $0 < 1e-9 } == true)
        #expect((summary["cycles"]?["correlation"] as? Double).map { abs($0 - 1) < 1e-12 } == true)
    }

    @Test("a perturbed model: the perturbation comes back per layer and metric, and the MAPE is its mean")
    func perturbed() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (profile, layers) = try Self.profile(in: dir)
        // A different relative error for each layer and metric, between -30 % and +40 %.
        func p(_ i: Int, _ m: String) -> Double {
            guard let j = Self.counted.firstIndex(of: m) else { return m == "time_s" ? 0.05 * Double(i % 5) - 0.1 : 0 }
            return Double((i * 7 + j * 13) % 15) * 0.05 - 0.3
        }
        let stats = dir.appendingPathComponent("stats.txt")
        try Data(Self.stats(layers, perturbation: p).utf8).write(to: stats)
        let doc = try Self.run(profile, stats.path)
        let rows = try #require(doc["layers"] as? [[String: Any]])
        for (i, row) in rows.enumerated() {
            let metrics = try #require(row["metrics"] as? [String: [String: Any]])
            for m in Self.counted + ["time_s"] {
                let e = try #require(metrics[m]?["error_percent"] as? Double)
                // Exact for the counts; the time goes through whole ticks (1 ps).
                #expect(abs(e - 100 * p(i, m)) < (m == "time_s" ? 1e-4 : 1e-9), "\(layers[i].name) \(m): got \(e) %, put \(100 * p(i, m)) %")
            }
            let ipc = try #require(metrics["ipc"]?["error_percent"] as? Double)
            let expectedIPC = ((1 + p(i, "instructions")) / (1 + p(i, "cycles")) - 1) * 100
            #expect(abs(ipc - expectedIPC) < 1e-9, "\(layers[i].name) ipc")
        }
        let summary = try #require(doc["metrics"] as? [String: [String: Any]])
        let expectedMAPE = (0..<layers.count).map { abs(100 * p($0, "l1d_refills")) }.reduce(0, +) / Double(layers.count)
        #expect(abs((summary["l1d_refills"]?["mape_percent"] as? Double ?? -1) - expectedMAPE) < 1e-9)
        let worst = try #require(summary["l1d_refills"]?["worst"] as? [[String: Any]])
        let largest = (0..<layers.count).map { abs(p($0, "l1d_refills")) }.max()!
        #expect(worst.count == 3 && abs(abs(worst[0]["error_percent"] as? Double ?? 0) - 100 * largest) < 1e-9)
    }

    @Test("one dump is the whole network; a count that does not line up is refused; unmeasured is not 0")
    func wholeNetworkAndErrors() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (profile, layers) = try Self.profile(in: dir)
        // One dump with the sums, 10 % more cycles.
        let total = [(name: "all", values: Dictionary(uniqueKeysWithValues: (Self.counted + ["time_s"]).map { m in (m, layers.map { $0.values[m]! }.reduce(0, +)) }))]
        var one = Self.stats(total) { _, m in m == "cycles" ? 0.1 : 0 }
        one = String(one[..<one.range(of: "\n---------- Begin", options: .backwards)!.lowerBound]) // no final dump
        let stats = dir.appendingPathComponent("one.txt")
        try Data(one.utf8).write(to: stats)
        let doc = try Self.run(profile, stats.path)
        #expect(doc["alignment"] as? String == "network")
        let row = try #require((doc["layers"] as? [[String: Any]])?.first?["metrics"] as? [String: [String: Any]])
        #expect(abs((row["cycles"]?["error_percent"] as? Double ?? 0) - 10) < 1e-6)
        #expect(abs(row["instructions"]?["error_percent"] as? Double ?? 1) < 1e-9)

        // Three dumps for 26 layers: refused, naming both counts.
        let three = dir.appendingPathComponent("three.txt")
        try Data(Self.stats(Array(layers.prefix(2))) { _, _ in 0 }.utf8).write(to: three)
        let bad = try Socprof.run(["calibrate", profile, three.path])
        #expect(bad.status == 2 && bad.stderr.contains("3 dumps and the profile \(layers.count) layers"), "\(bad.stderr)")

        // A profile without counters: every count not measured, with the reason, never an error of -100 %.
        let bare = try Socprof.run(["profile", "squeezenet-1.1", "--threads", "1", "--repeat", "1", "--warmup", "0", "--no-counters",
                                    "--no-energy", "--format", "json", "-o", dir.appendingPathComponent("bare.json").path])
        #expect(bare.status == 0)
        let full = dir.appendingPathComponent("full.txt")
        try Data(Self.stats(layers) { _, _ in 0 }.utf8).write(to: full)
        let csv = try Socprof.run(["calibrate", dir.appendingPathComponent("bare.json").path, full.path, "--format", "csv"])
        #expect(csv.status == 0, "\(csv.stderr)")
        let cycles = csv.stdout.split(separator: "\n").filter { $0.contains(",cycles,") }
        #expect(cycles.count == layers.count && cycles.allSatisfy { $0.contains(",,") && $0.contains("not measured") }, "\(cycles.prefix(2))")
    }

    @Test("--manifest: the dumps of an --m5ops run with two images, the last image compared; a manifest of another network refused")
    func manifest() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (profile, layers) = try Self.profile(in: dir)
        // Two images: the first 50 % off on every count (cold), the second exact; gem5's final dump after.
        let first = Self.stats(layers) { _, m in m == "time_s" ? 0 : 0.5 }
        let second = Self.stats(layers) { _, _ in 0 }
        let cut = first.range(of: "\n---------- Begin", options: .backwards)!.lowerBound
        let stats = dir.appendingPathComponent("stats.txt")
        try Data((String(first[..<cut]) + second).utf8).write(to: stats)
        var entries: [[String: Any]] = []
        for it in 0..<2 { for l in layers { entries.append(["dump": entries.count, "iteration": it, "layer": l.name, "kind": "conv", "macs": 1]) } }
        func write(_ dumps: [[String: Any]], to name: String) throws -> String {
            let doc: [String: Any] = ["schema": "socprof.m5ops-manifest", "schema_version": 1, "network": "squeezenet-1.1", "threads": 1,
                                      "iterations": 2, "protocol_description": "test", "dumps": dumps]
            let path = dir.appendingPathComponent(name).path
            try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: path))
            return path
        }
        let good = try write(entries, to: "m.json")
        let r = try Socprof.run(["calibrate", profile, stats.path, "--manifest", good, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let summary = try #require(doc["metrics"] as? [String: [String: Any]])
        #expect((summary["cycles"]?["mape_percent"] as? Double).map { $0 < 1e-9 } == true, "the second image's dumps, not the first's: \(summary["cycles"] ?? [:])")
        #expect((doc["notes"] as? [String])?.contains { $0.contains("last image") } == true)
        // Without the manifest the 2N + 1 dumps do not line up.
        let bare = try Socprof.run(["calibrate", profile, stats.path])
        #expect(bare.status == 2 && bare.stderr.contains("\(2 * layers.count + 1) dumps"), "\(bare.stderr)")
        // A manifest whose layers are another network's.
        var other = entries
        other[layers.count + 3]["layer"] = "conv99"
        let wrong = try Socprof.run(["calibrate", profile, stats.path, "--manifest", try write(other, to: "other.json")])
        #expect(wrong.status == 2 && wrong.stderr.contains("differ at layer 4") && wrong.stderr.contains("conv99"), "\(wrong.stderr)")
        // A manifest for fewer dumps than the file has.
        let short = try Socprof.run(["calibrate", profile, stats.path, "--manifest", try write(Array(entries.prefix(layers.count)), to: "short.json")])
        #expect(short.status == 2 && short.stderr.contains("the manifest"), "\(short.stderr)")
    }

    /// Outside gem5 the m5op instruction is refused by the CPU (SIGILL), or not built at all.
    @Test("run and profile --m5ops outside gem5 are an error that says why, not a crash", arguments: ["run", "profile"])
    func m5opsOutsideGem5(command: String) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = dir.appendingPathComponent("m.json").path
        let counts = command == "run" ? ["--iterations", "1"] : ["--repeat", "1", "--no-energy"]
        let r = try Socprof.run([command, "squeezenet-1.1", "--warmup", "0", "--m5ops", "--m5ops-manifest", manifest] + counts)
        #if arch(arm64) || arch(arm)
        #expect(r.status == 2 && r.stderr.contains("raised SIGILL") && r.stderr.contains("not a CPU simulated by gem5"), "\(r.stderr)")
        #else
        #expect(r.status == 2 && r.stderr.contains("needs an aarch64 or 32-bit ARM build"), "\(r.stderr)")
        #endif
        #expect(!FileManager.default.fileExists(atPath: manifest), "no manifest for a run that did not happen")
    }
}
