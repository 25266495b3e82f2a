import Foundation
import Testing
import TestSupport

/// `socprof coexec` with two one-CPU "clusters" (cpu0 and cpu1 of this machine).
@Suite("socprof coexec", .serialized)
struct CoexecCommandTests {
    static func report(_ args: [String]) throws -> [String: Any] {
        let r = try Socprof.run(["coexec"] + args + ["--cpus", "0", "--cpus", "1", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    static func rate(_ run: [String: Any]) throws -> Double {
        try #require(run["images"] as? Int).double / (try #require(run["seconds"] as? Double))
    }

    /// The single rates, the together rate, and the gain and ideal recomputed from them.
    static func checkFigures(_ doc: [String: Any], images: Int) throws {
        let single = try #require(doc["single"] as? [[String: Any]])
        #expect(single.map { $0["label"] as? String } == ["cpus 0", "cpus 1"])
        let rates = try single.map(rate)
        let together = try rate(try #require(doc["together"] as? [String: Any]))
        #expect(rates.allSatisfy { $0 > 0 } && together > 0)
        let gain = try #require(doc["gain_percent"] as? Double)
        let best: Double = rates.max()!
        let expectedGain: Double = (together / best - 1) * 100
        #expect(abs(gain - expectedGain) < 1e-9 * max(1, abs(gain)))
        let ideal = try #require(doc["ideal_images_per_second"] as? Double)
        let sum: Double = rates[0] + rates[1]
        #expect(abs(ideal - sum) < 1e-9 * sum)
        let bestLabel = (doc["best_single"] as? [String: Any])?["label"] as? String
        #expect(bestLabel == (rates[0] >= rates[1] ? "cpus 0" : "cpus 1"))
        #expect(doc["outputs_identical"] as? Bool == true)
        #expect(doc["outputs_compared"] as? Int == images)
    }

    @Test("data mode: both CPUs take images from one queue; the gain and the ideal from the rates; outputs bit for bit")
    func dataMode() throws {
        let doc = try Self.report(["squeezenet-1.1", "--mode", "data", "--images", "8", "--warmup", "1"])
        try Self.checkFigures(doc, images: 8)
        let together = try #require(doc["together"] as? [String: Any])
        let taken = try #require(together["images_per_unit"] as? [String: Int])
        #expect(Set(taken.keys) == ["cpus 0", "cpus 1"] && taken.values.reduce(0, +) == 8)
        #expect(doc["stages"] is NSNull)
    }

    @Test("pipeline mode: consecutive stages cover every layer once; a branchy network's outputs stay bit for bit", arguments: ["squeezenet-1.1", "googlenet"])
    func pipelineMode(network: String) throws {
        let doc = try Self.report([network, "--mode", "pipeline", "--images", "3", "--warmup", "1"])
        try Self.checkFigures(doc, images: 3)
        let stages = try #require(doc["stages"] as? [[String: Any]])
        #expect(stages.count == 2)
        #expect(Set(stages.compactMap { $0["unit"] as? String }) == ["cpus 0", "cpus 1"])
        let layers = try #require(Socprof.run(["networks", network, "--json"]).stdout.data(using: .utf8))
        let graph = try #require(try JSONSerialization.jsonObject(with: layers) as? [String: Any])
        let count = try #require(((graph["networks"] as? [[String: Any]])?.first?["layers"] as? [Any])?.count)
        #expect(stages[0]["first"] as? Int == 1)
        #expect((stages[0]["last"] as? Int).map { $0 + 1 } == stages[1]["first"] as? Int)
        #expect(stages[1]["last"] as? Int == count - 1)
        // The predicted stage times are sums of the measured per-layer times of the stage's unit.
        let times = try #require(doc["layer_times_ms"] as? [String: [Double]])
        for s in stages {
            let unit = try #require(s["unit"] as? String), first = try #require(s["first"] as? Int), last = try #require(s["last"] as? Int)
            let sum = times[unit]![first...last].reduce(0, +)
            #expect(abs(sum - (s["predicted_ms"] as? Double ?? -1)) < 1e-9 * max(1, sum))
        }
    }

    @Test("the table says the gain, the ideal and the outputs' check")
    func table() throws {
        let r = try Socprof.run(["coexec", "squeezenet-1.1", "--mode", "pipeline", "--cpus", "0", "--cpus", "1", "--images", "2", "--warmup", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("cpus 0 alone (1t)") && r.stdout.contains("together (pipeline)"))
        #expect(r.stdout.contains("gain over the best single unit") && r.stdout.contains("ideal (the sum of the single rates)"))
        #expect(r.stdout.contains("pipeline stages (from per-layer times on each unit):\n  1. "))
        #expect(r.stdout.contains("outputs: all 2 co-executed images equal their single-unit outputs, bit for bit"))
    }

    @Test("--frequency max pins the units' policy for the run and restores it")
    func pinned() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Socprof.run(["coexec", "squeezenet-1.1", "--root", root.path, "--cpus", "0", "--cpus", "1", "--images", "2", "--warmup", "0",
                                 "--frequency", "max"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(root.read("sys/devices/system/cpu/cpu0/cpufreq/scaling_min_freq") == "200000\n")
        #expect(root.read("sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq") == "1400000\n")
        try FileManager.default.removeItem(atPath: root.absolute("sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq"))
        let broken = try Socprof.run(["coexec", "squeezenet-1.1", "--root", root.path, "--cpus", "0", "--cpus", "1", "--frequency", "max"])
        #expect(broken.status == 2 && broken.stderr.contains("scaling_max_freq: cannot read it"), "\(broken.stderr)")
    }

    @Test("bad input is refused with what is expected")
    func badInput() throws {
        let one = try Socprof.run(["coexec", "mobilenet", "--cpus", "0"])
        #expect(one.status == 2 && one.stderr.contains("give two or more units"))
        let overlap = try Socprof.run(["coexec", "mobilenet", "--cpus", "0", "--cpus", "0-1"])
        #expect(overlap.status == 2 && overlap.stderr.contains("cpu0 is in two units"))
        let mode = try Socprof.run(["coexec", "mobilenet", "--mode", "model", "--cpus", "0", "--cpus", "1"])
        #expect(mode.status == 2 && mode.stderr.contains("data") && mode.stderr.contains("pipeline"))
        let cluster = try Socprof.run(["coexec", "mobilenet", "--clusters", "little,middle"])
        #expect(cluster.status == 2 && cluster.stderr.contains("no cluster"))
    }
}

extension Int {
    var double: Double { Double(self) }
}
