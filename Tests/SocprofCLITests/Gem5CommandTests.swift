import Foundation
import Testing
import TestSupport

/// `socprof gem5 stats` run as a user runs it.
@Suite("socprof gem5 stats")
struct Gem5CommandTests {
    static func fixture(_ name: String) -> String { Fixtures.directory.appendingPathComponent("gem5/\(name)").path }

    @Test("--json: every dump, per CPU, each metric with the stat it came from")
    func json() throws {
        let r = try Socprof.run(["gem5", "stats", Self.fixture("arm-o3-mcf-stats.txt"), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(doc["schema"] as? String == "socprof.gem5-stats")
        let dumps = try #require(doc["dumps"] as? [[String: Any]])
        #expect(dumps.count == 1)
        let metrics = try #require(dumps[0]["metrics"] as? [String: [String: Any]])
        for name in ["cycles", "instructions", "ipc", "l1d_accesses", "l1d_refills", "l2_accesses", "l2_refills", "dram_read_bytes", "dram_write_bytes", "sim_seconds"] {
            #expect(metrics[name]?["value"] is Double, "\(name)")
        }
        #expect(metrics["cycles"]?["value"] as? Double == 117_042_173 && metrics["cycles"]?["stat"] as? String == "system.cpu.numCycles")
        #expect(metrics["dram_read_bytes"]?["value"] as? Double == 1_186_880)
        let cpus = try #require(dumps[0]["cpus"] as? [[String: Any]])
        #expect(cpus.count == 1 && cpus[0]["path"] as? String == "system.cpu" && cpus[0]["model"] as? String == "o3")
        let cpuMetrics = try #require(cpus[0]["metrics"] as? [String: [String: Any]])
        #expect(cpuMetrics["instructions"]?["value"] as? Double == 90_589_799 && cpuMetrics["instructions"]?["stat"] as? String == "system.cpu.committedInsts")
    }

    @Test("CSV and table; a metric gem5 did not give is empty with the reason, never 0")
    func csvAndTable() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("stats.txt")
        var text = ""
        for k in 1...2 {
            text += """

                ---------- Begin Simulation Statistics ----------
                simTicks                                     \(k * 1_000_000)                       # Number of ticks simulated (Tick)
                simFreq                                 1000000000000                       # The number of ticks per simulated second ((Tick/Second))
                system.cpu.numCycles                         \(k * 3000)                       # Number of cpu cycles simulated (Cycle)
                system.cpu.exec_context.thread_0.numInsts    \(k * 1000)                       # Number of instructions committed (Count)
                system.mem_ctrl.dram.bytesRead::total        \(k * 64)                       # Number of bytes read (Byte)

                ---------- End Simulation Statistics   ----------

                """
        }
        try Data(text.utf8).write(to: file)
        let csv = try Socprof.run(["gem5", "stats", file.path, "--format", "csv"])
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "dump,cpu,model,metric,value,stat,reason")
        #expect(lines.contains("1,system.cpu,simple,instructions,2000,system.cpu.exec_context.thread_0.numInsts,"))
        #expect(lines.contains("0,all,,dram_read_bytes,64,system.mem_ctrl.dram.bytesRead::total,"))
        let l1 = try #require(lines.first { $0.hasPrefix("0,system.cpu,simple,l1d_refills,") })
        #expect(l1.hasPrefix("0,system.cpu,simple,l1d_refills,,"), "no value, not 0: \(l1)")
        #expect(l1.contains("not in this dump"))
        // Reasons hold commas: read back by Python's csv module, every row has the header's 7 fields.
        let out = dir.appendingPathComponent("out.csv")
        try Data(csv.stdout.utf8).write(to: out)
        let py = try Socprof.runProgram(try #require(Socprof.which("python3")), ["-c", """
            import csv, sys
            rows = list(csv.reader(open(sys.argv[1])))
            assert all(len(r) == 7 for r in rows), [r for r in rows if len(r) != 7][:2]
            assert any(',' in r[6] for r in rows), 'no reason with a comma to check'
            print('ok', len(rows))
            """, out.path])
        #expect(py.status == 0 && py.stdout.hasPrefix("ok"), "\(py.stderr)")
        let table = try Socprof.run(["gem5", "stats", file.path])
        #expect(table.status == 0 && table.stdout.contains("2 dump(s)") && table.stdout.contains("gem5 v21-v22"))
    }

    @Test("bad input: an unreadable file, a file that is not stats, a bad map")
    func badInput() throws {
        let missing = try Socprof.run(["gem5", "stats", "/nonexistent/stats.txt"])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read the file"))
        let notStats = try Socprof.run(["gem5", "stats", Fixtures.directory.appendingPathComponent("gem5/README.md").path])
        #expect(notStats.status == 2 && notStats.stderr.contains("not a gem5 stats.txt"), "\(notStats.stderr)")
        let badMap = try Socprof.run(["gem5", "stats", Self.fixture("arm-o3-mcf-stats.txt"), "--map", Self.fixture("README.md")])
        #expect(badMap.status == 2 && badMap.stderr.contains("not a gem5 stat map"), "\(badMap.stderr)")
    }
}
