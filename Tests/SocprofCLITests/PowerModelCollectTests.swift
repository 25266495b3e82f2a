import Foundation
import Testing
import TestSupport

/// `socprof powermodel collect` run as a user runs it, on a writable copy of the Odroid-XU3 tree
/// (its INA231 sensors and cpufreq policies) with software events standing for the PMU's.
@Suite("socprof powermodel collect", .serialized)
struct PowerModelCollectTests {
    static let policy = "sys/devices/system/cpu/cpu0/cpufreq"

    @Test("rows per workload and frequency, a file powermodel fit reads, the policy restored")
    func collectThenFit() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("samples.csv").path
        let r = try Socprof.run(["powermodel", "collect", "--root", root.path, "--cluster", "little", "--frequencies", "600,800,1000,1200,1400",
                                 "--workloads", "idle,fma", "--seconds", "0.2", "--settle", "0", "-e", "task-clock,context-switches", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("10 rows in \(out)"))
        // The fixture's scaling_cur_freq does not follow the limits: every row is flagged.
        #expect(r.stderr.contains("warning: idle at 600 MHz: the policy reported 800 MHz"))
        let text = try String(contentsOfFile: out, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("# power: ina231 VDD_KFC") })
        #expect(lines.contains { $0.contains("voltage: measured (sys/bus/i2c/drivers/INA231/3-0045/sensor_V)") })
        let data = lines.filter { !$0.hasPrefix("#") }
        #expect(data.first == "workload,freq_mhz,freq_read_mhz,voltage_v,power_w,seconds,task_clock,context_switches")
        let rows = data.dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(rows.map { "\($0[0])@\($0[1])" } == ["idle@600", "idle@800", "idle@1000", "idle@1200", "idle@1400", "fma@600", "fma@800", "fma@1000", "fma@1200", "fma@1400"])
        for row in rows {
            #expect(row[3] == "1" && abs(Double(row[4])! - 0.07) < 1e-12, "\(row)") // sensor_V, sensor_W of the fixture
        }
        // task-clock per core: at most 1e9 ns/s on a core; the FMA threads run all the time they
        // get (less when the other tests take the CPUs), the idle pool sleeps. Against the median
        // idle row: on a loaded 2-CPU emulated board one idle row saw 7.7 % of a core.
        let rates = rows.map { (workload: $0[0], rate: Double($0[6])!) }
        let idleRates = rates.filter { $0.workload == "idle" }.map(\.rate).sorted()
        let idle = idleRates[idleRates.count / 2]
        for r in rates where r.workload == "fma" { #expect(r.rate < 1.05e9 && r.rate > 10 * idle, "\(rates)") }
        #expect(root.read("\(Self.policy)/scaling_min_freq") == "200000\n" && root.read("\(Self.policy)/scaling_max_freq") == "1400000\n")
        // powermodel fit reads the file as written, labels and comments included.
        let fit = try Socprof.run(["powermodel", "fit", out, "--events", "task_clock", "--folds", "2", "--json"])
        #expect(fit.status == 0, "\(fit.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(fit.stdout.utf8)) as? [String: Any])
        #expect(doc["rows"] as? Int == 10)
        #expect(doc["events"] as? [String] == ["task_clock"])
    }

    @Test("Ctrl-C stops after the row in progress: rows kept, a note in the file, the policy restored, status 130")
    func interrupt() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("samples.csv").path
        let (p, _, err) = try Socprof.start(["powermodel", "collect", "--root", root.path, "--cluster", "little", "--frequencies", "600,1000,1400",
                                             "--workloads", "fma", "--seconds", "1", "--settle", "0", "-e", "task-clock", "-o", out, "--progress"])
        // Interrupt while the second row is measured, pinned to 1000 MHz.
        var seen = ""
        while !seen.contains("[2/3]") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        #expect(seen.contains("[2/3] fma at 1000 MHz"), "\(seen)")
        var pinned = false
        for _ in 0..<200 where !pinned {
            pinned = root.read("\(Self.policy)/scaling_max_freq") == "1000000\n"
            if !pinned { usleep(10_000) }
        }
        #expect(pinned)
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        let rest = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 130, "\(rest)")
        #expect(rest.contains("interrupted; frequencies restored; 1 of 3 rows"))
        #expect(root.read("\(Self.policy)/scaling_min_freq") == "200000\n" && root.read("\(Self.policy)/scaling_max_freq") == "1400000\n")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("fma,") }.count == 1)
        #expect(text.hasSuffix("# stopped (interrupted) after 1 of 3 rows\n"))
    }

    @Test("no power sensor: it says so and stops before writing anything")
    func noSensor() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(atPath: root.absolute("sys/bus/i2c"))
        let out = dir.appendingPathComponent("samples.csv").path
        let r = try Socprof.run(["powermodel", "collect", "--root", root.path, "--cluster", "little", "-e", "task-clock", "-o", out])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no power sensor under \(root.path)") && r.stderr.contains("stops here"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("without a voltage sensor the board file's table is used, interpolated, and a frequency outside it is refused")
    func voltageTable() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(atPath: root.absolute("sys/bus/i2c/drivers/INA231/3-0045/sensor_V"))
        let out = dir.appendingPathComponent("samples.csv").path
        let args = ["powermodel", "collect", "--root", root.path, "--cluster", "little", "--workloads", "idle", "--seconds", "0.05",
                    "--settle", "0", "-e", "task-clock", "-o", out]
        let r = try Socprof.run(args + ["--frequencies", "600,800"])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.contains("voltage: table (boards/odroid-xu3.json: GemStone"))
        // 600 MHz is a point (0.944 V); 800 MHz lies halfway to 1000 MHz (1.089 V).
        let volts = text.split(separator: "\n").filter { $0.hasPrefix("idle,") }.map { $0.split(separator: ",")[3] }
        #expect(volts == ["0.944", "1.0165"])
        // The big cluster's table spans 600-1800 MHz; its policy offers up to 2000 MHz.
        try FileManager.default.removeItem(atPath: root.absolute("sys/bus/i2c/drivers/INA231/3-0040/sensor_V"))
        let big = ["powermodel", "collect", "--root", root.path, "--cluster", "big", "--workloads", "idle", "-e", "task-clock", "-o", out]
        let outside = try Socprof.run(big + ["--frequencies", "1800,2000"])
        #expect(outside.status == 2 && outside.stderr.contains("2000.0 MHz is outside the voltage table (600.0–1800.0 MHz"), "\(outside.stderr)")
        #expect(root.read("sys/devices/system/cpu/cpu4/cpufreq/scaling_max_freq") == "2000000\n") // refused before pinning
    }

    @Test("bad options are refused with what is expected")
    func badInput() throws {
        let typo = try Socprof.run(["powermodel", "collect", "--workloads", "fma,mobilenett"])
        #expect(typo.status == 2 && typo.stderr.contains("unknown workload 'mobilenett'") && typo.stderr.contains("did you mean 'mobilenet'"))
        let freq = try Socprof.run(["powermodel", "collect", "--frequencies", "1.4GHz"])
        #expect(freq.status == 2 && freq.stderr.contains("'1.4GHz' is not a frequency in MHz"))
        let secs = try Socprof.run(["powermodel", "collect", "--seconds", "0"])
        #expect(secs.status == 2 && secs.stderr.contains("--seconds 0.0 must be above 0"))
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let offered = try Socprof.run(["powermodel", "collect", "--root", root.path, "--cluster", "little", "--frequencies", "1050", "-e", "task-clock"])
        #expect(offered.status == 2 && offered.stderr.contains("1050 MHz is not offered by cpus 0-3"))
        let cluster = try Socprof.run(["powermodel", "collect", "--root", root.path, "--cluster", "middle"])
        #expect(cluster.status == 2 && cluster.stderr.contains("no cluster 'middle'; this machine has little, big"))
    }
}
