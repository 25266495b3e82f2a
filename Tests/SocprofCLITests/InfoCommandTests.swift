import Foundation
import Testing
import TestSupport

@Suite("socprof info and events")
struct InfoCommandTests {
    func info(_ args: [String]) throws -> [String: Any] {
        let r = try Socprof.run(["info", "--json"] + args)
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    @Test("info --json carries the fields the issue names", arguments: ["odroid-xu3", "rk3399", "rk3588"])
    func jsonShape(board: String) throws {
        let doc = try info(["--root", Fixtures.root(board).path])
        #expect((doc["board"] as? [String: Any])?["name"] as? String == board)
        #expect(doc["vendor"] as? String == "Arm")
        #expect(doc["perf_event_paranoid"] as? Int == 2)
        let clusters = try #require(doc["clusters"] as? [[String: Any]])
        #expect(clusters.count == 2)
        for c in clusters {
            for key in ["name", "core", "cpus", "pmu", "max_freq_khz", "metrics"] { #expect(c[key] != nil, "\(board): \(key)") }
            let metrics = try #require(c["metrics"] as? [String: [String: Any]])
            let dram = try #require(metrics["dram_bytes"])
            #expect(dram["available"] is Bool)
            if dram["available"] as? Bool == true { #expect((dram["formula"] as? String)?.isEmpty == false) }
            else { #expect((dram["reason"] as? String)?.isEmpty == false) }
            #expect(Set(metrics.keys).isSuperset(of: ["cycles", "instructions", "ipc", "l1d_refills", "l2_refills", "l2_writebacks",
                                                      "l3_refills", "dram_read_bytes", "dram_write_bytes", "dram_bytes"]))
        }
        #expect(doc["power_sensors"] is [Any])
    }

    @Test func odroidBigCluster() throws {
        let doc = try info(["--root", Fixtures.root("odroid-xu3").path])
        let clusters = try #require(doc["clusters"] as? [[String: Any]])
        let big = try #require(clusters.first { $0["name"] as? String == "big" })
        #expect(big["core"] as? String == "cortex-a15")
        #expect(big["cpus"] as? [Int] == [4, 5, 6, 7])
        #expect(big["pmu"] as? String == "armv7_cortex_a15")
        #expect(big["max_freq_khz"] as? Int == 2_000_000)
        let dram = try #require((big["metrics"] as? [String: [String: Any]])?["dram_bytes"])
        #expect(dram["available"] as? Bool == true)
        #expect(dram["events"] as? [String] == ["armv7_cortex_a15/event=0x17/", "armv7_cortex_a15/event=0x18/"])
        let sensors = try #require(doc["power_sensors"] as? [[String: Any]])
        #expect(sensors.count == 4)
        #expect(sensors.contains { $0["cluster"] as? String == "big" && ($0["rail"] as? String)?.contains("VDD_ARM") == true })
    }

    @Test func thisVM() throws {
        let doc = try info([])
        #if arch(x86_64)
        #expect(["GenuineIntel", "AuthenticAMD"].contains(doc["vendor"] as? String ?? ""), "\(doc["vendor"] ?? "none")")
        #endif
        let clusters = try #require(doc["clusters"] as? [[String: Any]])
        #expect(!clusters.isEmpty)
        TestBranch.took(TestBranch.pmu)
        if !Fixtures.liveMachineHasCorePMU {
            let metrics = try #require(clusters[0]["metrics"] as? [String: [String: Any]])
            #expect(metrics["cycles"]?["available"] as? Bool == false)
            #expect((metrics["cycles"]?["reason"] as? String)?.contains("no core PMU") == true)
            let problems = try #require(doc["problems"] as? [[String: Any]])
            #expect(problems.contains { ($0["problem"] as? String)?.contains("no core PMU") == true && $0["fix"] is String })
        } else {
            for c in clusters {
                let metrics = try #require(c["metrics"] as? [String: [String: Any]])
                #expect(metrics["cycles"]?["available"] as? Bool == true, "\(c["name"] ?? "?"): \(metrics["cycles"] ?? [:])")
                for (name, m) in metrics where m["available"] as? Bool == false {
                    #expect((m["reason"] as? String)?.isEmpty == false, "\(name) unavailable without a reason")
                }
                #if arch(arm64) || arch(arm)
                // ARM PMUs: the counters, probed through the kernel's group validation.
                let counters = try #require(c["counters"] as? [String: Any], "\(c)")
                #expect((counters["general"] as? Int).map { $0 >= 1 } == true && counters["cycle_counter"] as? Bool == true)
                #endif
            }
        }
    }

    @Test func textForm() throws {
        let r = try Socprof.run(["info", "--root", Fixtures.root("rk3588").path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("Cluster big: cpus 4-7, Cortex-A76 r4p0"))
        #expect(r.stdout.contains("cpufreq cpus 4-5") && r.stdout.contains("cpufreq cpus 6-7"))
        #expect(r.stdout.contains("l3_refills        = L3D_CACHE_REFILL"))
        #expect(r.stdout.contains("To fix:"))
    }

    @Test func boardOverrideAndErrors() throws {
        let doc = try info(["--root", Fixtures.root("rk3399").path, "--board", "rk3588"])
        #expect((doc["board"] as? [String: Any])?["selection"] as? String == "selected with --board rk3588")
        let bad = try Socprof.run(["info", "--board", "odroid-xu5"])
        #expect(bad.status == 2 && bad.stderr.contains("no board named 'odroid-xu5'") && bad.stderr.split(separator: "\n").count == 1)
        let missing = try Socprof.run(["info", "--board", "/nonexistent/board.json"])
        #expect(missing.status == 2 && missing.stderr.contains("/nonexistent/board.json: cannot read the file"))
    }

    @Test func eventsForAClusterAndACore() throws {
        let r = try Socprof.run(["events", "--root", Fixtures.root("odroid-xu3").path, "--cluster", "little", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [[String: Any]]])
        let entry = try #require(doc["clusters"]?.first)
        #expect(entry["core"] as? String == "cortex-a7" && entry["pmu"] as? String == "armv7_cortex_a7")
        let events = try #require(entry["events"] as? [[String: Any]])
        #expect(events.contains { $0["name"] as? String == "L2D_CACHE_REFILL" && $0["code"] as? Int == 0x17 })
        #expect(!events.contains { $0["name"] as? String == "INST_SPEC" }, "the A7 has no INST_SPEC")
        let core = try Socprof.run(["events", "--core", "cortex-a76"])
        #expect(core.status == 0 && core.stdout.contains("L3D_CACHE_REFILL") && core.stdout.contains("l3_refills        = L3D_CACHE_REFILL"))
        let typo = try Socprof.run(["events", "--core", "cortex-a77"])
        #expect(typo.status == 2 && typo.stderr.contains("no event table for core 'cortex-a77'"))
        let noCluster = try Socprof.run(["events", "--root", Fixtures.root("odroid-xu3").path, "--cluster", "middle"])
        #expect(noCluster.status == 2 && noCluster.stderr.contains("this machine has little, big"))
    }
}

@Suite("socprof stat --energy")
struct StatEnergyTests {
    @Test func sensorsAndMeterLog() throws {
        // A writable copy of the Odroid-XU3 tree: the INA231s read constant power.
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root")
        try FileManager.default.copyItem(atPath: Fixtures.root("odroid-xu3").path, toPath: root.path)
        let now = Date().timeIntervalSince1970
        var csv = "timestamp,watts\n"
        // From 2 s before to 118 s after now: on the emulated arm64 board, with the rest of the
        // suite running beside it, a log that ended 8 s after now gave no meter figure (stat
        // reports none for a run the log does not cover).
        for i in 0..<1200 { csv += String(format: "%.3f,%.1f\n", now - 2 + Double(i) * 0.1, 4.0) }
        let log = dir.appendingPathComponent("meter.csv")
        try Data(csv.utf8).write(to: log)
        let r = try Socprof.run(["stat", "--root", root.path, "--energy", "--idle-baseline", "0.1", "--power-log", log.path,
                                 "--json", "-e", "task-clock", "--", "sleep", "0.3"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let energy = try #require(doc["energy"] as? [[String: Any]])
        #expect(energy.count == 4)
        let arm = try #require(energy.first { ($0["rail"] as? String)?.contains("VDD_ARM") == true })
        #expect(arm["cluster"] as? String == "big")
        let watts = try #require(arm["watts"] as? Double), seconds = try #require(arm["seconds"] as? Double)
        #expect(abs(watts - 0.41715) < 1e-6, "a constant sensor integrates to its reading")
        #expect(abs((arm["joules"] as? Double ?? 0) - 0.41715 * seconds) < 1e-6)
        #expect(abs((arm["idleWatts"] as? Double ?? 0) - 0.41715) < 1e-6)
        let meter = try #require(doc["meter_joules"] as? Double)
        // Sensors and meter share one window: 4 W over it, to well within a millisecond.
        #expect(abs(meter - 4.0 * seconds) < 0.004, "meter \(meter) J over \(seconds) s at 4 W")
        // The sampler enabled the sensors it read.
        #expect((try? String(contentsOfFile: root.appendingPathComponent("sys/bus/i2c/drivers/INA231/3-0040/enable").path, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }

    /// On a tree without sensors (an empty --root, so that the machine's own hwmon does not count).
    @Test func noSensorsSaysSo() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let r = try Socprof.run(["stat", "--root", root.path, "--energy", "--idle-baseline", "0", "-e", "task-clock", "--", "true"])
        #expect(r.status == 0)
        #expect(r.stderr.contains("--energy: no power sensor found"))
        let bad = try Socprof.run(["stat", "--power-log", "/nonexistent.csv", "--", "true"])
        #expect(bad.status == 2 && bad.stderr.contains("cannot be read"))
    }
}
