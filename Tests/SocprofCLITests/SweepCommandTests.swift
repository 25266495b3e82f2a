import Foundation
import Testing
import TestSupport

/// `socprof sweep` run as a user runs it: on this machine's CPUs, and on a writable copy of the
/// Odroid-XU3 tree (cpufreq policies to pin, INA231 sensors to read).
@Suite("socprof sweep", .serialized)
struct SweepCommandTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("a row per network and a column per CPU group, images/s with provenance, and a chart with one bar per cell")
    func rowsColumnsAndChart() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let svg = dir.appendingPathComponent("fig2.svg").path
        let r = try Socprof.run(["sweep", "--networks", "squeezenet-1.1,mobilenet", "--repeat", "3", "--cpus", "0", "--cpus", "1",
                                 "--format", "json", "--svg", svg])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try Self.json(r.stdout)
        #expect(doc["schema"] as? String == "socprof.sweep")
        #expect((doc["columns"] as? [[String: Any]])?.map { $0["name"] as? String } == ["cpus 0", "cpus 1"])
        let rows = try #require(doc["rows"] as? [[String: Any]])
        #expect(rows.map { $0["network"] as? String } == ["squeezenet-1.1", "mobilenet"])
        var medians: [String: Double] = [:]
        for row in rows {
            let cells = try #require(row["cells"] as? [String: [String: Any]])
            #expect(Set(cells.keys) == ["cpus 0", "cpus 1"])
            for (column, cell) in cells {
                #expect(cell["status"] as? String == "ok")
                let figures = try #require(cell["figures"] as? [String: Any])
                let rate = try #require(figures["rate"] as? [String: Any])
                let median = try #require(rate["median"] as? Double), lo = try #require(rate["min"] as? Double), hi = try #require(rate["max"] as? Double)
                #expect(rate["images"] as? Int == 3)
                #expect(lo <= median && median <= hi, "\(rate)")
                // Images over the window: the window holds the three images and a little more.
                let window = try #require(figures["window_images_per_second"] as? Double)
                #expect(window <= hi * 1.0001 && window >= lo * 0.8, "\(figures)")
                let provenance = try #require(cell["provenance"] as? String)
                #expect(provenance.contains("median of 3 images after 1 warm-up, 1 thread(s) on cpus \(column.dropFirst(5))"), "\(provenance)")
                medians["\(row["network"]!)|\(column)"] = median
            }
        }
        // The chart: one bar per cell at the cell's median, the y axis in images/s, and the settings.
        let check = try Socprof.runProgram(try #require(Socprof.which("python3")), ["-c", """
            import sys, xml.etree.ElementTree as ET
            ns = '{http://www.w3.org/2000/svg}'
            root = ET.parse(sys.argv[1]).getroot()
            for r in root.iter(ns + 'rect'):
                if r.get('class') == 'bar':
                    print(r.get('data-category') + '|' + r.get('data-series') + '=' + r.get('data-value') + ' h=' + r.get('height'))
            texts = [t.text or '' for t in root.iter(ns + 'text')]
            print('ylabel=' + [t.text for t in root.iter(ns + 'text') if t.get('class') == 'ylabel'][0])
            print('title=' + texts[0])
            print('subtitle=' + texts[1])
            """, svg])
        #expect(check.status == 0, "\(check.stderr)")
        let lines = check.stdout.split(separator: "\n").map(String.init)
        let bars = lines.filter { $0.contains("=") && $0.contains(" h=") }
        #expect(bars.count == 4)
        var heights: [String: Double] = [:]
        for b in bars {
            let key = String(b[..<b.firstIndex(of: "=")!])
            let value = Double(b[b.index(after: b.firstIndex(of: "=")!)..<b.range(of: " h=")!.lowerBound])!
            #expect(abs(value - medians[key]!) < 1e-9 * value, "\(b)")
            heights[key] = Double(b[b.range(of: " h=")!.upperBound...])!
        }
        // Bar heights are proportional to the values (a linear axis from 0).
        let keys = Array(medians.keys)
        for k in keys.dropFirst() {
            #expect(abs(heights[k]! / heights[keys[0]]! - medians[k]! / medians[keys[0]]!) < 0.01, "\(heights) \(medians)")
        }
        #expect(lines.contains("ylabel=images/s"))
        #expect(lines.contains { $0.hasPrefix("subtitle=frequency current, threads all, median of 3 image(s)") })
    }

    @Test("--frequency max pins each cluster for its cells and restores it; sensors give watts and images/s per W; a failed cell does not stop the sweep")
    func pinnedWithSensors() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Socprof.run(["sweep", "--root", root.path, "--networks", "squeezenet-1.1", "--repeat", "2", "--frequency", "max",
                                 "--idle-seconds", "0.1", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(root.read("sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq") == "1400000\n")
        #expect(root.read("sys/devices/system/cpu/cpu0/cpufreq/scaling_min_freq") == "200000\n")
        let doc = try Self.json(r.stdout)
        let columns = try #require(doc["columns"] as? [[String: Any]])
        #expect(columns.first?["pinned_mhz"] as? Double == 1400)
        #expect(abs((columns.first?["idle_watts"] as? Double ?? 0) - 0.07) < 1e-9)
        let cells = try #require((doc["rows"] as? [[String: Any]])?.first?["cells"] as? [String: [String: Any]])
        // The big cluster's CPUs (4-7) do not exist here: its cell fails, and the sweep goes on.
        #expect(cells["big"]?["status"] as? String == "failed")
        #expect((cells["big"]?["error"] as? String)?.contains("no CPU of it is available") == true)
        #expect(r.stderr.contains("squeezenet-1.1 on big failed"))
        let little = try #require(cells["little"]?["figures"] as? [String: Any])
        let freq = try #require(little["frequency"] as? [String: Any])
        #expect(freq["pinned"] as? Double == 1400 && freq["mean"] as? Double == 800 && freq["moved"] as? Bool == true)
        let energy = try #require(little["energy"] as? [String: Any])
        let window = try #require(little["window_images_per_second"] as? Double)
        #expect(abs((energy["watts"] as? Double ?? 0) - 0.07) < 1e-9)
        #expect(abs((energy["images_per_second_per_watt"] as? Double ?? 0) - window / 0.07) < 1e-6 * window / 0.07)
        #expect(abs((energy["joules_per_image"] as? Double ?? 0) - 0.07 / window) < 1e-9)
        // A constant sensor draws no more than idle: no above-idle figure rather than a huge one.
        #expect(energy["images_per_second_per_watt_above_idle"] == nil)
    }

    @Test("a policy that cannot be pinned stops the sweep before anything runs, naming the file and the fix")
    func unpinnable() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(atPath: root.absolute("sys/devices/system/cpu/cpu0/cpufreq/scaling_min_freq"))
        let r = try Socprof.run(["sweep", "--root", root.path, "--clusters", "little", "--networks", "squeezenet-1.1", "--frequency", "max"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("cpu0/cpufreq/scaling_min_freq: cannot read it") && r.stderr.contains("--frequency current"), "\(r.stderr)")
        #expect(!r.stderr.contains("cell(s) to run"))
    }

    @Test("an interrupted sweep keeps its finished cells and restores the frequency; --resume runs only the missing cells")
    func interruptAndResume() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("sweep").path
        let args = ["sweep", "--root", root.path, "--clusters", "little", "--networks", "squeezenet-1.1,mobilenet", "--repeat", "60",
                    "--frequency", "max", "--idle-seconds", "0", "-o", out]
        let (p, _, err) = try Socprof.start(args + ["--progress"])
        var seen = ""
        while !seen.contains("[2/2] mobilenet on little: image 1/") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        #expect(seen.contains("[2/2] mobilenet on little"), "\(seen)")
        #expect(root.read("sys/devices/system/cpu/cpu0/cpufreq/scaling_min_freq") == "1400000\n") // pinned while it runs
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        let rest = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 130, "\(rest)")
        #expect(rest.contains("--resume` with the same options continues"))
        #expect(root.read("sys/devices/system/cpu/cpu0/cpufreq/scaling_min_freq") == "200000\n")
        let cells = URL(fileURLWithPath: out).appendingPathComponent("cells")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cells.path) == ["squeezenet-1.1@little.json"])
        let kept = try Data(contentsOf: cells.appendingPathComponent("squeezenet-1.1@little.json"))
        let partial = try Self.json(String(contentsOfFile: URL(fileURLWithPath: out).appendingPathComponent("sweep.json").path, encoding: .utf8))
        #expect(partial["incomplete"] as? Bool == true)

        // Without --resume the directory is not overwritten; with other settings it is not resumed.
        let again = try Socprof.run(args)
        #expect(again.status == 2 && again.stderr.contains("already holds a sweep") && again.stderr.contains("--resume"))
        let other = try Socprof.run(args.map { $0 == "60" ? "61" : $0 } + ["--resume"])
        #expect(other.status == 2 && other.stderr.contains("was started with other settings"))
        let int8 = try Socprof.run(args + ["--resume", "--precision", "int8"])
        #expect(int8.status == 2 && int8.stderr.contains("--precision fp32"), "\(int8.stderr)")

        let resumed = try Socprof.run(args + ["--resume", "--format", "json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("1 cell(s) to run (2 network(s) x 1 column(s), resumed)"))
        #expect(try Data(contentsOf: cells.appendingPathComponent("squeezenet-1.1@little.json")) == kept) // not run again
        let doc = try Self.json(resumed.stdout)
        #expect(doc["incomplete"] as? Bool == false)
        let rows = try #require(doc["rows"] as? [[String: Any]])
        #expect(rows.allSatisfy { (($0["cells"] as? [String: [String: Any]])?["little"]?["status"] as? String) == "ok" })
    }

    @Test("--precision int8: each cell runs the int8 network; the settings keep the precision")
    func int8Cells() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("sweep").path
        let r = try Socprof.run(["sweep", "--networks", "squeezenet-1.1", "--repeat", "2", "--cpus", "0", "--precision", "int8", "-o", out, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let settings = try Self.json(String(contentsOfFile: URL(fileURLWithPath: out).appendingPathComponent("settings.json").path, encoding: .utf8))
        #expect(settings["precision"] as? String == "int8")
        let doc = try Self.json(r.stdout)
        let cell = (doc["rows"] as? [[String: Any]])?.first?["cells"] as? [String: [String: Any]]
        #expect(cell?["cpus 0"]?["status"] as? String == "ok")
        #expect((cell?["cpus 0"]?["provenance"] as? String)?.contains("precision int8") == true, "\(cell ?? [:])")
        let text = try String(contentsOfFile: URL(fileURLWithPath: out).appendingPathComponent("sweep.txt").path, encoding: .utf8)
        #expect(text.contains("precision int8"), "\(text)")
    }

    @Test("bad options are refused with what is expected")
    func badInput() throws {
        let net = try Socprof.run(["sweep", "--networks", "mobilenet,resnet5"])
        #expect(net.status == 2 && net.stderr.contains("did you mean 'resnet50'"))
        let freq = try Socprof.run(["sweep", "--frequency", "fast"])
        #expect(freq.status == 2 && freq.stderr.contains("'fast' is not max, current or a frequency in MHz"))
        let resume = try Socprof.run(["sweep", "--resume"])
        #expect(resume.status == 2 && resume.stderr.contains("give -o"))
        let both = try Socprof.run(["sweep", "--clusters", "big", "--cpus", "0"])
        #expect(both.status == 2 && both.stderr.contains("give one"))
        let cluster = try Socprof.run(["sweep", "--clusters", "middle", "--networks", "mobilenet"])
        #expect(cluster.status == 2 && cluster.stderr.contains("no cluster 'middle'"))
    }
}
