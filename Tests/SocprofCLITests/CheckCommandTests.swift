import Counters
import Foundation
import Testing
import TestSupport
@testable import SocprofCLI

/// `socprof check` on this machine, run in-process (the command is not yet a subcommand of
/// `socprof`): it runs, says per metric what it could not check and why, exits 0 and keeps its
/// verdicts as socprof.check version 1.
@Suite("socprof check", .serialized)
struct CheckCommandTests {
    /// Runs `check` with `args`, keeping its file in a fresh directory; returns the kept document.
    func check(_ args: [String]) throws -> (doc: [String: Any], file: URL) {
        let dir = try Fixtures.temporaryDirectory()
        let command = try #require(try CheckCommand.parseAsRoot(args + ["--cache-dir", dir.path]) as? CheckCommand)
        try command.run() // throws (a non-zero exit) on failure
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
        let file = try #require(files.first, "check kept nothing in \(dir.path)")
        #expect(files.count == 1)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        return (doc, file)
    }

    @Test("check --json: every metric has a verdict; without a PMU each hardware one is unavailable (no PMU), task-clock is checked")
    func onThisMachine() throws {
        let (doc, file) = try check(["--json"])
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        #expect(doc["schema"] as? String == "socprof.check" && doc["schema_version"] as? Int == 1)
        let checks = try #require(doc["checks"] as? [[String: Any]])
        #expect(checks.map { $0["metric"] as? String } == ["instructions", "cycles", "l1d_refills", "llc_bytes", "task_clock"])
        for c in checks {
            for key in ["event", "event_source", "kernel", "unit", "expected", "measured", "ratio", "tolerance", "verdict", "factor", "reason", "detail"] {
                #expect(c.keys.contains(key), "\(c["metric"] ?? "?"): no \(key)")
            }
            #expect(["trustworthy", "off_by_a_factor", "counts_zero", "unavailable"].contains(c["verdict"] as? String ?? ""))
            if c["verdict"] as? String == "unavailable" {
                // Nothing faked: no value where the counter could not be read, and the reason said.
                #expect((c["reason"] as? String)?.isEmpty == false && (c["detail"] as? String)?.isEmpty == false, "\(c)")
            }
        }
        let hardware = checks.filter { $0["metric"] as? String != "task_clock" }
        TestBranch.took(TestBranch.pmu)
        if !Fixtures.liveMachineHasCorePMU {
            for c in hardware {
                #expect(c["verdict"] as? String == "unavailable" && c["reason"] as? String == "no PMU", "\(c)")
                #expect(c["measured"] is NSNull && c["ratio"] is NSNull, "\(c)")
            }
            #expect(hardware.first?["event"] as? String == "instructions:u")
        }
        // task-clock counts wherever perf_event is allowed: the syscall path itself, checked.
        let task = try #require(checks.last)
        if PerfPermissions.current(root: .live).forbidsAll {
            #expect(task["verdict"] as? String == "unavailable")
        } else {
            let measured = try #require(task["measured"] as? Double, "\(task)")
            let ratio = try #require(task["ratio"] as? Double, "\(task)")
            #expect(measured > 0 && abs(ratio - 1) < 0.05, "\(task)")
            #expect(task["verdict"] as? String == "trustworthy", "\(task)")
        }
    }

    @Test("check --cluster NAME checks that cluster (text output); an unknown name is an error that lists the clusters")
    func clusterOption() throws {
        let (first, file) = try check([])
        try? FileManager.default.removeItem(at: file.deletingLastPathComponent())
        let name = try #require(first["cluster"] as? String)
        let (doc, kept) = try check(["--cluster", name])
        defer { try? FileManager.default.removeItem(at: kept.deletingLastPathComponent()) }
        #expect(doc["cluster"] as? String == name && (doc["cpus"] as? [Int])?.isEmpty == false)
        let bad = try #require(try CheckCommand.parseAsRoot(["--cluster", "no-such-cluster"]) as? CheckCommand)
        #expect(throws: (any Error).self) { try bad.run() }
    }
}
