import CCheckKernels
import Counters
import Dispatch
import Foundation
import LinuxSystem
import Platform

/// Runs `socprof check` on this machine: the kernels of `CCheckKernels` on one thread pinned to
/// a cluster's CPUs, each under the counters it checks, and the verdicts (docs/check.md).
///
/// Nothing is estimated where a counter cannot be read: such a check is `unavailable` with the
/// reason socprof's counter layer gives (no PMU, event not implemented, not permitted), and its
/// kernel is not run.
public struct CounterCheckRunner: Sendable {
    public let platform: PlatformDescription
    public let cluster: Cluster
    /// The cluster's CPUs this process may run on: the thread is pinned to them.
    public let cpus: [Int]
    /// Iterations of the counted loop per run.
    public var loopIterations: UInt32 = CounterCheck.loopIterations
    /// Runs of each kernel (the result is the median run).
    public var runs: Int = CounterCheck.runs
    /// What perf_event allows (read on the live kernel: the counters are opened on it).
    public var permissions: PerfPermissions = .current(root: .live)

    public init(platform: PlatformDescription, cluster: Cluster, cpus: [Int]) {
        self.platform = platform
        self.cluster = cluster
        self.cpus = cpus
    }

    /// Why the checks could not run at all.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The sizes the kernels use and where they came from.
    public struct Sizes: Sendable, Equatable {
        public let l1dBytes: Int
        public let l1dLineBytes: Int
        public let lastLevelBytes: Int64?
        public let lastLevelLineBytes: Int
        /// Where each figure came from ("sysfs", "board file", "assumed").
        public let notes: [String]
    }

    /// The L1D and last-level sizes of the cluster: the kernel's (sysfs), else the board file's,
    /// else 32 KiB and unknown (the stream then assumes 8 MiB).
    public var sizes: Sizes {
        let board = platform.boardCluster(for: cluster)
        let l1 = cluster.caches.first { $0.level == 1 && $0.type != "Instruction" }
        let last = cluster.caches.filter { $0.type != "Instruction" }.max { $0.level < $1.level }
        var notes: [String] = []
        let l1dBytes: Int
        if let s = l1?.sizeBytes {
            l1dBytes = Int(s)
            notes.append("L1D \(Self.sizeText(Int64(s))) from sysfs")
        } else if let kib = board?.l1d_kib?.value {
            l1dBytes = kib << 10
            notes.append("L1D \(kib) KiB from boards/\(platform.board?.name ?? "?").json (sysfs gives no size)")
        } else {
            l1dBytes = 32 << 10
            notes.append("L1D size unknown (neither sysfs nor a board file gives it): 32 KiB assumed")
        }
        let boardLine = board?.line_bytes?.value
        let l1dLine = l1?.lineBytes ?? boardLine ?? platform.metrics.lineSizeDefault
        var lastBytes: Int64? = nil
        if let last, last.level > 1, let s = last.sizeBytes {
            lastBytes = s
            notes.append("last level L\(last.level) \(Self.sizeText(s)) from sysfs")
        } else if let kib = platform.board?.l3_kib?.value {
            lastBytes = Int64(kib) << 10
            notes.append("last level L3 \(kib) KiB from boards/\(platform.board?.name ?? "?").json")
        } else if let kib = board?.l2_kib?.value {
            lastBytes = Int64(kib) << 10
            notes.append("last level L2 \(kib) KiB from boards/\(platform.board?.name ?? "?").json")
        } else {
            notes.append("last-level size unknown: 8 MiB assumed")
        }
        let lastLine = cluster.lineBytes ?? boardLine ?? platform.metrics.lineSizeDefault
        return Sizes(l1dBytes: l1dBytes, l1dLineBytes: l1dLine, lastLevelBytes: lastBytes, lastLevelLineBytes: lastLine, notes: notes)
    }

    /// The events for this cluster's core (see `CounterCheck.events`).
    public var events: CounterCheck.Events {
        CounterCheck.events(table: platform.eventTable(for: cluster), armCorePMU: cluster.pmu?.isARMCore ?? false)
    }

    /// Runs every check on one thread pinned to `cpus` and returns the report.
    public func run(now: Date = Date()) throws(Failure) -> CounterCheckReport {
        // Sendable: written by the check thread only, read after `done` is signalled.
        final class Outcome: @unchecked Sendable {
            var checks: [CounterCheckResult] = []
            var error: String?
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let me = self
        let thread = Thread {
            defer { done.signal() }
            do { try Affinity.pin(to: CPUSet(me.cpus)) } catch {
                outcome.error = "cannot run on cluster \(me.cluster.name): \(error)"
                return
            }
            outcome.checks = me.runChecks()
        }
        thread.stackSize = 1 << 20
        thread.start()
        done.wait()
        if let e = outcome.error { throw Failure(description: e) }
        var notes = sizes.notes
        notes.append("hardware events are counted in user space (:u): the kernels are user code, and interrupts are not theirs")
        return CounterCheckReport(
            checkedAt: now, board: platform.board?.name ?? "unknown", cluster: cluster.name, core: cluster.core?.id,
            cpus: cpus, pmu: cluster.pmu?.name, architecture: platform.topology.architecture,
            paranoid: permissions.paranoid, checks: outcome.checks, notes: notes)
    }

    // MARK: - The checks, on the pinned thread

    /// One run of a kernel under a counter set.
    struct Run {
        var values: [String: Double] = [:]
        var notes: [String: String] = [:]
        var failures: [String: (reason: String, detail: String?)] = [:]
        var cpuNanoseconds: UInt64 = 0
        /// CLOCK_MONOTONIC across the run.
        var wallNanoseconds: UInt64 = 0
        /// The growth of the thread's run_delay (/proc/thread-self/schedstat) across the run.
        var runDelayNanoseconds: UInt64?
        var kHz: Double?
        var frequencyNote: String?
    }

    /// Events opened for a kernel, by metric.
    struct Opened {
        var set: CounterSet?
        var index: [String: Int] = [:]
        var unavailable: [String: (reason: String, detail: String?)] = [:]
        var specs: [String: String] = [:]
    }

    var hasCorePMU: Bool { !platform.registry.corePMUs.isEmpty }

    func runChecks() -> [CounterCheckResult] {
        let ev = events
        let sizes = self.sizes
        var results: [CounterCheckResult] = []
        if permissions.forbidsAll {
            // Not one event can be opened: say so once per check, run nothing.
            let why = "\(permissions.summary); \(PerfPermissions.fix)"
            for (metric, choice, unit, tolerance) in [
                ("instructions", ev.instructions, "instructions", CounterCheck.instructionsTolerance),
                ("cycles", ev.cycles, "cycles", CounterCheck.cyclesTolerance),
                ("l1d_refills", ev.l1dRefills, "lines", CounterCheck.l1dTolerance),
                ("llc_bytes", ev.lastLevelRefills, "bytes", CounterCheck.lastLevelTolerance),
                ("task_clock", CounterCheck.EventChoice(spec: "task-clock", source: "software event"), "ns", CounterCheck.taskClockTolerance),
            ] {
                results.append(CounterCheckResult(metric: metric, event: choice.spec, eventSource: choice.source, kernel: "not run",
                                                  unit: unit, expected: nil, measured: nil, tolerance: tolerance,
                                                  verdict: .unavailable(reason: "not permitted"), detail: why))
            }
            return results
        }
        results += checkLoop(ev, sizes: sizes)
        results.append(checkChase(ev.l1dRefills, sizes: sizes))
        results.append(checkStream(ev.lastLevelRefills, sizes: sizes))
        // Same order as the summary reads best: instructions, cycles, caches, then task-clock.
        let order = ["instructions", "cycles", "l1d_refills", "llc_bytes", "task_clock"]
        return results.sorted { (order.firstIndex(of: $0.metric) ?? 99) < (order.firstIndex(of: $1.metric) ?? 99) }
    }

    /// Resolves (as `stat -e` does, on the cluster's PMU of a heterogeneous machine) and opens
    /// `specs` (metric, event) for this thread. Hardware events get `:u`; where the PMU cannot
    /// exclude the kernel (EOPNOTSUPP) they are opened again without it.
    func open(_ specs: [(metric: String, spec: String)]) -> Opened {
        func attempt(user: Bool) -> Opened {
            var o = Opened()
            var events: [ResolvedEvent] = []
            let resolver = EventResolver(registry: platform.registry)
            let corePMU = platform.registry.isHeterogeneous ? cluster.pmu : nil
            for (metric, spec) in specs {
                let isSoftware = GenericEvent.named(spec)?.type == .software
                let text = user && !isSoftware ? spec + ":u" : spec
                o.specs[metric] = text
                do {
                    let resolved = try resolver.resolve(try EventSpec.parse(text), corePMU: corePMU)
                    guard resolved.count == 1, let e = resolved.first else {
                        o.unavailable[metric] = ("no PMU for this cluster",
                                                 "\(text) resolves to \(resolved.count) events (one per core PMU) and cluster \(cluster.name) has no PMU of its own")
                        continue
                    }
                    o.index[metric] = events.count
                    events.append(e)
                } catch let e as EventSpecError {
                    o.unavailable[metric] = ("event not resolved", e.description)
                } catch let e as EventResolutionError {
                    o.unavailable[metric] = ("event not resolved", e.description)
                } catch {
                    o.unavailable[metric] = ("event not resolved", "\(error)")
                }
            }
            if !events.isEmpty {
                o.set = CounterSet(events: events, options: CounterOptions(target: .currentThread, permissions: permissions),
                                   registry: platform.registry)
            }
            return o
        }
        let first = attempt(user: true)
        let modeRefused = first.set.map { set in set.failures.values.contains { $0.errno == .notSupported } } ?? false
        guard modeRefused else { return first }
        first.set?.close()
        return attempt(user: false) // the result's event then has no :u, and its source says why
    }

    /// Runs `kernel` `runs` times under the opened events, with the thread's CPU time and the
    /// frequency of the CPU it runs on around each run.
    func measure(_ o: Opened, kernel: () -> Void) -> [Run] {
        guard let set = o.set, set.isCounting else { return [] }
        defer { set.close() }
        var out: [Run] = []
        for _ in 0..<max(1, runs) {
            var run = Run()
            let cpu = Affinity.currentCPU()
            let f0 = cpu.flatMap(frequencyKHz)
            do {
                try set.reset()
                // The delay is read outside the wall-clock window: a wait between the two reads
                // lands in the delay only, the time on the CPU falls under the CPU time, and
                // taskClockExpected falls back to the CPU time.
                let d0 = Self.threadRunDelayNanoseconds()
                let w0 = MonotonicClock.nanoseconds()
                let t0 = Self.threadCPUNanoseconds()
                try set.enable()
                kernel()
                try set.disable()
                run.cpuNanoseconds = Self.threadCPUNanoseconds() &- t0
                run.wallNanoseconds = MonotonicClock.nanoseconds() &- w0
                if let d0, let d1 = Self.threadRunDelayNanoseconds(), d1 >= d0 { run.runDelayNanoseconds = d1 - d0 }
            } catch {
                for (metric, _) in o.index { run.failures[metric] = ("refused by the kernel", error.description) }
                out.append(run)
                continue
            }
            let f1 = cpu.flatMap(frequencyKHz)
            if let f0, let f1 {
                run.kHz = (f0 + f1) / 2
                run.frequencyNote = f0 == f1
                    ? "cpu\(cpu!) at \(Self.mhz(f0)) MHz (scaling_cur_freq)"
                    : "cpu\(cpu!) at \(Self.mhz(f0)) MHz before and \(Self.mhz(f1)) MHz after (scaling_cur_freq; the mean is used)"
            } else if let cpu {
                run.frequencyNote = "cpufreq gives no scaling_cur_freq for cpu\(cpu)"
            }
            let readings = set.read()
            for (metric, i) in o.index {
                let r = CounterCheck.outcome(of: readings[i], machineHasCorePMU: hasCorePMU)
                if let v = r.value {
                    run.values[metric] = v
                    if let d = r.detail { run.notes[metric] = d }
                } else {
                    run.failures[metric] = (r.reason ?? "not counted", r.detail)
                }
            }
            out.append(run)
        }
        return out
    }

    /// Builds the result of one metric from the runs: the run with the median ratio.
    func result(metric: String, choice: CounterCheck.EventChoice, opened: Opened, runs: [Run], kernel: String, unit: String,
                tolerance: Double, expected: (Run) -> Double?, staticExpected: Double?, missing: String,
                missingDetail: ((Run) -> String?)? = nil, extra: (Run) -> String? = { _ in nil }) -> CounterCheckResult {
        let spec = opened.specs[metric]
        var source = choice.source
        if let spec, !spec.hasSuffix(":u"), GenericEvent.named(choice.spec)?.type != .software {
            source += "; user and kernel: the PMU cannot count user space alone (EOPNOTSUPP)"
        }
        func unavailable(_ reason: String, _ detail: String?) -> CounterCheckResult {
            CounterCheckResult(metric: metric, event: spec ?? choice.spec, eventSource: source, kernel: kernel, unit: unit,
                               expected: staticExpected, measured: nil, tolerance: tolerance,
                               verdict: .unavailable(reason: reason), detail: detail)
        }
        if let u = opened.unavailable[metric] { return unavailable(u.reason, u.detail) }
        if let set = opened.set, let i = opened.index[metric], let e = set.failures[i] {
            return unavailable(CounterCheck.unavailableReason(e, machineHasCorePMU: hasCorePMU), e.explanation)
        }
        let counted = runs.filter { $0.values[metric] != nil }
        guard !counted.isEmpty else {
            let f = runs.lazy.compactMap { $0.failures[metric] }.first
            return unavailable(f?.reason ?? "not counted", f?.detail ?? "the kernel did not run")
        }
        let pairs = counted.map { (expected: expected($0), measured: $0.values[metric]!) }
        let k = CounterCheck.medianRun(pairs)
        let chosen = counted[k]
        let exp = pairs[k].expected
        let measured = pairs[k].measured
        var details: [String] = []
        if let d = extra(chosen) { details.append(d) }
        if let n = chosen.notes[metric] { details.append(n) }
        if exp == nil, let d = missingDetail?(chosen) { details.append(d) }
        details.append("median of \(counted.count) run(s)")
        return CounterCheckResult(metric: metric, event: spec ?? choice.spec, eventSource: source, kernel: kernel, unit: unit,
                                  expected: exp ?? staticExpected, measured: measured, tolerance: tolerance,
                                  verdict: CounterCheck.verdict(expected: exp, measured: measured, tolerance: tolerance, missing: missing),
                                  detail: details.joined(separator: "; "))
    }

    /// The counted loop: instructions (exact by construction), cycles (against CPU time x
    /// frequency) and task-clock (against the thread's CPU time), all from the same runs.
    func checkLoop(_ ev: CounterCheck.Events, sizes: Sizes) -> [CounterCheckResult] {
        let perIteration = Int(socprof_check_loop_instructions_per_iteration())
        let n = loopIterations
        let taskClock = CounterCheck.EventChoice(spec: "task-clock", source: "software event (the scheduler's clock of this thread)")
        var specs: [(metric: String, spec: String)] = [("cycles", ev.cycles.spec), ("task_clock", taskClock.spec)]
        if perIteration > 0 { specs.insert(("instructions", ev.instructions.spec), at: 0) }
        let opened = open(specs)
        _ = socprof_check_loop(10_000) // the code paged in
        let runs = measure(opened) { _ = socprof_check_loop(n) }
        let loop = "socprof_check_loop: \(Self.grouped(Double(n))) iterations x \(perIteration) instructions (inline assembly, \(platform.topology.architecture))"
        var out: [CounterCheckResult] = []
        if perIteration > 0 {
            let expected = CounterCheck.loopInstructions(iterations: n, perIteration: perIteration)
            out.append(result(metric: "instructions", choice: ev.instructions, opened: opened, runs: runs, kernel: loop,
                              unit: "instructions", tolerance: CounterCheck.instructionsTolerance,
                              expected: { _ in expected }, staticExpected: expected, missing: "no expected count"))
        } else {
            out.append(CounterCheckResult(metric: "instructions", event: ev.instructions.spec, eventSource: ev.instructions.source,
                                          kernel: "socprof_check_loop (plain C here)", unit: "instructions", expected: nil, measured: nil,
                                          tolerance: CounterCheck.instructionsTolerance,
                                          verdict: .unavailable(reason: "no counted loop for this architecture"),
                                          detail: "CCheckKernels has inline assembly for aarch64, 32-bit ARM and x86 only; elsewhere the loop's instruction count is up to the compiler"))
        }
        out.append(result(metric: "cycles", choice: ev.cycles, opened: opened, runs: runs,
                          kernel: "the same loop; expected = the thread's CPU time x scaling_cur_freq", unit: "cycles",
                          tolerance: CounterCheck.cyclesTolerance,
                          expected: { r in r.kHz.map { CounterCheck.cycles(seconds: Double(r.cpuNanoseconds) / 1e9, kHz: $0) } },
                          staticExpected: nil, missing: "no CPU frequency",
                          missingDetail: { r in
                              guard let c = r.values["cycles"], r.cpuNanoseconds > 0 else { return r.frequencyNote }
                              let implied = c / (Double(r.cpuNanoseconds) / 1e9) / 1e6
                              return "\(r.frequencyNote ?? "no frequency known"): nothing to compare with; the count implies \(String(format: "%.0f", implied)) MHz over \(String(format: "%.1f", Double(r.cpuNanoseconds) / 1e6)) ms of CPU time"
                          },
                          extra: { r in r.kHz != nil ? "\(r.frequencyNote ?? ""), \(String(format: "%.1f", Double(r.cpuNanoseconds) / 1e6)) ms of CPU time" : nil }))
        func onCPU(_ r: Run) -> (nanoseconds: Double, beyondCPUTime: Double) {
            CounterCheck.taskClockExpected(cpuNanoseconds: r.cpuNanoseconds, wallNanoseconds: r.wallNanoseconds,
                                           runDelayNanoseconds: r.runDelayNanoseconds)
        }
        out.append(result(metric: "task_clock", choice: taskClock, opened: opened, runs: runs,
                          kernel: "the same loop; expected = the thread's time on the CPU around it (wall time less its wait to run, /proc/thread-self/schedstat; else CLOCK_THREAD_CPUTIME_ID)",
                          unit: "ns", tolerance: CounterCheck.taskClockTolerance,
                          expected: { r in r.cpuNanoseconds > 0 ? onCPU(r).nanoseconds : nil }, staticExpected: nil,
                          missing: "no CPU time",
                          extra: { r in
                              let cpu = Double(r.cpuNanoseconds)
                              guard r.runDelayNanoseconds != nil else {
                                  return "no /proc/thread-self/schedstat: against the thread's CPU time, which leaves out time a hypervisor steals"
                              }
                              let expected = onCPU(r)
                              guard cpu > 0, expected.beyondCPUTime > 0.01 * cpu else { return nil }
                              return String(format: "the thread's CPU time (CLOCK_THREAD_CPUTIME_ID) is %.2f ms, %.1f %% less: time the hypervisor took from this vCPU (steal) or interrupts, which task-clock counts and the CPU time leaves out",
                                            cpu / 1e6, 100 * expected.beyondCPUTime / expected.nanoseconds)
                          }))
        return out
    }

    /// The pointer chase over 8 x L1D: one L1D refill per step.
    func checkChase(_ choice: CounterCheck.EventChoice, sizes: Sizes) -> CounterCheckResult {
        let layout = CounterCheck.chaseLayout(l1dBytes: sizes.l1dBytes, lineBytes: sizes.l1dLineBytes)
        let expected = CounterCheck.chaseRefills(lines: layout.lines, passes: layout.passes)
        let kernel = "socprof_check_chase: \(Self.grouped(Double(layout.lines))) lines of \(sizes.l1dLineBytes) B (\(Self.sizeText(Int64(layout.bytes))), 8 x L1D) in a random cycle, \(layout.passes) passes"
        let opened = open([("l1d_refills", choice.spec)])
        var runs: [Run] = []
        if opened.set?.isCounting == true, let buffer = Self.allocate(layout.bytes) {
            defer { free(buffer) }
            memset(buffer, 0, layout.bytes)
            if var p = socprof_check_chase_init(buffer, layout.lines, sizes.l1dLineBytes, 0x50C_9C0F) {
                // The C calls are opaque to Swift: none of them can be left out.
                p = socprof_check_chase(p, layout.lines) // one pass: pages and TLB warm
                let steps = layout.lines * layout.passes
                runs = measure(opened) { p = socprof_check_chase(p, steps) }
            }
        } else {
            opened.set?.close()
        }
        return result(metric: "l1d_refills", choice: choice, opened: opened, runs: runs, kernel: kernel, unit: "lines",
                      tolerance: CounterCheck.l1dTolerance, expected: { _ in expected }, staticExpected: expected,
                      missing: "no expected count")
    }

    /// The stream over 8 x the last level: one last-level refill per line, refills x line = bytes.
    func checkStream(_ choice: CounterCheck.EventChoice, sizes: Sizes) -> CounterCheckResult {
        let physical = Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE)))
        let line = sizes.lastLevelLineBytes
        let bytes = CounterCheck.streamBytes(lastLevelBytes: sizes.lastLevelBytes, lineBytes: line, physicalBytes: physical)
        let kernel = "socprof_check_stream: one load per \(line) B line over \(Self.sizeText(Int64(bytes))) (8 x the last level, 16-256 MiB), in address order; measured = refills x \(line) B"
        let opened = open([("llc_bytes", choice.spec)])
        var runs: [Run] = []
        if opened.set?.isCounting == true, let buffer = Self.allocate(bytes) {
            defer { free(buffer) }
            memset(buffer, 1, bytes) // every page touched before counting
            _ = socprof_check_stream(buffer, bytes, line) // its loads are volatile: all of them happen
            runs = measure(opened) { _ = socprof_check_stream(buffer, bytes, line) }
            for i in runs.indices { if let v = runs[i].values["llc_bytes"] { runs[i].values["llc_bytes"] = v * Double(line) } }
        } else {
            opened.set?.close()
        }
        return result(metric: "llc_bytes", choice: choice, opened: opened, runs: runs, kernel: kernel, unit: "bytes",
                      tolerance: CounterCheck.lastLevelTolerance, expected: { _ in Double(bytes) }, staticExpected: Double(bytes),
                      missing: "no expected count")
    }

    // MARK: - Helpers

    func frequencyKHz(_ cpu: Int) -> Double? {
        // The live kernel's cpufreq: the kernels run here, whatever --root describes.
        SystemRoot.live.readInt("sys/devices/system/cpu/cpu\(cpu)/cpufreq/scaling_cur_freq").map(Double.init)
    }

    static func threadCPUNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(Int64(ts.tv_sec)) * 1_000_000_000 + UInt64(Int64(ts.tv_nsec))
    }

    /// The thread's run_delay (ns, the second field of /proc/thread-self/schedstat: time spent
    /// waiting to run), nil without CONFIG_SCHED_INFO.
    static func threadRunDelayNanoseconds() -> UInt64? {
        SystemRoot.live.read("proc/thread-self/schedstat").flatMap { s in
            let fields = s.split(separator: " ")
            return fields.count >= 2 ? UInt64(fields[1]) : nil
        }
    }

    static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
        var p: UnsafeMutableRawPointer? = nil
        return posix_memalign(&p, 4096, bytes) == 0 ? p : nil
    }

    static func mhz(_ kHz: Double) -> String { String(format: "%.0f", kHz / 1000) }

    static func sizeText(_ bytes: Int64) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : bytes >= 1 << 10 ? "\(bytes >> 10) KiB" : "\(bytes) B"
    }

    /// 16000000 -> "16,000,000".
    static func grouped(_ v: Double) -> String {
        guard v.isFinite, abs(v) < 1e18 else { return String(format: "%.3g", v) }
        let digits = String(Int64(v.rounded()))
        var out = ""
        for (i, ch) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 && ch != "-" { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }
}
