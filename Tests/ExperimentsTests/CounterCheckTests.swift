import Counters
import Experiments
import Foundation
import LinuxSystem
import Platform
import Testing
import TestSupport

/// `socprof check`'s verdicts, expected counts, events and cache, on given numbers (no PMU needed).
@Suite("counter check: verdicts and expected counts")
struct CounterCheckLogicTests {
    @Test("a ratio within the tolerance is trustworthy, on both sides and at the bound")
    func withinTolerance() {
        #expect(CounterCheck.verdict(expected: 128_000_000, measured: 128_000_000, tolerance: 0.01) == .trustworthy)
        #expect(CounterCheck.verdict(expected: 128_000_000, measured: 128_900_000, tolerance: 0.01) == .trustworthy)
        #expect(CounterCheck.verdict(expected: 1000, measured: 990, tolerance: 0.01) == .trustworthy)
        #expect(CounterCheck.verdict(expected: 1000, measured: 1100, tolerance: 0.10) == .trustworthy)
        #expect(CounterCheck.verdict(expected: 1000, measured: 1011, tolerance: 0.01) == .offByFactor(1.011))
    }

    @Test("0 counted where something was expected: counts 0 where it must not")
    func zero() {
        let v = CounterCheck.verdict(expected: 1_048_576, measured: 0, tolerance: 0.10)
        #expect(v == .countsZero)
        #expect(v.code == "counts_zero" && v.text == "counts 0 where it must not")
        // Even without an expected count (no frequency known), 0 cycles over a busy loop is wrong.
        #expect(CounterCheck.verdict(expected: nil, measured: 0, tolerance: 0.10) == .countsZero)
    }

    @Test("3.9x and 0.26x: off by a factor, the factor said")
    func offByFactor() {
        let v = CounterCheck.verdict(expected: 1_000_000, measured: 3_900_000, tolerance: 0.10)
        #expect(v == .offByFactor(3.9))
        #expect(v.code == "off_by_a_factor" && v.text == "off by a factor (3.90x)")
        let low = CounterCheck.verdict(expected: 1_000_000, measured: 260_000, tolerance: 0.20)
        #expect(low == .offByFactor(0.26) && low.text == "off by a factor (0.26x)")
        #expect(CounterCheck.formatFactor(0.052) == "0.052x")
    }

    @Test("nothing measured or nothing to compare with: unavailable with the reason")
    func unavailable() {
        let v = CounterCheck.verdict(expected: 1000, measured: nil, tolerance: 0.01, missing: "no PMU")
        #expect(v == .unavailable(reason: "no PMU") && v.text == "unavailable (no PMU)" && v.code == "unavailable")
        #expect(CounterCheck.verdict(expected: nil, measured: 2e8, tolerance: 0.1, missing: "no CPU frequency") == .unavailable(reason: "no CPU frequency"))
    }

    @Test("open failures become short reasons: no PMU, event not implemented, not permitted, mode not supported")
    func reasons() {
        // (Errno's values are spelt inline: this target does not import SystemPackage.)
        let noPMU = CounterError(event: "x", pmu: nil, errno: .noSuchFileOrDirectory, kind: .notSupported, reason: "r", hint: "h")
        #expect(CounterCheck.unavailableReason(noPMU, machineHasCorePMU: false) == "no PMU")
        let missing = CounterError(event: "r08", pmu: "armv8_pmuv3", errno: nil, kind: .notSupported, reason: "r", hint: "h")
        #expect(CounterCheck.unavailableReason(missing, machineHasCorePMU: true) == "event not implemented")
        let mode = CounterError(event: "r08:u", pmu: "armv7_cortex_a9", errno: .notSupported, kind: .notSupported, reason: "r", hint: "h")
        #expect(CounterCheck.unavailableReason(mode, machineHasCorePMU: true) == "mode not supported")
        let denied = CounterError(event: "x", pmu: nil, errno: .permissionDenied, kind: .permission, reason: "r", hint: "h")
        #expect(CounterCheck.unavailableReason(denied, machineHasCorePMU: true) == "not permitted")
        let full = CounterError(event: "x", pmu: "cpu", errno: .noSpace, kind: .resources, reason: "r", hint: "h")
        #expect(CounterCheck.unavailableReason(full, machineHasCorePMU: true) == "no free counter")
        // A reading that could not be opened gives the reason and the explanation, never a value.
        let e = ResolvedEvent(name: "instructions:u", pmuName: nil, type: .hardware, config: 1)
        let r = Reading(event: e, error: noPMU)
        let o = CounterCheck.outcome(of: r, machineHasCorePMU: false)
        #expect(o.value == nil && o.reason == "no PMU" && o.detail == "r; h")
        let counted = CounterCheck.outcome(of: Reading(event: e, raw: 42, timeEnabled: 10, timeRunning: 10), machineHasCorePMU: true)
        #expect(counted.value == 42 && counted.reason == nil)
        let never = CounterCheck.outcome(of: Reading(notCounted: e), machineHasCorePMU: true)
        #expect(never.value == nil && never.reason == "not counted")
    }

    @Test("expected counts: loop iterations x 8, lines x passes of 8 x L1D, the stream's bytes, time x frequency")
    func expectedCounts() {
        #expect(CounterCheck.loopInstructions(iterations: 16_000_000, perIteration: 8) == 128_000_000)
        #expect(CounterCheck.loopInstructions(iterations: CounterCheck.loopIterations, perIteration: 8) == 1.28e8)
        // 32 KiB L1D, 64 B lines: 256 KiB, 4,096 lines, 256 passes: 1,048,576 refills.
        let a = CounterCheck.chaseLayout(l1dBytes: 32 << 10, lineBytes: 64)
        #expect(a.bytes == 256 << 10 && a.lines == 4096 && a.passes == 256)
        #expect(CounterCheck.chaseRefills(lines: a.lines, passes: a.passes) == 1_048_576)
        // A Cortex-A15's 32 KiB L1D; a 48 KiB L1D (not a power of two) still gives whole lines.
        let b = CounterCheck.chaseLayout(l1dBytes: 48 << 10, lineBytes: 64)
        #expect(b.bytes == 384 << 10 && b.lines == 6144 && b.passes == 170)
        // Stream: 8 x the last level within 16..256 MiB and an eighth of memory; 64 MiB when unknown.
        let gib: Int64 = 1 << 30
        #expect(CounterCheck.streamBytes(lastLevelBytes: 512 << 10, lineBytes: 64, physicalBytes: 2 * gib) == 16 << 20)
        #expect(CounterCheck.streamBytes(lastLevelBytes: 3 << 20, lineBytes: 64, physicalBytes: 8 * gib) == 24 << 20)
        #expect(CounterCheck.streamBytes(lastLevelBytes: nil, lineBytes: 64, physicalBytes: 2 * gib) == 64 << 20)
        #expect(CounterCheck.streamBytes(lastLevelBytes: 64 << 20, lineBytes: 64, physicalBytes: 64 * gib) == 256 << 20)
        #expect(CounterCheck.streamBytes(lastLevelBytes: 64 << 20, lineBytes: 64, physicalBytes: gib) == 128 << 20)
        #expect(CounterCheck.streamRefills(bytes: 16 << 20, lineBytes: 64) == 262_144)
        #expect(CounterCheck.cycles(seconds: 0.1, kHz: 1_400_000) == 1.4e8)
    }

    @Test("the reported run is the one with the median ratio")
    func medianRun() {
        #expect(CounterCheck.medianRun([(100, 101), (100, 150), (100, 99)]) == 0)
        #expect(CounterCheck.medianRun([(200, 300), (100, 100), (100, 120)]) == 2) // ratios 1.5, 1.0, 1.2
        #expect(CounterCheck.medianRun([(nil, 5), (nil, 3), (nil, 4)]) == 2)
        #expect(CounterCheck.medianRun([(10, 7)]) == 0)
    }

    @Test("events: the ARM raw codes from the core's table, perf's generic names elsewhere")
    func events() throws {
        let data = try #require(DataDirectory.locate())
        let a53 = try EventTable.load("arm/cortex-a53", data: data)
        let e = CounterCheck.events(table: a53, armCorePMU: true)
        #expect([e.instructions.spec, e.cycles.spec, e.l1dRefills.spec, e.lastLevelRefills.spec] == ["r08", "r11", "r03", "r17"])
        #expect(e.lastLevelRefills.source.contains("L2D_CACHE_REFILL") && e.instructions.source.contains("arm/cortex-a53"))
        // DynamIQ: the L3 is the last level (as dram_read_bytes in events/metrics.json).
        let a76 = try EventTable.load("arm/cortex-a76", data: data)
        #expect(CounterCheck.events(table: a76, armCorePMU: true).lastLevelRefills.spec == "r2a")
        let x86 = CounterCheck.events(table: nil, armCorePMU: false)
        #expect([x86.instructions.spec, x86.cycles.spec, x86.l1dRefills.spec, x86.lastLevelRefills.spec]
                == ["instructions", "cycles", "L1-dcache-load-misses", "LLC-load-misses"])
        #expect(CounterCheck.events(table: nil, armCorePMU: true).instructions.source.contains("no event table"))
    }
}

@Suite("counter check: the cache file and its summary")
struct CounterCheckCacheTests {
    static let sample = CounterCheckReport(
        checkedAt: Date(timeIntervalSince1970: 1_796_472_000), // 2026-12-05T12:00:00Z
        board: "odroid-xu3", cluster: "big", core: "cortex-a15", cpus: [4, 5, 6, 7], pmu: "armv7_cortex_a15",
        architecture: "armv7l", paranoid: 2,
        checks: [
            CounterCheckResult(metric: "instructions", event: "r08:u", eventSource: "INST_RETIRED", kernel: "loop", unit: "instructions",
                               expected: 128_000_000, measured: 128_000_300, tolerance: 0.01, verdict: .trustworthy, detail: nil),
            CounterCheckResult(metric: "cycles", event: "r11:u", eventSource: "CPU_CYCLES", kernel: "loop", unit: "cycles",
                               expected: nil, measured: 2e8, tolerance: 0.1, verdict: .unavailable(reason: "no CPU frequency"), detail: "no cpufreq"),
            CounterCheckResult(metric: "l1d_refills", event: "r03:u", eventSource: "L1D_CACHE_REFILL", kernel: "chase", unit: "lines",
                               expected: 1_048_576, measured: 4_089_446, tolerance: 0.1, verdict: .offByFactor(3.9), detail: nil),
            CounterCheckResult(metric: "llc_bytes", event: "r17:u", eventSource: "L2D_CACHE_REFILL", kernel: "stream", unit: "bytes",
                               expected: Double(16 << 20), measured: 0, tolerance: 0.2, verdict: .countsZero, detail: nil),
        ],
        notes: ["L1D 32 KiB from sysfs"])

    @Test("kept and read back: the same report; schema socprof.check version 1; one file per board and cluster")
    func roundTrip() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = try Self.sample.save(in: dir)
        #expect(url.lastPathComponent == "odroid-xu3-big.json")
        #expect(CounterCheckReport.load(board: "odroid-xu3", cluster: "big", in: dir) == Self.sample)
        #expect(CounterCheckReport.load(board: "odroid-xu3", cluster: "little", in: dir) == nil)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(doc["schema"] as? String == "socprof.check" && doc["schema_version"] as? Int == 1)
        #expect(doc["checked_at"] as? String == "2026-12-05T12:00:00Z")
        let checks = try #require(doc["checks"] as? [[String: Any]])
        #expect(checks.map { $0["verdict"] as? String } == ["trustworthy", "unavailable", "off_by_a_factor", "counts_zero"])
        #expect(checks[2]["factor"] as? Double == 3.9 && checks[1]["reason"] as? String == "no CPU frequency")
        // Missing values are null, not 0 and not absent.
        #expect(checks[1]["expected"] is NSNull && checks[1]["ratio"] is NSNull && checks[0]["factor"] is NSNull)
        #expect(abs((checks[0]["ratio"] as? Double ?? 0) - 1.0000023) < 1e-6)
        // Another schema (or version) is not read as a check.
        try Data(String(decoding: Data(contentsOf: url), as: UTF8.self).replacingOccurrences(of: "\"schema_version\" : 1", with: "\"schema_version\" : 2").utf8).write(to: url)
        #expect(CounterCheckReport.load(board: "odroid-xu3", cluster: "big", in: dir) == nil)
    }

    @Test("the one-line summary for profile and info, or nil before check has run")
    func summary() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(CounterCheckReport.summary(board: "odroid-xu3", cluster: "big", in: dir) == nil)
        try Self.sample.save(in: dir)
        #expect(CounterCheckReport.summary(board: "odroid-xu3", cluster: "big", in: dir) ==
                "counters checked 2026-12-05: instructions trustworthy (1.00x), cycles unavailable (no CPU frequency), l1d_refills off by a factor (3.90x), llc_bytes counts 0")
    }

    @Test("the cache lives beside the ceilings: $XDG_CACHE_HOME/socprof/check, else ~/.cache/socprof/check")
    func directory() {
        #expect(CounterCheckReport.directory(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]).path == "/x/socprof/check")
        #expect(CounterCheckReport.directory(environment: ["HOME": "/h"]).path == "/h/.cache/socprof/check")
        #expect(CounterCheckReport.key(board: "unknown", cluster: "cpus 0/1") == "unknown-cpus_0_1.json")
    }

    @Test("the text names each verdict, the event and the reason")
    func text() {
        let t = Self.sample.text(keptIn: "/tmp/x.json")
        #expect(t.contains("off by a factor (3.90x)") && t.contains("counts 0 where it must not") && t.contains("unavailable (no CPU frequency)"))
        #expect(t.contains("r08:u") && t.contains("why: no cpufreq") && t.hasSuffix("kept in /tmp/x.json\n"))
    }
}

/// task-clock's expectation: the thread's time on its CPU, stolen time included.
@Suite("task-clock's expected time")
struct TaskClockExpectationTests {
    @Test("wall time less the wait to run; the CPU time without schedstat or when the readings disagree")
    func expectation() {
        // A 32 ms loop from which the hypervisor took 14 ms (task-clock read 1.44x the CPU time
        // on this VM): 46 ms on the CPU, 14 beyond the CPU time.
        let stolen = CounterCheck.taskClockExpected(cpuNanoseconds: 32_000_000, wallNanoseconds: 50_000_000, runDelayNanoseconds: 4_000_000)
        #expect(stolen.nanoseconds == 46_000_000 && stolen.beyondCPUTime == 14_000_000)
        // Preempted by another task for 40 ms: the wait is not the thread's, nothing beyond.
        let shared = CounterCheck.taskClockExpected(cpuNanoseconds: 38_000_000, wallNanoseconds: 78_000_000, runDelayNanoseconds: 40_000_000)
        #expect(shared.nanoseconds == 38_000_000 && shared.beyondCPUTime == 0)
        // A time on the CPU a little under the CPU time (clock reads at different instants) is kept.
        let close = CounterCheck.taskClockExpected(cpuNanoseconds: 10_000_000, wallNanoseconds: 10_050_000, runDelayNanoseconds: 100_000)
        #expect(close.nanoseconds == 9_950_000 && close.beyondCPUTime == 0)
        // No schedstat, a wait longer than the run, or a time on the CPU far under the CPU time:
        // the CPU time.
        for delay: UInt64? in [nil, 60_000_000, 20_000_000] {
            let r = CounterCheck.taskClockExpected(cpuNanoseconds: 32_000_000, wallNanoseconds: 50_000_000, runDelayNanoseconds: delay)
            #expect(r.nanoseconds == 32_000_000 && r.beyondCPUTime == 0, "\(String(describing: delay))")
        }
    }
}

/// The checks on this machine's own PMU: the counted loop's instructions within 1 %.
@Suite("counter check on this machine's PMU", .serialized)
struct CounterCheckLiveTests {
    @Test("instructions of the counted loop within 1 % (or not implemented, and said so)",
          .enabled(if: Fixtures.liveMachineHasCorePMU, "needs a hardware PMU (this machine has none)"))
    func instructionsWithinTolerance() throws {
        let platform = try PlatformDescription.load(root: .live)
        let cluster = try #require(platform.topology.biggestCluster)
        let cpus = cluster.cpus.cpus.filter { Affinity.current().contains($0) }
        var runner = CounterCheckRunner(platform: platform, cluster: cluster, cpus: cpus)
        runner.loopIterations = 4_000_000
        let report = try runner.run()
        let c = try #require(report.check("instructions"))
        let pmu = PMURegistry(root: .live).corePMUs
        if pmu.contains(where: { $0.implementsCommonEvent(0x08) == false }) {
            // QEMU without -icount: INST_RETIRED is not implemented, and the check says so.
            #expect(c.verdict == .unavailable(reason: "event not implemented") && c.measured == nil, "\(c)")
        } else {
            #expect(c.verdict == .trustworthy, "\(c)")
            let ratio = try #require(c.ratio)
            #expect(abs(ratio - 1) <= CounterCheck.instructionsTolerance, "\(c)")
        }
    }
}
