import Foundation
import Testing
import TestSupport

/// Broken inputs of every kind, as a user (or a script) gives them: an error with a message and
/// exit status 2 for bad input, 1 for a failure of the system; never a trap, a hang or a silent 0.
@Suite("bad input and faults", .serialized)
struct BadInputTests {
    static func sh(_ script: String) throws -> Socprof.Result {
        try Socprof.runProgram("/bin/sh", ["-c", script], environment: ProcessInfo.processInfo.environment.merging(["SOCPROF": Socprof.executable.path]) { _, b in b })
    }

    @Test("option values that mean nothing are refused with status 2")
    func meaninglessOptions() throws {
        let cases: [([String], String)] = [
            (["run", "mobilenet", "--cpus", ""], "The value '' is invalid for '--cpus <list>': it names no CPU"),
            (["sweep", "--cpus", "", "--cpus", "1"], "The value '' is invalid for '--cpus <list>': it names no CPU"),
            (["profile", "mobilenet", "--metrics", ","], "--metrics ',' has an empty name"),
            (["stat", "-x", "\n", "--", "true"], "cannot separate fields"),
            (["stat", "--root", "", "--", "true"], "--root '' names no directory"),
            (["nosuch"], "Unexpected argument 'nosuch'"),
        ]
        for (args, message) in cases {
            let r = try Socprof.run(args)
            #expect(r.status == 2 && r.stderr.contains(message), "\(args): \(r.status) \(r.stderr)")
        }
    }

    @Test("a pool that cannot start its threads (a memory limit) is an error with the number started, not a trap")
    func threadLimit() throws {
        let r = try Self.sh("ulimit -v 1500000 && exec \"$SOCPROF\" run mobilenet --threads 1024 --iterations 1")
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("could start only") && r.stderr.contains("of 1024 thread(s)"))
    }

    @Test("1,100 events in one group: the kernel's E2BIG splits the group instead of trapping")
    func hugeGroup() throws {
        let r = try Socprof.run(["stat", "-e", Array(repeating: "task-clock", count: 1100).joined(separator: ","), "--", "true"])
        #expect(r.status == 0, "\(r.stderr)")
        let output = r.stdout + r.stderr
        if output.contains("the software events were split into") {
            TestBranch.took("the kernel refused the group's read size (E2BIG, Linux 6.7 and later): split")
        } else {
            // Kernels before 6.7 have no limit on a group's read size: the group opens whole, up to
            // this process's file descriptors (1,024 by default), and the rest say why.
            let counted = output.split(separator: "\n").filter { $0.contains("task-clock") && $0.contains("msec") }
            if counted.count == 1100 {
                TestBranch.took("the kernel took the whole group (no read-size limit before Linux 6.7)")
                #expect(!output.contains("<not"))
            } else {
                TestBranch.took("the kernel took the group up to the file-descriptor limit (\(counted.count) of 1100)")
                #expect(counted.count > 0 && output.contains("out of file descriptors"), "\(counted.count) of 1100 counted: \(output.suffix(300))")
            }
        }
    }

    @Test("out of file descriptors (EMFILE): the events that could not be opened say so once, with the limit")
    func tooManyFiles() throws {
        let events = Array(repeating: "task-clock", count: 300).joined(separator: ",")
        let r = try Self.sh("ulimit -n 100 && exec \"$SOCPROF\" stat -e \(events) -- true")
        #expect(r.status == 0, "\(r.stderr)")
        let output = r.stdout + r.stderr
        #expect(output.contains("out of file descriptors (this process may open 100)"), "\(output.suffix(400))")
        #expect(output.contains("task-clock (x"))
    }

    @Test("an event alias file that is not term=value is an error naming the file", arguments: ["=", "event=,=", ",,"])
    func brokenAlias(text: String) throws {
        let (dir, root) = try Fixtures.writableCopy(Fixtures.emulatedBoard)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Fixtures.write(["sys/bus/event_source/devices/armv8_pmuv3/events/cpu_cycles": text], under: URL(fileURLWithPath: root.path))
        let r = try Socprof.run(["stat", "--root", root.path, "-e", "armv8_pmuv3/cpu_cycles/", "--", "true"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("sys/bus/event_source/devices/armv8_pmuv3/events/cpu_cycles"), "\(r.stderr)")
    }

    /// A profile report to break.
    static func report(in dir: URL) throws -> [String: Any] {
        let path = dir.appendingPathComponent("p.json").path
        let r = try Socprof.run(["profile", "squeezenet-1.1", "--repeat", "1", "--warmup", "0", "--no-energy", "--idle-baseline", "0", "--format", "json", "-o", path])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    @Test("reports with absurd figures or another schema are refused before any drawing; tiny intensities are drawn")
    func brokenReports() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try Self.report(in: dir)
        func variant(_ name: String, _ change: (inout [String: Any], inout [String: Any]) -> Void) throws -> String {
            var doc = good
            var layers = doc["layers"] as! [[String: Any]]
            var layer = layers[1]
            change(&doc, &layer)
            layers[1] = layer
            doc["layers"] = layers
            let path = dir.appendingPathComponent("\(name).json").path
            try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: path))
            return path
        }
        let svg = dir.appendingPathComponent("r.svg").path
        let big = try variant("big") { _, l in l["ops"] = 9_223_372_036_854_775_000 as Int64 }
        let huge = try variant("huge") { _, l in l["gops"] = 1e308 }
        let other = try variant("other") { d, _ in d["schema"] = "socprof.sweep" }
        let newer = try variant("newer") { d, _ in d["schema_version"] = 99 }
        let tiny = try variant("tiny") { _, l in l["oi_theoretical"] = Double.leastNonzeroMagnitude }
        for (path, message) in [(big, "ops 9223372036854775000"), (huge, ".gops is 1e+308"), (other, "schema 'socprof.sweep'"), (newer, "schema_version 99")] {
            let r = try Socprof.run(["roofline", path, "-o", svg])
            #expect(r.status == 2 && r.stderr.contains(message), "\(r.stderr)")
            let c = try Socprof.run(["compare", path, path])
            #expect(c.status == 2 && c.stderr.contains(message), "\(c.stderr)")
        }
        let drawn = try Socprof.run(["roofline", tiny, "-o", svg])
        #expect(drawn.status == 0, "\(drawn.stderr)")
        let metric = try Socprof.run(["compare", tiny, tiny, "--metric", "nosuch"])
        #expect(metric.status == 2 && metric.stderr.contains("--metric 'nosuch' is in neither report"))
    }

    @Test("a kept ceilings file with a 1e308 peak is not used (and draws nothing), and the report says why")
    func absurdCeilings() throws {
        let cache = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        var env = ProcessInfo.processInfo.environment
        env["XDG_CACHE_HOME"] = cache.path
        let args = ["profile", "squeezenet-1.1", "--threads", "1", "--repeat", "1", "--warmup", "0", "--no-energy", "--idle-baseline", "0", "--format", "json"]
        let first = try Socprof.run(args, environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        let notes = try #require((try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])?["notes"] as? [String])
        let note = try #require(notes.first { $0.hasPrefix("no measured ceilings for ") })
        let key = String(note.dropFirst("no measured ceilings for ".count).prefix { $0 != ":" })
        let dir = cache.appendingPathComponent("socprof/ceilings")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func ceilings(peak: String) -> String {
            #"{"schema": "socprof.ceilings", "schema_version": 1, "board": "b", "cluster": "c", "cpus": [0], "threads": 1, "max_freq_khz": null, "#
                + #""peak_gflops_fp32": \#(peak), "reference_fma_gflops": 100, "bandwidth_gbs": {"DRAM": 10}, "dram_copy_gbs": 10, "sweep": [], "#
                + #""level_bytes_per_thread": {}, "datasheet": {"peak_gflops_fp32": null, "dram_bandwidth_gbs": null, "source": "t"}}"#
        }
        // A sane file is used (the layers go under its roofline) ...
        try Data(ceilings(peak: "100").utf8).write(to: dir.appendingPathComponent(key))
        let sane = try Socprof.run(args, environment: env)
        let saneDoc = try #require(try JSONSerialization.jsonObject(with: Data(sane.stdout.utf8)) as? [String: Any])
        #expect((saneDoc["roofline"] as? [String: Any])?["peak_gflops"] as? Double == 100, "\(sane.stderr)")
        // ... one with a 1e308 peak is not.
        try Data(ceilings(peak: "1e308").utf8).write(to: dir.appendingPathComponent(key))
        let second = try Socprof.run(args, environment: env)
        #expect(second.status == 0, "\(second.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any])
        #expect(doc["roofline"] == nil || doc["roofline"] is NSNull)
        #expect((doc["notes"] as? [String])?.contains { $0.contains("are not usable") } == true, "\(doc["notes"] ?? "")")
    }

    @Test("-o writes through a symlink (the link stays), a device and -, and replaces a regular file atomically")
    func outputTargets() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target.csv").path, link = dir.appendingPathComponent("link.csv").path
        try "old\n".write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let args = ["profile", "squeezenet-1.1", "--repeat", "1", "--warmup", "0", "--no-energy", "--idle-baseline", "0", "--format", "csv", "-o"]
        let r = try Socprof.run(args + [link])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        #expect(try String(contentsOfFile: target, encoding: .utf8).hasPrefix("layer,kind,"))
        let null = try Socprof.run(args + ["/dev/null"])
        #expect(null.status == 0)
        #expect((try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType) == .typeCharacterSpecial)
        let dash = try Socprof.run(args + ["-"])
        #expect(dash.status == 0 && dash.stdout.hasPrefix("layer,kind,"))
    }

    @Test("output lost to a full device or a closed stdout exits 1 and says so; a closed stderr is no trap")
    func lostOutput() throws {
        let full = try Self.sh("\"$SOCPROF\" info > /dev/full")
        #expect(full.status == 1 && full.stderr.contains("writing the output failed (No space left on device)"), "\(full.stderr)")
        let closed = try Self.sh("\"$SOCPROF\" info >&-")
        #expect(closed.status == 1 && closed.stderr.contains("writing the output failed"), "\(closed.stderr)")
        let noStderr = try Self.sh("\"$SOCPROF\" stat -e nosuch -- true 2>&-")
        #expect(noStderr.status == 2)
        let fullStderr = try Self.sh("\"$SOCPROF\" run mobilenet --cpus '' 2>/dev/full")
        #expect(fullStderr.status == 2)
    }

    @Test("NaN and negative sensor readings are dropped, named per sensor, and the report is still written")
    func badSensorReadings() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Fixtures.write(["sys/bus/i2c/drivers/INA231/3-0040/sensor_W": "nan\n", "sys/bus/i2c/drivers/INA231/3-0041/sensor_W": "-0.5\n"],
                           under: URL(fileURLWithPath: root.path))
        let r = try Socprof.run(["profile", "squeezenet-1.1", "--root", root.path, "--cpus", "0", "--repeat", "1", "--warmup", "0",
                                 "--idle-baseline", "0", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let notes = try #require(doc["notes"] as? [String])
        #expect(notes.contains { $0.contains("VDD_ARM") && $0.contains("reading(s) dropped (read 'nan')") && $0.contains("no energy from it") }, "\(notes)")
        #expect(notes.contains { $0.contains("VDD_MEM") && $0.contains("(read '-0.5')") }, "\(notes)")
    }

    @Test("Ctrl-C during a long warm-up stops the profile with the report written and marked")
    func interruptedWarmup() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("p.json").path
        let (p, _, err) = try Socprof.start(["profile", "squeezenet-1.1", "--warmup", "10000", "--repeat", "1", "--no-energy", "--idle-baseline", "0",
                                             "--format", "json", "-o", out, "--progress"])
        // Stop it once it says the warm-up has begun, however long that takes on this machine.
        var seen = ""
        while !seen.contains("warm-up, 10000 untimed run(s)") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        #expect(seen.contains("warm-up"), "\(seen)")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect((doc["notes"] as? [String])?.contains { $0.contains("no repeat completed") } == true)
    }
}
