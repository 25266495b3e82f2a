import Foundation
import Testing
import TestSupport

/// `socprof stat` run as a user runs it.
@Suite("socprof stat", .serialized)
struct StatCommandTests {
    /// Parses perf's CSV (`-x,`) into event name -> (value, unit).
    static func csv(_ text: String) -> [String: (value: String, unit: String, fields: [String])] {
        var out: [String: (String, String, [String])] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 3, !line.hasPrefix("#") else { continue }
            out[f[2]] = (f[0], f[1], f)
        }
        return out
    }

    static let workload = ["sh", "-c", "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; head -c 4000000 /dev/zero | cat > /dev/null"]

    @Test("counts a command the way perf stat does")
    func againstPerfStat() throws {
        let perf = try #require(Socprof.which("perf"), "perf (Debian's linux-perf) is needed; ./scripts/test installs it")
        let events = "task-clock,page-faults,context-switches"
        // Alternate the two tools and compare medians, so that neither gets the warm caches.
        var ours: [String: [Double]] = [:], theirs: [String: [Double]] = [:]
        for _ in 0..<5 {
            let a = try Socprof.run(["stat", "-x,", "-e", events, "--"] + Self.workload)
            #expect(a.status == 0, "\(a.stderr)")
            let b = try Socprof.runProgram(perf, ["stat", "-x,", "-e", events, "--"] + Self.workload)
            #expect(b.status == 0, "\(b.stderr)")
            for (name, row) in Self.csv(a.stderr) { ours[name, default: []].append(Double(row.value) ?? .nan) }
            for (name, row) in Self.csv(b.stderr) { theirs[name, default: []].append(Double(row.value) ?? .nan) }
        }
        func median(_ v: [Double]?) -> Double { let s = (v ?? []).sorted(); return s.isEmpty ? .nan : s[s.count / 2] }
        let pfOurs = median(ours["page-faults"]), pfPerf = median(theirs["page-faults"])
        #expect(abs(pfOurs - pfPerf) <= max(15, 0.1 * pfPerf), "page-faults: socprof \(pfOurs), perf \(pfPerf)")
        let tcOurs = median(ours["task-clock"]), tcPerf = median(theirs["task-clock"])
        #expect(tcOurs > 0 && tcPerf > 0)
        #expect(abs(tcOurs - tcPerf) <= 0.35 * tcPerf + 1.0, "task-clock msec: socprof \(tcOurs), perf \(tcPerf)")
        // Same CSV layout as perf: value,unit,event,run-ns,running%,metric,metric-unit.
        let a = try Socprof.run(["stat", "-x,", "-e", events, "--", "true"])
        let b = try Socprof.runProgram(perf, ["stat", "-x,", "-e", events, "--", "true"])
        let ourRow = try #require(Self.csv(a.stderr)["task-clock"]), perfRow = try #require(Self.csv(b.stderr)["task-clock"])
        #expect(ourRow.fields.count == perfRow.fields.count)
        #expect(ourRow.unit == perfRow.unit && ourRow.unit == "msec")
        // perf 6.1 prints the "CPUs utilized" metric here; perf 7.2 (Debian sid) leaves it empty.
        #expect(ourRow.fields[6] == "CPUs utilized" && [ourRow.fields[6], ""].contains(perfRow.fields[6]), "\(ourRow.fields) \(perfRow.fields)")
    }

    @Test("hardware events without a PMU: <not supported> with the reason, exit status unchanged")
    func notSupported() throws {
        let r = try Socprof.run(["stat", "-e", "cycles,instructions,task-clock", "--", "sh", "-c", "exit 5"])
        #expect(r.status == 5)
        TestBranch.took(TestBranch.pmu)
        if !Fixtures.liveMachineHasCorePMU {
            #expect(r.stderr.contains("<not supported>"))
            #expect(r.stderr.contains("cycles, instructions: not supported: this machine has no hardware PMU"))
            // Never a count of 0 for them: no table row starts with a number before their names.
            for line in r.stderr.split(separator: "\n") where line.contains("cycles") || line.contains("instructions") {
                #expect(!line.trimmingCharacters(in: .whitespaces).first!.isNumber, "\(line)")
            }
            let csv = try Socprof.run(["stat", "-x,", "-e", "cycles", "--", "true"])
            #expect(csv.stderr.hasPrefix("<not supported>,,cycles,"))
        } else {
            // With a PMU: cycles counted; instructions counted, or not supported with the reason
            // (a PMU that does not implement them, as QEMU's without -icount).
            let j = try Socprof.run(["stat", "--json", "-e", "cycles,instructions", "--", "sh", "-c", "exit 5"])
            #expect(j.status == 5)
            let events = try #require((try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])?["events"] as? [[String: Any]])
            #expect(events.count == 2)
            #expect(events[0]["status"] as? String == "counted" && (events[0]["value"] as? Double).map { $0 > 0 } == true, "\(events[0])")
            if events[1]["status"] as? String == "not_supported" {
                #expect(events[1]["value"] is NSNull && (events[1]["reason"] as? String)?.isEmpty == false, "\(events[1])")
            } else {
                #expect(events[1]["status"] as? String == "counted" && (events[1]["value"] as? Double).map { $0 > 0 } == true, "\(events[1])")
            }
        }
        #expect(r.stderr.contains("task-clock"))
    }

    static let statuses: [([String], Int32)] = [
        (["sh", "-c", "exit 0"], 0), (["sh", "-c", "exit 7"], 7), (["sh", "-c", "kill -KILL $$"], 137), (["false"], 1),
    ]

    @Test("the child's exit status and signals pass through", arguments: statuses)
    func exitStatus(command: [String], status: Int32) throws {
        let r = try Socprof.run(["stat", "-e", "task-clock", "--"] + command)
        #expect(r.status == status, "\(r.stderr)")
        #expect(r.stderr.contains("Performance counter stats for"))
    }

    @Test("SIGTERM sent to socprof reaches the child; the counts are still written; repeats stop")
    func sigtermIsForwardedToTheChild() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ready = dir.appendingPathComponent("ready").path, out = dir.appendingPathComponent("stat.json").path
        let (p, _, err) = try Socprof.start(["stat", "-r", "3", "--json", "-o", out, "-e", "task-clock", "--", "sh", "-c",
                                             "trap 'exit 42' TERM; touch '\(ready)'; while :; do sleep 0.05; done"])
        // Wait until the child runs with its trap set (it is exec'ed only after socprof forwards).
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: ready) && Date() < deadline { usleep(10_000) }
        try #require(FileManager.default.fileExists(atPath: ready), "the child never started")
        kill(p.processIdentifier, SIGTERM)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit)
        #expect(p.terminationStatus == 42, "\(stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(doc["runs"] as? Int == 1, "no further runs after socprof was told to stop")
        #expect((doc["notes"] as? [String])?.contains { $0.contains("stopped after 1 of 3 runs") } == true)
    }

    static let badInputs: [([String], Int32, String)] = [
        (["stat", "-e", "cyclez", "--", "true"], 2, "did you mean 'cycles'?"),
        (["stat", "-e", "r0x17", "--", "true"], 2, "raw codes are hex without 0x: write r17"),
        (["stat", "-e", "rxyz", "--", "true"], 2, "unknown event 'rxyz'"),
        (["stat", "-e", "cycles:q", "--", "true"], 2, "unknown modifier 'q'"),
        (["stat", "-e", "nosuchpmu/event=1/", "--", "true"], 2, "no PMU named 'nosuchpmu'"),
        (["stat", "--", "socprof-no-such-command"], 127, "socprof-no-such-command: command not found"),
        (["stat", "--repeat", "0", "--", "true"], 2, "--repeat 0 must be at least 1"),
    ]

    @Test("bad input: one line, a useful message, the right status", arguments: badInputs)
    func badInput(arguments: [String], status: Int32, message: String) throws {
        let r = try Socprof.run(arguments)
        #expect(r.status == status, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        if status == 2 || status == 127 {
            #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        }
    }

    @Test func emptyCommand() throws {
        for args in [["stat"], ["stat", "--"], ["stat", "-e", "task-clock"]] {
            let r = try Socprof.run(args)
            #expect(r.status == 2)
            #expect(r.stderr.contains("no command to count"))
        }
    }

    @Test func jsonToAFileWithRepeats() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("stat.json").path
        let r = try Socprof.run(["stat", "--json", "-r", "3", "-o", out, "-e", "task-clock,page-faults,cycles", "--", "true"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty && r.stdout.isEmpty, "everything goes to the file")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(doc["schema"] as? String == "socprof.stat")
        #expect(doc["runs"] as? Int == 3)
        #expect(doc["exit_status"] as? Int == 0)
        #expect(doc["command"] as? [String] == ["true"])
        let events = try #require(doc["events"] as? [[String: Any]])
        #expect(events.map { $0["name"] as? String } == ["task-clock", "page-faults", "cycles"])
        #expect((events[1]["value"] as? Double ?? 0) > 0)
        #expect(events[1]["stddev_percent"] is Double || events[1]["value"] as? Double == 0)
        #expect(events[0]["unit"] as? String == "ns")
        TestBranch.took(TestBranch.pmu)
        if !Fixtures.liveMachineHasCorePMU {
            #expect(events[2]["status"] as? String == "not_supported")
            #expect(events[2]["value"] is NSNull, "no value, never 0")
            #expect(events[2]["errno"] as? String == "ENOENT")
            #expect((events[2]["reason"] as? String)?.contains("no hardware PMU") == true)
        } else {
            #expect(events[2]["status"] as? String == "counted", "\(events[2])")
            #expect((events[2]["value"] as? Double).map { $0 > 0 } == true, "\(events[2])")
        }
        // No temporary files are left beside the output.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["stat.json"])
    }

    @Test func csvWithRepeatsHasTheVarianceColumn() throws {
        let r = try Socprof.run(["stat", "-x;", "-r", "2", "-e", "page-faults", "--", "true"])
        #expect(r.status == 0)
        let fields = r.stderr.split(separator: "\n")[0].split(separator: ";", omittingEmptySubsequences: false)
        #expect(fields.count == 8, "\(fields)")
        #expect(fields[2] == "page-faults" && fields[3].hasSuffix("%"))
    }

    @Test("on a big.LITTLE tree, hardware events expand per core PMU")
    func fixtureRootExpandsPerCluster() throws {
        let r = try Socprof.run(["stat", "--root", Fixtures.root("odroid-xu3").path, "-x,", "-e", "cycles,task-clock", "--", "true"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = Self.csv(r.stderr)
        #expect(rows["armv7_cortex_a7/cycles/"] != nil && rows["armv7_cortex_a15/cycles/"] != nil, "\(r.stderr)")
        // The fixture's PMU types do not exist in this kernel: not counted, never 0.
        #expect(rows["armv7_cortex_a7/cycles/"]?.value.hasPrefix("<") == true)
        #expect(Double(rows["task-clock"]?.value ?? "") ?? 0 > 0)
    }

    /// socprof run as an unprivileged user (root drops to "nobody" with su), checked against the
    /// rules of the live perf_event_paranoid level, read here: 3 (Debian's and Android's extra
    /// level) refuses everything and says how to fix it; 2 counts the user's own process in user
    /// space only and says so; 1 and below count kernel and user space with no note.
    /// `scripts/arm-board test --paranoid N` runs it at each level on the emulated board.
    @Test("an unprivileged user gets what the paranoid level allows, and is told",
          .enabled(if: getuid() == 0, "needs root, to drop to nobody (as a user, the other tests already run unprivileged)"))
    func unprivilegedUser() throws {
        let su = try #require(Socprof.which("su"), "su is needed to drop root")
        let level = try #require(Int((try String(contentsOfFile: "/proc/sys/kernel/perf_event_paranoid", encoding: .utf8))
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let events = Fixtures.liveMachineHasCorePMU ? "cycles,task-clock" : "task-clock"
        // nobody may not reach the checkout (a clone under /root): the binary and its data go into
        // a directory everyone may read, laid out as a checkout (bin/socprof beside events/).
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkout = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("bin"), withIntermediateDirectories: true)
        let binary = dir.appendingPathComponent("bin/socprof").path
        try FileManager.default.copyItem(atPath: Socprof.executable.path, toPath: binary)
        for data in ["events", "boards"] {
            try FileManager.default.copyItem(at: checkout.appendingPathComponent(data), to: dir.appendingPathComponent(data))
        }
        _ = try Socprof.runProgram("/bin/chmod", ["-R", "a+rX", dir.path])
        let command = [binary, "stat", "--json", "-e", events, "--", "true"].map { "'\($0)'" }.joined(separator: " ")
        let r = try Socprof.runProgram(su, ["-s", "/bin/sh", "nobody", "-c", "exec \(command)"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout) \(r.stderr)")
        let rows = try #require(doc["events"] as? [[String: Any]])
        let notes = (doc["notes"] as? [String]) ?? []
        #expect(rows.count == events.split(separator: ",").count)
        switch level {
        case 3...:
            for row in rows {
                #expect(row["status"] as? String == "not_supported" && row["value"] is NSNull, "\(row)")
                #expect((row["reason"] as? String)?.contains("perf_event_paranoid is \(level)") == true, "\(row)")
                #expect((row["reason"] as? String)?.contains("sysctl kernel.perf_event_paranoid=1") == true, "\(row)")
            }
        case 2:
            for row in rows { #expect(row["status"] as? String == "counted" && (row["value"] as? Double ?? 0) > 0, "\(row)") }
            #expect(notes.contains { $0.contains("counted in user space only") && $0.contains("perf_event_paranoid is 2") }, "\(notes)")
        default:
            for row in rows { #expect(row["status"] as? String == "counted" && (row["value"] as? Double ?? 0) > 0, "\(row)") }
            #expect(!notes.contains { $0.contains("user space only") }, "\(notes)")
        }
    }
}

@Suite("socprof commands")
struct CommandTests {
    @Test func version() throws {
        let r = try Socprof.run(["--version"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("socprof 0."))
    }

    @Test("every command has help", arguments: [["--help"], ["stat", "--help"], ["list", "--help"], ["profile", "--help"], ["bench", "counters", "--help"]])
    func help(arguments: [String]) throws {
        let r = try Socprof.run(arguments)
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE:") || r.stdout.contains("Usage:"))
    }

    @Test func listOnAFixtureRoot() throws {
        let r = try Socprof.run(["list", "--json", "--root", Fixtures.root("rk3588").path])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let pmus = try #require(doc["pmus"] as? [[String: Any]])
        #expect(Set(pmus.compactMap { $0["name"] as? String }).isSuperset(of: ["armv8_cortex_a55", "armv8_cortex_a76", "rockchip_ddr"]))
        let a76 = try #require(pmus.first { $0["name"] as? String == "armv8_cortex_a76" })
        #expect(a76["cpus"] as? [Int] == [4, 5, 6, 7])
        #expect((a76["events"] as? [String: String])?["l2d_cache_refill"] == "event=0x0017")
    }

    @Test func environmentRootIsUsed() throws {
        var env = ProcessInfo.processInfo.environment
        env["SOCPROF_ROOT"] = Fixtures.root("rk3399").path
        let r = try Socprof.run(["list"], environment: env)
        #expect(r.stdout.contains("armv8_cortex_a72 (type 11, cpus 4-5, core PMU)"), "\(r.stdout)")
        let bad = try Socprof.run(["list", "--root", "/nonexistent-socprof-root"])
        #expect(bad.status == 2 && bad.stderr.contains("is not a directory"))
    }

    @Test func benchPrintsReferenceAndReadCost() throws {
        let r = try Socprof.run(["bench", "counters", "--iterations", "200", "--batches", "3", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [[String: Any]]])
        let figures = try #require(doc["figures"])
        let names = figures.compactMap { $0["name"] as? String }
        #expect(names.contains { $0.hasPrefix("reference: getppid") })
        let sw = try #require(figures.first { ($0["name"] as? String)?.hasPrefix("4 software events") == true && ($0["name"] as? String)?.hasSuffix("read() raw") == true })
        #expect((sw["ns_per_read"] as? Double ?? 0) > 0)
        TestBranch.took(TestBranch.pmu)
        if !Fixtures.liveMachineHasCorePMU {
            let hw = try #require(figures.first { ($0["name"] as? String)?.hasPrefix("4 hardware events") == true })
            #expect(hw["ns_per_read"] == nil || hw["ns_per_read"] is NSNull)
            #expect((hw["note"] as? String)?.hasPrefix("unavailable") == true)
        } else {
            // Hardware events (cycles at least) are read, and the read has a cost.
            let hw = try #require(figures.first { ($0["name"] as? String)?.contains("hardware events") == true && ($0["name"] as? String)?.hasSuffix("read() raw") == true }, "\(names)")
            #expect((hw["ns_per_read"] as? Double).map { $0 > 0 } == true, "\(hw)")
        }
    }
}
