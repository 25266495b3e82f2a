import Counters
import Foundation
import Reports
import SystemPackage
import Testing
import TestSupport

/// `stat`'s renderings in process, on readings written by hand: the derived figures against hand
/// values, and the table, CSV and JSON against golden files (SOCPROF_UPDATE_GOLDEN=1 rewrites them).
@Suite("stat report: derived figures and renderings")
struct StatReportTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func event(_ name: String, generic: String?, unit: String? = nil, type: PerfEventType = .hardware, config: UInt64 = 0) -> ResolvedEvent {
        var e = ResolvedEvent(name: name, pmuName: nil, type: type, config: config)
        e.generic = generic
        e.unit = unit
        return e
    }

    static let clock = event("task-clock", generic: "task-clock", unit: "ns", type: .software, config: 1)
    static let cycles = event("cycles", generic: "cycles")
    static let instructions = event("instructions", generic: "instructions", config: 1)
    static let branches = event("branches", generic: "branches", config: 4)
    static let misses = event("branch-misses", generic: "branch-misses", config: 5)
    static let l2 = event("r17", generic: nil, type: .raw, config: 0x17)
    static let busy = event("r18", generic: nil, type: .raw, config: 0x18)
    static let absent = event("r1c", generic: nil, type: .raw, config: 0x1c)

    /// Three runs of 1.0, 1.2 and 0.8 s. task-clock 0.5, 0.55, 0.45 s (half a CPU); cycles 2.0, 2.2, 1.8 G;
    /// instructions 3 G; branches 1 G with 10, 20, 30 M misses; r17 multiplexed (half the time,
    /// 500 counted: 1000); r18 never on a counter; r1c not supported.
    static var report: StatReport {
        let error = CounterError(event: "r1c", pmu: nil, errno: .noSuchFileOrDirectory, kind: .notSupported, reason: "the PMU has no such event", hint: "see socprof events")
        let runs = (0..<3).map { r in
            let f = [1.0, 1.1, 0.9][r]
            let readings = [
                Reading(event: clock, raw: UInt64(f * 0.5e9), timeEnabled: 1_000_000_000, timeRunning: 1_000_000_000),
                Reading(event: cycles, raw: UInt64(f * 2e9), timeEnabled: 1_000_000_000, timeRunning: 1_000_000_000),
                Reading(event: instructions, raw: 3_000_000_000, timeEnabled: 1_000_000_000, timeRunning: 1_000_000_000),
                Reading(event: branches, raw: 1_000_000_000, timeEnabled: 1_000_000_000, timeRunning: 1_000_000_000),
                Reading(event: misses, raw: UInt64(10_000_000 * (r + 1)), timeEnabled: 1_000_000_000, timeRunning: 1_000_000_000),
                Reading(event: l2, raw: 500, timeEnabled: 1_000_000_000, timeRunning: 500_000_000),
                Reading(event: busy, raw: 0, timeEnabled: 1_000_000_000, timeRunning: 0),
                Reading(event: absent, error: error),
            ]
            return StatRun(readings: readings, elapsedNanoseconds: [1_000_000_000, 1_200_000_000, 800_000_000][r],
                           userNanoseconds: 900_000_000, systemNanoseconds: 100_000_000, termination: .exited(0), splits: ["cpu": 2])
        }
        return StatReport(command: ["./work", "--fast"], runs: runs, requestedRepeats: 3)
    }

    func row(_ e: ResolvedEvent) throws -> StatReport.Row {
        try #require(Self.report.rows.first { $0.event.name == e.name })
    }

    @Test("means, perf's +- (the standard error over the mean), CPUs utilized, GHz from task-clock, IPC, branch-miss ratio")
    func derived() throws {
        let cycles = try row(Self.cycles)
        #expect(cycles.mean == 2e9)
        // Sample sd of (2.0, 2.2, 1.8) G is 0.2 G; over sqrt(3), over the 2 G mean: 5.7735 %.
        let spread = try #require(cycles.stddevPercent)
        let expected: Double = 100 * 0.2 / 3.0.squareRoot() / 2
        #expect(abs(spread - expected) < 1e-9)
        // 2 G cycles in 0.5 s of task-clock (not the 1 s elapsed): 4 GHz; the clock half a CPU.
        #expect(Self.report.metric(cycles)?.value == "4.000" && Self.report.metric(cycles)?.unit == "GHz")
        #expect(Self.report.metric(try row(Self.clock))?.value == "0.500")
        let ipc = try #require(Self.report.metric(try row(Self.instructions)))
        #expect(ipc.value == "1.50" && ipc.unit == "insn per cycle")
        let miss = try #require(Self.report.metric(try row(Self.misses)))
        #expect(miss.value == "2.00%" && miss.unit == "of all branches")
        #expect(try row(Self.instructions).stddevPercent == 0)
    }

    @Test("a multiplexed event is scaled and marked; one never on a counter and one not supported have no value, never 0")
    func statuses() throws {
        let l2 = try row(Self.l2)
        #expect(l2.status == .multiplexed && l2.mean == 1000 && l2.runningPercent == 50)
        let busy = try row(Self.busy)
        #expect(busy.status == .notCounted && busy.mean == nil)
        let absent = try row(Self.absent)
        #expect(absent.status == .notSupported && absent.mean == nil && absent.reason?.hasPrefix("the PMU has no such event") == true)
    }

    static func check(_ text: String, against name: String) throws {
        try Golden.check(text, against: name, in: golden)
    }

    @Test("the perf-style table, as in Golden/stat-table.txt (elapsed +- 11.55 % for runs of 1.0, 1.2, 0.8 s)")
    func table() throws {
        let text = Self.report.table()
        #expect(text.contains("( +- 11.55% )"))
        try Self.check(text, against: "stat-table.txt")
    }

    @Test("perf's -x CSV, as in Golden/stat.csv")
    func csv() throws {
        try Self.check(Self.report.csv(separator: ","), against: "stat.csv")
    }

    @Test("the JSON document, as in Golden/stat.json; statuses spelled as docs/stat.md says")
    func json() throws {
        let text = try Self.report.json(version: "test")
        try Self.check(text, against: "stat.json")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let events = try #require(doc["events"] as? [[String: Any]])
        #expect(events.map { $0["status"] as? String } == ["counted", "counted", "counted", "counted", "counted", "multiplexed", "not_counted", "not_supported"])
        #expect(events[6]["value"] is NSNull)
    }
}
