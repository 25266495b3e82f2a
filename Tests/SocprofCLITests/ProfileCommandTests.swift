import Foundation
import Testing
import TestSupport

@Suite("socprof profile")
struct ProfileCommandTests {
    @Test func jsonPerLayerWithProvenance() throws {
        let r = try Socprof.run(["profile", "squeezenet-1.1", "--repeat", "2", "--warmup", "1", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(doc["schema"] as? String == "socprof.profile")
        #expect((doc["throughput_ips"] as? Double ?? 0) > 0)
        let layers = try #require(doc["layers"] as? [[String: Any]])
        #expect(layers.count == 39) // every layer after the input
        for l in layers {
            for key in ["name", "kind", "macs", "ops", "time_s", "oi_theoretical", "oi_empirical", "metrics", "events"] { #expect(l[key] != nil, "\(key)") }
            // Two repeats: the median is the mean of the two, halfway between the min and the max.
            let t = try #require(l["time_s"] as? Double), lo = try #require(l["time_min_s"] as? Double), hi = try #require(l["time_max_s"] as? Double)
            #expect(lo <= hi && abs(t - (lo + hi) / 2) <= 1e-12 * max(hi, 1e-9), "\(l["name"] ?? "?"): median \(t) of \(lo) and \(hi)")
            let events = try #require(l["events"] as? [String: [String: Any]])
            let clock = try #require(events["task-clock"])
            // Every layer runs on the threads for some time: a 0 here would be a lost count.
            #expect(clock["source"] as? String == "measured" && (clock["value"] as? Double).map { $0 > 0 } == true, "\(l["name"] ?? "?"): \(clock)")
            let metrics = try #require(l["metrics"] as? [String: [String: Any]])
            for (name, m) in metrics {
                // A figure is a value with its source, or null with the reason: never a bare 0.
                if m["value"] is NSNull {
                    #expect(m["source"] as? String == "unavailable" && (m["detail"] as? String)?.isEmpty == false, "\(name)")
                } else {
                    #expect(m["source"] as? String == "measured", "\(name)")
                }
            }
        }
        TestBranch.took(TestBranch.pmu)
        if !Fixtures.liveMachineHasCorePMU {
            let metrics = try #require(layers[0]["metrics"] as? [String: [String: Any]])
            #expect(metrics["cycles"]?["value"] is NSNull)
            #expect((metrics["cycles"]?["detail"] as? String)?.contains("no core PMU") == true)
            #expect((layers[0]["oi_empirical"] as? [String: Any])?["value"] is NSNull)
        } else {
            // A hardware PMU (a board, or the emulated one of scripts/arm-board): cycles are
            // measured on every worker thread of every layer, and anything the PMU lacks has a reason.
            let threads = try #require(doc["threads"] as? Int)
            for l in layers {
                let cycles = try #require((l["metrics"] as? [String: [String: Any]])?["cycles"])
                #expect(cycles["source"] as? String == "measured", "\(l["name"] ?? "?"): \(cycles)")
                #expect((cycles["value"] as? Double).map { $0 > 0 } == true, "\(l["name"] ?? "?"): \(cycles)")
            }
            let events = try #require(layers[0]["events"] as? [String: [String: Any]])
            let hardware = events.filter { !["task-clock", "page-faults", "context-switches"].contains($0.key) }
            #expect(!hardware.isEmpty)
            for (name, e) in hardware where e["source"] as? String == "measured" {
                #expect((e["detail"] as? String)?.contains("summed over \(threads) thread(s)") == true, "\(name): \(e)")
            }
        }
    }

    @Test("a memory controller's PMU (rockchip_ddr on the RK3588 fixture) is counted system-wide, and says why when it cannot be")
    func systemWideMetricsFromTheBoard() throws {
        // The fixture's PMUs do not exist in this kernel: opening them fails, and the reason
        // reaches the figures.
        let r = try Socprof.run(["profile", "squeezenet-1.1", "--root", Fixtures.root("rk3588").path, "--cpus", "0", "--repeat", "1", "--warmup", "0", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let notes = try #require(doc["notes"] as? [String])
        #expect(notes.contains { $0.contains("system-wide") && $0.contains("rockchip_ddr/bytes/") }, "\(notes)")
        let layers = try #require(doc["layers"] as? [[String: Any]])
        for l in layers {
            let events = try #require(l["events"] as? [String: [String: Any]])
            let ddr = try #require(events["rockchip_ddr/bytes/"])
            #expect(ddr["value"] is NSNull && (ddr["detail"] as? String)?.isEmpty == false)
            let dram = try #require((l["metrics"] as? [String: [String: Any]])?["dram_bytes"])
            #expect(dram["value"] is NSNull)
            #expect((dram["detail"] as? String)?.contains("rockchip_ddr/bytes/") == true, "\(dram)")
            #expect((events["task-clock"]?["value"] as? Double).map { $0 > 0 } == true)
        }
    }

    @Test func csvReadsAsATableAndOutputIsAtomic() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("p.csv").path
        let r = try Socprof.run(["profile", "mobilenet", "--repeat", "1", "--warmup", "0", "--threads", "1", "--format", "csv", "-o", out, "--no-counters"])
        #expect(r.status == 0, "\(r.stderr)")
        let py = try Socprof.runProgram(try #require(Socprof.which("python3")), ["-c", """
            import csv, sys
            rows = list(csv.DictReader(open(sys.argv[1])))
            assert len(rows) == 30, len(rows)
            assert all(float(r['time_s']) > 0 for r in rows)
            assert rows[0]['layer'] == 'Conv2d_0', rows[0]['layer']
            print('ok', len(rows))
            """, out])
        #expect(py.status == 0 && py.stdout.hasPrefix("ok 30"), "\(py.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["p.csv"])
    }

    @Test("-e takes a list, as stat's, and may be repeated")
    func eventList() throws {
        let r = try Socprof.run(["profile", "squeezenet-1.1", "--threads", "1", "--repeat", "1", "--warmup", "0", "--no-energy",
                                 "--metrics", "cycles", "-e", "task-clock,page-faults", "-e", "context-switches", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let layer = try #require((doc["layers"] as? [[String: Any]])?.first { $0["name"] as? String == "conv1" })
        let events = try #require(layer["events"] as? [String: Any])
        for name in ["task-clock", "page-faults", "context-switches"] { #expect(events[name] != nil, "\(name): \(events.keys)") }
        let bad = try Socprof.run(["profile", "squeezenet-1.1", "-e", "task-clock,cyclez"])
        #expect(bad.status == 2 && bad.stderr.contains("cyclez"), "\(bad.stderr)")
    }

    @Test func badInput() throws {
        let typo = try Socprof.run(["profile", "resnet5"])
        #expect(typo.status == 2 && typo.stderr.contains("did you mean 'resnet50'"))
        let metric = try Socprof.run(["profile", "mobilenet", "--metrics", "dram_byte", "--repeat", "1"])
        #expect(metric.status == 2 && metric.stderr.contains("unknown metric 'dram_byte'"))
    }

    @Test func interruptWritesWhatWasMeasured() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("p.json").path
        let (p, _, err) = try Socprof.start(["profile", "resnet50", "--repeat", "10000", "--warmup", "0", "--idle-baseline", "0", "--threads", "1",
                                             "--format", "json", "-o", out, "--progress"])
        // Interrupt after the first timed run, however long it takes (a Cortex-A7 or an emulated
        // core needs far longer than a desktop): --progress prints a line after each run.
        var seen = ""
        while !seen.contains("run 1") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break } // socprof exited before its first run
            seen += String(decoding: chunk, as: UTF8.self)
        }
        #expect(seen.contains("socprof profile: resnet50 run 1"), "\(seen)")
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let repeats = try #require(doc["repeats"] as? Int)
        #expect(repeats >= 1 && repeats < 10000)
        #expect((doc["notes"] as? [String])?.contains { $0.contains("interrupted") } == true)
    }
}

@Suite("socprof ceilings and the roofline", .serialized)
struct CeilingsCommandTests {
    /// Whether CPU 0's sysfs gives the size of a level-1 data cache (read here, not by socprof).
    static var liveL1DataCacheIsSized: Bool {
        let base = "/sys/devices/system/cpu/cpu0/cache"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        func read(_ path: String) -> String? {
            (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return entries.filter { $0.hasPrefix("index") }.contains { e in
            read("\(base)/\(e)/level") == "1" && read("\(base)/\(e)/type") != "Instruction" && read("\(base)/\(e)/size") != nil
        }
    }

    @Test func ceilingsAreMeasuredKeptAndUsedByProfile() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = ProcessInfo.processInfo.environment
        env["XDG_CACHE_HOME"] = dir.path
        let r = try Socprof.run(["ceilings", "--threads", "1", "--max-mib", "8", "--json"], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((doc["peak_gflops_fp32"] as? Double ?? 0) > 0)
        #expect((doc["reference_fma_gflops"] as? Double ?? 0) > 0)
        let bw = try #require(doc["bandwidth_gbs"] as? [String: Double])
        #expect(bw["DRAM"] != nil && bw.values.allSatisfy { $0 > 0 })
        // L1 is placed where the kernel sizes the L1 data cache; where it does not (QEMU's virt),
        // the report says why instead of naming a level it could not size.
        if Self.liveL1DataCacheIsSized {
            #expect(bw["L1"] != nil, "\(bw)")
        } else {
            #expect(bw["L1"] == nil && (doc["notes"] as? [String])?.contains { $0.contains("no cache sizes") } == true, "\(doc)")
        }
        let sweep = try #require(doc["sweep"] as? [[String: Any]])
        #expect(sweep.count == 10) // 16 KiB ... 8 MiB
        let kept = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("socprof/ceilings").path)
        #expect(kept.count == 1 && kept[0].hasSuffix("-1t.json"), "\(kept)")

        // profile with the same cluster and threads places every layer under that roofline.
        let p = try Socprof.run(["profile", "squeezenet-1.1", "--threads", "1", "--repeat", "1", "--warmup", "0", "--format", "json"], environment: env)
        #expect(p.status == 0, "\(p.stderr)")
        let prof = try #require(try JSONSerialization.jsonObject(with: Data(p.stdout.utf8)) as? [String: Any])
        let roofline = try #require(prof["roofline"] as? [String: Any])
        #expect((roofline["source"] as? String)?.contains("measured ceilings") == true)
        let layers = try #require(prof["layers"] as? [[String: Any]])
        let peak = try #require(roofline["peak_gflops"] as? Double), dram = try #require(roofline["dram_gbs"] as? Double)
        for l in layers {
            #expect(["memory", "compute"].contains(l["bound"] as? String ?? ""))
            let attainable = try #require(l["attainable_gops"] as? [String: Any])
            #expect(attainable["source"] as? String == "estimated")
            // The roofline by hand: below the ridge (peak / bandwidth) a layer is memory-bound and
            // can reach OI x bandwidth; above it, compute-bound at the peak.
            let oi = ((l["oi_empirical"] as? [String: Any])?["value"] as? Double) ?? (l["oi_theoretical"] as? Double ?? 0)
            let bound = oi < peak / dram ? "memory" : "compute"
            #expect(l["bound"] as? String == bound, "\(l["name"] ?? ""): OI \(oi), ridge \(peak / dram)")
            #expect(abs((attainable["value"] as? Double ?? -1) - min(peak, oi * dram)) <= 1e-9 * peak)

            if !Fixtures.liveMachineHasCorePMU { #expect(l["bound_basis"] as? String == "oi_theoretical") }
            else if l["bound_basis"] as? String == "oi_empirical" {
                #expect((l["oi_empirical"] as? [String: Any])?["value"] is Double, "the bound rests on a measured OI_e")
            } else {
                #expect(l["bound_basis"] as? String == "oi_theoretical")
                #expect((l["oi_empirical"] as? [String: Any])?["value"] is NSNull, "OI_e measured but not used for the bound")
            }
        }
        // Without ceilings (another thread count), no bound, and the report says how to get one.
        let q = try Socprof.run(["profile", "squeezenet-1.1", "--threads", "2", "--repeat", "1", "--warmup", "0", "--format", "json"], environment: env)
        let none = try #require(try JSONSerialization.jsonObject(with: Data(q.stdout.utf8)) as? [String: Any])
        #expect(none["roofline"] == nil || none["roofline"] is NSNull)
        #expect((none["notes"] as? [String])?.contains { $0.contains("run `socprof ceilings`") } == true)
    }
}

@Suite("socprof roofline (SVG)")
struct RooflineSVGTests {
    @Test func profileDrawsAndRooflineOverlays() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var env = ProcessInfo.processInfo.environment
        env["XDG_CACHE_HOME"] = dir.path
        _ = try Socprof.run(["ceilings", "--threads", "1", "--max-mib", "8", "--json"], environment: env)
        let a = dir.appendingPathComponent("a.json").path, b = dir.appendingPathComponent("b.json").path
        let svg = dir.appendingPathComponent("a.svg").path, both = dir.appendingPathComponent("both.svg").path
        let p = try Socprof.run(["profile", "squeezenet-1.1", "--threads", "1", "--repeat", "1", "--warmup", "0", "--format", "json", "-o", a,
                                 "--roofline", svg], environment: env)
        #expect(p.status == 0, "\(p.stderr)")
        let q = try Socprof.run(["profile", "mobilenet", "--threads", "1", "--repeat", "1", "--warmup", "0", "--format", "json", "-o", b], environment: env)
        #expect(q.status == 0, "\(q.stderr)")
        let r = try Socprof.run(["roofline", a, b, "-o", both])
        #expect(r.status == 0, "\(r.stderr)")
        // Well-formed SVG with the ceilings, one OI_t marker per layer and a point per network.
        let check = try Socprof.runProgram(try #require(Socprof.which("python3")), ["-c", """
            import sys, xml.etree.ElementTree as ET
            ns = '{http://www.w3.org/2000/svg}'
            one = ET.parse(sys.argv[1]).getroot(); two = ET.parse(sys.argv[2]).getroot()
            lines = one.findall(ns + 'polyline')
            assert len(lines) == 1, 'ceilings'
            hollow = [c for c in one.iter(ns + 'circle') if c.get('fill') == 'white']
            texts = ' '.join(t.text or '' for t in one.iter(ns + 'text'))
            assert 'ridge' in texts and 'peak' in texts and 'DRAM' in texts and 'Legend' in texts, texts
            diamonds = [p for p in two.iter(ns + 'path') if 'whole network' in ''.join(p.itertext())]
            import json
            layers = json.load(open(sys.argv[3]))['layers']
            drawn = sum(1 for l in layers if l['gops'] > 0 and l['ops'] > 0 and l['oi_theoretical'] > 0)
            assert len(hollow) == drawn + 1, (len(hollow), drawn)  # one per layer that does work, one in the legend
            # Log axes the right way round: more GOP/s is drawn higher (smaller y), more ops/byte
            # further right, by the layers' own figures in the report.
            byname = {l['name']: l for l in layers}
            pts = []
            for c in hollow:
                t = c.find(ns + 'title')
                if t is None: continue
                l = byname[t.text.split(' (')[0]]
                pts.append((l['gops'], l['oi_theoretical'], float(c.get('cx')), float(c.get('cy'))))
            assert len(pts) == drawn, len(pts)
            for a in pts:
                for b in pts:
                    if a[0] > 1.5 * b[0]: assert a[3] < b[3], ('higher GOP/s drawn lower', a, b)
                    if a[1] > 1.5 * b[1]: assert a[2] > b[2], ('higher intensity drawn left', a, b)
            assert len(diamonds) == 2, len(diamonds)
            print('ok', drawn)
            """, svg, both, a])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.hasPrefix("ok 31"), "\(check.stdout) \(check.stderr)")
        let bad = try Socprof.run(["roofline", svg, "-o", both])
        #expect(bad.status == 2 && bad.stderr.contains("not a socprof profile report"))
    }
}

@Suite("socprof profile --trace")
struct TraceTests {
    @Test func layersAsSlicesPerThreadAndCounterTracks() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.json").path, report = dir.appendingPathComponent("r.json").path
        let r = try Socprof.run(["profile", "squeezenet-1.1", "--threads", "2", "--repeat", "2", "--warmup", "0", "--format", "json", "-o", report, "--trace", trace])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: trace))) as? [String: Any])
        let events = try #require(doc["traceEvents"] as? [[String: Any]])
        let slices = events.filter { $0["ph"] as? String == "X" }
        #expect(slices.count == 39 * 2, "one slice per layer per thread")
        #expect(Set(slices.compactMap { $0["tid"] as? Int }) == [0, 1])
        #expect(slices.allSatisfy { ($0["args"] as? [String: Any])?["task-clock"] is Double })
        // The calling thread runs every layer (a worker may sleep through one, e.g. softmax: 0 is real there).
        #expect(slices.filter { $0["tid"] as? Int == 0 }.allSatisfy { (($0["args"] as? [String: Any])?["task-clock"] as? Double).map { $0 > 0 } == true })
        let counters = events.filter { $0["ph"] as? String == "C" }
        #expect(Set(counters.compactMap { $0["name"] as? String }).isSuperset(of: ["task-clock", "page-faults"]))
        // Slices are in time order and do not overlap on a thread.
        let t0 = slices.filter { $0["tid"] as? Int == 0 }.compactMap { e -> (Double, Double)? in
            guard let ts = e["ts"] as? Double, let dur = e["dur"] as? Double else { return nil }
            return (ts, dur)
        }
        for (a, b) in zip(t0, t0.dropFirst()) { #expect(a.0 + a.1 <= b.0 + 0.001) }
        // The report keeps the per-thread values of the last repeat.
        let rep = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let last = try #require(rep["last_run"] as? [[String: Any]])
        #expect(last.count == 39 && (last[0]["per_thread"] as? [[String: Double]])?.count == 2)
    }
}

@Suite("socprof compare")
struct CompareTests {
    @Test func twoReportsSideBySide() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.json").path, b = dir.appendingPathComponent("b.json").path
        for (path, threads) in [(a, "1"), (b, "2")] {
            let r = try Socprof.run(["profile", "squeezenet-1.1", "--threads", threads, "--repeat", "1", "--warmup", "0", "--format", "json", "-o", path])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let c = try Socprof.run(["compare", a, b, "--metric", "task-clock", "--json"])
        #expect(c.status == 0, "\(c.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(c.stdout.utf8)) as? [String: Any])
        let layers = try #require(doc["layers"] as? [[String: Any]])
        #expect(layers.count == 39)
        for l in layers {
            let ta = try #require(l["a_time_s"] as? Double), tb = try #require(l["b_time_s"] as? Double), ratio = try #require(l["time_ratio"] as? Double)
            #expect(abs(ratio - tb / ta) < 1e-9 * max(1, ratio))
            #expect(l["metric_ratio"] is Double)
        }
        let ra = try #require(doc["a_throughput_ips"] as? Double), rb = try #require(doc["b_throughput_ips"] as? Double)
        #expect(abs((doc["throughput_ratio"] as? Double ?? 0) - rb / ra) < 1e-9)
        let text = try Socprof.run(["compare", a, b])
        #expect(text.status == 0 && text.stdout.contains("images/s B/A:") && text.stdout.contains("fire2/squeeze1x1"))
        let bad = try Socprof.run(["compare", a, "/nonexistent.json"])
        #expect(bad.status == 2 && bad.stderr.contains("/nonexistent.json: cannot read the file"))
    }
}

@Suite("socprof profile energy")
struct ProfileEnergyTests {
    @Test func constantSensorsIntegrateExactly() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("root")
        try FileManager.default.copyItem(atPath: Fixtures.root("odroid-xu3").path, toPath: root.path)
        // The four INA231s read constant power: their sum is the power of every layer.
        var watts = 0.0
        for dev in ["3-0040", "3-0041", "3-0044", "3-0045"] {
            let text = try String(contentsOfFile: root.appendingPathComponent("sys/bus/i2c/drivers/INA231/\(dev)/sensor_W").path, encoding: .utf8)
            watts += try #require(Double(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let r = try Socprof.run(["profile", "squeezenet-1.1", "--root", root.path, "--cpus", "0-1", "--repeat", "3", "--warmup", "0",
                                 "--idle-baseline", "0.1", "--no-counters", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let layers = try #require(doc["layers"] as? [[String: Any]])
        for l in layers {
            let e = try #require(l["energy_j"] as? [String: Any])
            let j = try #require(e["value"] as? Double, "\(l["name"] ?? "?"): \(e)")
            // Mean over repeats of power x time; the time is the median: compare with the bounds.
            let tmin = try #require(l["time_min_s"] as? Double), tmax = try #require(l["time_max_s"] as? Double)
            #expect(j >= watts * tmin * 0.999 && j <= watts * tmax * 1.001, "\(l["name"] ?? "?"): \(j) J at \(watts) W over \(tmin)-\(tmax) s")
        }
        let energy = try #require(doc["energy"] as? [String: Any])
        let mean = try #require((energy["mean_watts"] as? [String: Any])?["value"] as? Double)
        #expect(abs(mean - watts) < 1e-6 * watts, "\(mean) W, sensors \(watts) W")
        let idle = try #require((energy["idle_watts"] as? [String: Any])?["value"] as? Double)
        #expect(abs(idle - watts) < 1e-6 * watts)
        let perImage = try #require((energy["joules_per_image"] as? [String: Any])?["value"] as? Double)
        // The layers' energies are parts of the run's: their sum cannot exceed it (the run also
        // holds the gaps between layers), and the layers take most of the run.
        let layerSum = layers.compactMap { ($0["energy_j"] as? [String: Any])?["value"] as? Double }.reduce(0, +)
        #expect(perImage > 0 && layerSum <= perImage * 1.0001 && layerSum >= 0.5 * perImage, "layers \(layerSum) J, run \(perImage) J")
        let above = try #require((energy["joules_per_image_above_idle"] as? [String: Any])?["value"] as? Double)
        #expect(abs(above) < 1e-6, "constant power: nothing above idle")
        #expect(((energy["sensors"] as? [String]) ?? []).count == 4)
        // --no-energy: no figures, and on a machine without sensors a note says so.
        let off = try Socprof.run(["profile", "squeezenet-1.1", "--root", root.path, "--cpus", "0-1", "--repeat", "1", "--warmup", "0",
                                   "--no-energy", "--no-counters", "--format", "json"])
        let offDoc = try #require(try JSONSerialization.jsonObject(with: Data(off.stdout.utf8)) as? [String: Any])
        #expect(offDoc["energy"] == nil || offDoc["energy"] is NSNull)
    }
}
