import Calibration
import Foundation
import Testing
import TestSupport

/// Reading gem5's stats.txt: the two public reference files against their published figures, and
/// multi-dump files in the later naming eras, CPU models and big.LITTLE layouts built here.
@Suite("gem5 stats.txt")
struct Gem5StatsTests {
    static var map: Gem5StatMap {
        get throws {
            let url = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("events/gem5-stats.json")
            let map = try JSONDecoder().decode(Gem5StatMap.self, from: Data(contentsOf: url))
            try map.validate(file: url.path)
            return map
        }
    }

    static func read(_ text: String) throws -> [Gem5DumpMetrics] {
        Gem5MetricReader(map: try map).read(try Gem5StatsFile(text: text))
    }

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: Fixtures.directory.appendingPathComponent("gem5/\(name)"), encoding: .utf8)
    }

    /// The figures in ../shared/reference/gem5/README.md (from the files' own lines).
    @Test("the public reference files give their published figures", arguments: [
        ("arm-o3-mcf-stats.txt", 90_589_799.0, 117_042_173.0, 0.773993, 9_969_606.0, 4_323.0, 1_186_880.0, 4_736.0, 0.058521),
        ("arm-realview64-o3-boot-stats.txt", 807_652_759.0, 1_418_701_600.0, 0.569290, 24_374_250.0, 841_220.0, 54_204_776.0, 74_626_404.0, 51.277959),
    ])
    func publicFiles(_ c: (String, Double, Double, Double, Double, Double, Double, Double, Double)) throws {
        let dumps = try Self.read(try Self.fixture(c.0))
        #expect(dumps.count == 1)
        let d = try #require(dumps.first)
        #expect(d.era == .v20)
        #expect(d.cpus.map(\.path) == ["system.cpu"] && d.cpus[0].model == .o3)
        let cpu = d.cpus[0]
        #expect(cpu["instructions"]?.value == c.1 && cpu["instructions"]?.stats == ["system.cpu.committedInsts"])
        #expect(cpu["cycles"]?.value == c.2 && cpu["cycles"]?.stats == ["system.cpu.numCycles"])
        #expect(abs((cpu["ipc"]?.value ?? 0) - c.3) < 5e-7, "gem5 prints the IPC to 6 decimals")
        #expect(cpu["l1d_refills"]?.value == c.4 && cpu["l1d_refills"]?.stats == ["system.cpu.dcache.overall_misses::total"])
        #expect(cpu["l2_refills"]?.value == c.5 && cpu["l2_refills"]?.stats == ["system.cpu.l2cache.overall_misses::total"])
        #expect(d["dram_read_bytes"]?.value == c.6 && d["dram_read_bytes"]?.stats == ["system.physmem.bytes_read::total"],
                "physmem only: realview's nvmem and vram are not DRAM")
        #expect(d["dram_write_bytes"]?.value == c.7)
        #expect(abs((d["sim_seconds"]?.value ?? 0) - c.8) < 5e-7)
        #expect(d["cycles"]?.value == c.2, "one CPU: the system's cycles are its own")
    }

    /// A v21-era file (camelCase, `(Unit)` descriptions): two dumps of a Minor CPU and an O3 CPU,
    /// where O3's `numInsts` counts executed instructions and must not be taken.
    static let v21 = """

        ---------- Begin Simulation Statistics ----------
        simSeconds                                   0.000002                       # Number of seconds simulated (Second)
        simTicks                                      2000000                       # Number of ticks simulated (Tick)
        finalTick                                     2000000                       # Number of ticks from beginning of simulation (Tick)
        simFreq                                 1000000000000                       # The number of ticks per simulated second ((Tick/Second))
        simInsts                                         3000                       # Number of instructions simulated (Count)
        system.cpu0.numCycles                            4000                       # Number of cpu cycles simulated (Cycle)
        system.cpu0.numInsts                             1000                       # Number of instructions committed (Count)
        system.cpu0.fetch2.intInstructions                900                       # Number of integer instructions (Count)
        system.cpu0.dcache.overallAccesses::cpu0.data     300                       # number of overall accesses (Count)
        system.cpu0.dcache.overallAccesses::total         300                       # number of overall accesses (Count)
        system.cpu0.dcache.overallMisses::total            30                       # number of overall misses (Count)
        system.cpu1.numCycles                            4000                       # Number of cpu cycles simulated (Cycle)
        system.cpu1.numInsts                             2500                       # Number of Instructions executed (Count)
        system.cpu1.committedInsts                       2000                       # Number of Instructions Simulated (Count)
        system.cpu1.iew.branchMispredicts                  12                       # Number of branch mispredicts (Count)
        system.cpu1.dcache.overallAccesses::total         nan                       # number of overall accesses (Count)
        system.cpu1.dcache.overallMisses::total            40                       # number of overall misses (Count)
        system.l2.overallAccesses::cpu0.data               25                       # number of overall accesses (Count)
        system.l2.overallAccesses::cpu1.data               35                       # number of overall accesses (Count)
        system.l2.overallAccesses::total                   70                       # number of overall accesses (Count)
        system.l2.overallMisses::cpu0.data                  5                       # number of overall misses (Count)
        system.l2.overallMisses::cpu1.data                  7                       # number of overall misses (Count)
        system.mem_ctrls.dram.bytesRead::cpu0.data        320                       # Number of bytes read from this memory (Byte)
        system.mem_ctrls.dram.bytesRead::total            768                       # Number of bytes read from this memory (Byte)
        system.mem_ctrls.dram.bytesWritten::total          64                       # Number of bytes written to this memory (Byte)
        system.mem_ctrls.dram.bytesPerActivate::samples      3                       # Bytes accessed per row activation (Byte)
        system.mem_ctrls.dram.bytesPerActivate::0-127        2     66.67%     66.67% # Bytes accessed per row activation (Byte)
        system.mem_ctrls.dram.bytesPerActivate::total        3                       # Bytes accessed per row activation (Byte)
        system.cpu0.icache.oneline                          1 | 2 | 3              # a one-line distribution
        system.realview.vram.bytesRead::total           99999                       # Number of bytes read from this memory (Byte)

        ---------- End Simulation Statistics   ----------

        ---------- Begin Simulation Statistics ----------
        simSeconds                                   0.000001                       # Number of seconds simulated (Second)
        simTicks                                      1000000                       # Number of ticks simulated (Tick)
        simFreq                                 1000000000000                       # The number of ticks per simulated second ((Tick/Second))
        simInsts                                         4500                       # Number of instructions simulated (Count)
        system.cpu0.numCycles                            2000                       # Number of cpu cycles simulated (Cycle)
        system.cpu0.numInsts                              600                       # Number of instructions committed (Count)
        system.cpu0.fetch2.intInstructions                500                       # Number of integer instructions (Count)
        system.cpu1.numCycles                               0                       # Number of cpu cycles simulated (Cycle)
        system.cpu1.committedInsts                        900                       # Number of Instructions Simulated (Count)
        system.cpu1.iew.branchMispredicts                   1                       # Number of branch mispredicts (Count)
        system.mem_ctrls.dram.bytesRead::total            inf                       # Number of bytes read from this memory (Byte)
        """

    @Test("v21 names, Minor and O3 CPUs, a shared L2, nan, inf, histograms and two dumps")
    func v21TwoDumps() throws {
        let file = try Gem5StatsFile(text: Self.v21)
        #expect(file.dumps.count == 2)
        #expect(file.skipped.count == 1 && file.skipped.first?.reason.contains("one-line distribution") == true, "\(file.skipped)")
        let dumps = Gem5MetricReader(map: try Self.map).read(file)
        let d = dumps[0]
        #expect(d.era == .v21)
        #expect(d.cpus.map(\.path) == ["system.cpu0", "system.cpu1"])
        #expect(d.cpus.map(\.model) == [.minor, .o3])
        #expect(d.cpus[0]["instructions"]?.value == 1000 && d.cpus[0]["instructions"]?.stats == ["system.cpu0.numInsts"], "Minor: numInsts is committed")
        #expect(d.cpus[1]["instructions"]?.value == 2000 && d.cpus[1]["instructions"]?.stats == ["system.cpu1.committedInsts"],
                "O3 in v21-22: numInsts is executed, committedInsts is the INST_RETIRED stat")
        #expect(d["instructions"]?.value == 3000 && d["cycles"]?.value == 8000)
        #expect(d["ipc"]?.value == 3000.0 / 8000.0)
        #expect(d.cpus[0]["l1d_accesses"]?.value == 300)
        #expect(d.cpus[1]["l1d_accesses"]?.value == nil && d.cpus[1]["l1d_accesses"]?.reason?.contains("nan") == true)
        #expect(d["l1d_accesses"]?.value == nil, "a sum with a CPU missing is not a total")
        #expect(d["l1d_refills"]?.value == 70)
        // Shared L2: each CPU's data requestor, not the total (which has the instruction side too).
        #expect(d.cpus[0]["l2_accesses"]?.value == 25 && d.cpus[0]["l2_accesses"]?.stats == ["system.l2.overallAccesses::cpu0.data"])
        #expect(d.cpus[1]["l2_refills"]?.value == 7)
        #expect(d["l2_accesses"]?.value == 60)
        #expect(d["dram_read_bytes"]?.value == 768 && d["dram_read_bytes"]?.stats == ["system.mem_ctrls.dram.bytesRead::total"])
        #expect(d["dram_write_bytes"]?.value == 64)
        #expect(d["sim_seconds"]?.value == 2e-6 && d["sim_ticks"]?.value == 2_000_000)
        #expect(d.notes.isEmpty, "\(d.notes)")

        let e = dumps[1]
        #expect(e.complete == false && e.notes.contains { $0.contains("no End line") })
        #expect(e.cpus[0]["instructions"]?.value == 600)
        #expect(e.cpus[1]["ipc"]?.value == nil && e.cpus[1]["ipc"]?.reason?.contains("zero cycles") == true)
        #expect(e.cpus[0]["l1d_refills"]?.value == nil && e.cpus[0]["l1d_refills"]?.reason?.contains("not in this dump") == true)
        #expect(e["dram_read_bytes"]?.value == nil && e["dram_read_bytes"]?.reason?.contains("inf") == true)
        // simInsts (4500) is not reset between dumps; the CPUs committed 1500 in this one.
        #expect(e["instructions"]?.value == 1500)
        #expect(e.notes.contains { $0.contains("simInsts is 4500 but the CPUs committed 1500") }, "\(e.notes)")
    }

    /// A v23-era big.LITTLE file: two clusters of two CPUs (4 digits of index sort naturally),
    /// a shared L2 per cluster, two memory controllers, a Timing CPU beside O3.
    static func v23(dumps: Int) -> String {
        var s = ""
        for k in 0..<dumps {
            let f = Double(k + 1)
            s += """

                ---------- Begin Simulation Statistics ----------
                simSeconds                                   0.000010                       # Number of seconds simulated (Second)
                simTicks                                     \(Int(10_000_000 * f))                       # Number of ticks simulated (Tick)
                simFreq                                 1000000000000                       # The number of ticks per simulated second ((Tick/Second))
                simInsts                                    99999999                       # Number of instructions simulated (Count)

                """
            for (cluster, n) in [("bigCluster", 2), ("littleCluster", 2)] {
                for c in 0..<n {
                    let cpu = "system.\(cluster).cpus\(c)"
                    let base = (cluster == "bigCluster" ? 1000.0 : 100.0) * Double(c + 1) * f
                    s += "\(cpu).numCycles \(Int(base * 2)) # Number of cpu cycles simulated (Cycle)\n"
                    s += "\(cpu).commitStats0.numInsts \(Int(base)) # Number of instructions committed (Count)\n"
                    s += "\(cpu).executeStats0.numInsts \(Int(base * 1.2)) # Number of executed instructions (Count)\n"
                    if cluster == "bigCluster" { s += "\(cpu).rob.reads \(Int(base)) # rob reads (Count)\n" }
                    s += "\(cpu).dcache.overallAccesses::total \(Int(base / 3)) # accesses (Count)\n"
                    s += "\(cpu).dcache.overallMisses::total \(Int(base / 30)) # misses (Count)\n"
                    s += "system.\(cluster).l2.overallAccesses::\(cluster).cpus\(c).data \(Int(base / 40)) # accesses (Count)\n"
                    s += "system.\(cluster).l2.overallAccesses::\(cluster).cpus\(c).inst \(Int(base / 50)) # accesses (Count)\n"
                    s += "system.\(cluster).l2.overallMisses::\(cluster).cpus\(c).data \(Int(base / 400)) # misses (Count)\n"
                }
            }
            s += """
                system.mem_ctrls0.dram.bytesRead::total     \(Int(6400 * f))                       # bytes (Byte)
                system.mem_ctrls1.dram.bytesRead::total     \(Int(3200 * f))                       # bytes (Byte)
                system.mem_ctrls0.dram.bytesWritten::total   \(Int(640 * f))                       # bytes (Byte)
                system.mem_ctrls1.dram.bytesWritten::total   \(Int(320 * f))                       # bytes (Byte)

                ---------- End Simulation Statistics   ----------

                """
        }
        return s
    }

    @Test("v23 big.LITTLE: commitStats0, clusters, shared L2 per cluster, controllers summed, every dump")
    func v23BigLittle() throws {
        let dumps = try Self.read(Self.v23(dumps: 3))
        #expect(dumps.count == 3)
        for (k, d) in dumps.enumerated() {
            let f = Double(k + 1)
            #expect(d.era == .v23 && d.complete)
            #expect(d.cpus.map(\.path) == ["system.bigCluster.cpus0", "system.bigCluster.cpus1", "system.littleCluster.cpus0", "system.littleCluster.cpus1"])
            #expect(d.cpus.map(\.cluster) == ["bigCluster", "bigCluster", "littleCluster", "littleCluster"])
            #expect(d.cpus.map(\.model) == [.o3, .o3, .simple, .simple])
            let big1 = d.cpus[1]
            #expect(big1["instructions"]?.value == 2000 * f && big1["instructions"]?.stats == ["system.bigCluster.cpus1.commitStats0.numInsts"])
            #expect(big1["cycles"]?.value == 4000 * f)
            #expect(big1["l2_accesses"]?.stats == ["system.bigCluster.l2.overallAccesses::bigCluster.cpus1.data"])
            #expect(big1["l2_accesses"]?.value == Double(Int(2000 * f / 40)))
            #expect(d["instructions"]?.value == (1000 + 2000 + 100 + 200) * f)
            #expect(d["dram_read_bytes"]?.value == 9600 * f)
            #expect(d["dram_read_bytes"]?.stats == ["system.mem_ctrls0.dram.bytesRead::total", "system.mem_ctrls1.dram.bytesRead::total"])
            #expect(d["dram_write_bytes"]?.value == 960 * f)
            #expect(abs((d["sim_seconds"]?.value ?? 0) - 1e-5 * f) < 1e-18, "from ticks, not the 6-decimal simSeconds line")
        }
    }

    @Test("files that are not stats say why")
    func errors() throws {
        #expect(throws: Gem5StatsError.self) { try Gem5StatsFile(text: "hello\nworld\n", file: "x.txt") }
        do {
            _ = try Gem5StatsFile(text: "a 1\n---------- End Simulation Statistics   ----------\n", file: "y.txt")
            Issue.record("an End line without a Begin line was accepted")
        } catch {
            #expect(error.description == "y.txt:2: an End line without a Begin line")
        }
        do {
            _ = try Gem5StatsFile(text: "", file: "empty.txt")
            Issue.record("an empty file was accepted")
        } catch {
            #expect(error.description.contains("not a gem5 stats.txt"))
        }
    }

    @Test("a stat map of another version or without a metric is refused")
    func mapValidation() throws {
        let url = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("events/gem5-stats.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        let newer = try JSONDecoder().decode(Gem5StatMap.self, from: Data(text.replacingOccurrences(of: "\"schema_version\": 1", with: "\"schema_version\": 2").utf8))
        #expect(throws: Gem5StatsError.self) { try newer.validate(file: "m.json") }
        let noCycles = try JSONDecoder().decode(Gem5StatMap.self, from: Data(text.replacingOccurrences(of: "\"cycles\": {", with: "\"cycle\": {").utf8))
        do { try noCycles.validate(file: "m.json"); Issue.record("a map without cycles was accepted") } catch {
            #expect(error.description.contains("per_cpu.cycles"))
        }
    }
}
