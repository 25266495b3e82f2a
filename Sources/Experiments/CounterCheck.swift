import Counters
import Foundation
import Platform

/// What `socprof check` concluded about one counter (docs/check.md).
public enum CounterCheckVerdict: Sendable, Equatable {
    /// The measured count is within the check's tolerance of the expected one.
    case trustworthy
    /// The counter counts, but `factor` times what it must (measured / expected).
    case offByFactor(Double)
    /// The counter was read and is 0 where the kernel must have made it count.
    case countsZero
    /// Nothing to compare: no PMU, the event not implemented, not permitted, no frequency known...
    /// `reason` is a few words ("no PMU"); the result's `detail` says more.
    case unavailable(reason: String)

    /// The verdict in the JSON file: trustworthy, off_by_a_factor, counts_zero, unavailable.
    public var code: String {
        switch self {
        case .trustworthy: "trustworthy"
        case .offByFactor: "off_by_a_factor"
        case .countsZero: "counts_zero"
        case .unavailable: "unavailable"
        }
    }

    /// In words: "trustworthy", "off by a factor (3.90x)", "counts 0 where it must not",
    /// "unavailable (no PMU)".
    public var text: String {
        switch self {
        case .trustworthy: "trustworthy"
        case .offByFactor(let f): "off by a factor (\(CounterCheck.formatFactor(f)))"
        case .countsZero: "counts 0 where it must not"
        case .unavailable(let reason): "unavailable (\(reason))"
        }
    }
}

/// One counter checked against a kernel with a known count.
public struct CounterCheckResult: Sendable, Equatable {
    /// What is checked: instructions, cycles, l1d_refills, llc_bytes, task_clock.
    public let metric: String
    /// The event as `stat -e` takes it ("r08:u", "instructions:u", "task-clock"); nil when none
    /// could be chosen.
    public let event: String?
    /// Why that event: "INST_RETIRED (0x08) from the cortex-a53 table", "perf's generic event".
    public let eventSource: String
    /// The kernel and how the expected count follows from it.
    public let kernel: String
    /// The unit of `expected` and `measured`: instructions, cycles, lines, bytes, ns.
    public let unit: String
    /// What the kernel must make the counter count; nil when it cannot be known (a frequency
    /// missing, a kernel that did not run).
    public let expected: Double?
    /// What the counter counted (the median of the runs); nil when it could not be read.
    public let measured: Double?
    /// The largest |measured / expected - 1| still called trustworthy.
    public let tolerance: Double
    public let verdict: CounterCheckVerdict
    /// The reason in full, and anything else worth knowing (the frequency used, multiplexing).
    public let detail: String?

    public init(metric: String, event: String?, eventSource: String, kernel: String, unit: String, expected: Double?,
                measured: Double?, tolerance: Double, verdict: CounterCheckVerdict, detail: String?) {
        self.metric = metric
        self.event = event
        self.eventSource = eventSource
        self.kernel = kernel
        self.unit = unit
        self.expected = expected
        self.measured = measured
        self.tolerance = tolerance
        self.verdict = verdict
        self.detail = detail
    }

    /// measured / expected, when both are known and expected is not 0.
    public var ratio: Double? {
        guard let expected, let measured, expected > 0 else { return nil }
        return measured / expected
    }
}

extension CounterCheckResult: Codable {
    enum CodingKeys: String, CodingKey {
        case metric, event, event_source, kernel, unit, expected, measured, ratio, tolerance, verdict, factor, reason, detail
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metric = try c.decode(String.self, forKey: .metric)
        event = try c.decodeIfPresent(String.self, forKey: .event)
        eventSource = try c.decodeIfPresent(String.self, forKey: .event_source) ?? ""
        kernel = try c.decodeIfPresent(String.self, forKey: .kernel) ?? ""
        unit = try c.decodeIfPresent(String.self, forKey: .unit) ?? ""
        expected = try c.decodeIfPresent(Double.self, forKey: .expected)
        measured = try c.decodeIfPresent(Double.self, forKey: .measured)
        tolerance = try c.decode(Double.self, forKey: .tolerance)
        detail = try c.decodeIfPresent(String.self, forKey: .detail)
        let code = try c.decode(String.self, forKey: .verdict)
        switch code {
        case "trustworthy": verdict = .trustworthy
        case "off_by_a_factor": verdict = .offByFactor(try c.decode(Double.self, forKey: .factor))
        case "counts_zero": verdict = .countsZero
        case "unavailable": verdict = .unavailable(reason: try c.decodeIfPresent(String.self, forKey: .reason) ?? "unknown")
        default:
            throw DecodingError.dataCorruptedError(forKey: .verdict, in: c, debugDescription: "unknown verdict '\(code)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(metric, forKey: .metric)
        try c.encode(event, forKey: .event) // null when none: the key is always there
        try c.encode(eventSource, forKey: .event_source)
        try c.encode(kernel, forKey: .kernel)
        try c.encode(unit, forKey: .unit)
        try c.encode(expected, forKey: .expected)
        try c.encode(measured, forKey: .measured)
        try c.encode(ratio, forKey: .ratio)
        try c.encode(tolerance, forKey: .tolerance)
        try c.encode(verdict.code, forKey: .verdict)
        if case .offByFactor(let f) = verdict { try c.encode(f, forKey: .factor) } else { try c.encodeNil(forKey: .factor) }
        if case .unavailable(let r) = verdict { try c.encode(r, forKey: .reason) } else { try c.encodeNil(forKey: .reason) }
        try c.encode(detail, forKey: .detail)
    }
}

/// The pure part of `socprof check`: verdicts, expected counts, kernel sizes, tolerances and the
/// events chosen per architecture. `CounterCheckRunner` runs the kernels.
public enum CounterCheck {
    // MARK: Tolerances

    /// Instructions of the counted loop: 1 %, PAPI's bound for its instruction tests
    /// (validation_tests/papi_tot_ins.c). The loop's count is exact by construction; what the
    /// counter adds is the few user instructions around enabling and disabling it (< 1e-5 of
    /// 128 M) and, in an emulator, instructions of interrupt handling that leak through
    /// exclude_kernel (QEMU: ~9,400 per timer tick, < 0.3 % at one instruction per ns).
    public static let instructionsTolerance = 0.01
    /// Cycles against time x frequency: 10 %, PAPI's bound for cycles (papi_tot_cyc.c). The
    /// frequency is scaling_cur_freq read before and after, a sample, not an integral: a governor
    /// that moves during the run, or turbo, moves the true average.
    public static let cyclesTolerance = 0.10
    /// L1D refills of the pointer chase: 10 %. PAPI allows 5 % for its random-access L1 miss test
    /// (papi_l1_dcm.c) averaged over 100 runs; this takes the median of 3, and a next-line
    /// prefetcher or a refill by a page-table walk adds a few refills the chase did not ask for.
    public static let l1dTolerance = 0.10
    /// Last-level refills x line against the bytes streamed: 20 %. The last level is shared with
    /// the other cores (their lines evict ours and theirs are not counted here), its replacement is
    /// often pseudo-random (a few lines of the previous pass survive), page-table walks add refills,
    /// and prefetchers may fetch past the end of the buffer. PAPI's own L2 miss test only warns.
    public static let lastLevelTolerance = 0.20
    /// task-clock against the thread's time on its CPU: 5 %. Both are the scheduler's account of
    /// this thread; they differ by the enable and disable calls only.
    public static let taskClockTolerance = 0.05

    // MARK: Verdicts

    /// The verdict on `measured` against `expected` within `tolerance` (|ratio - 1| <= tolerance).
    /// 0 where something was expected is `countsZero`; nil values or an expected count <= 0 are
    /// unavailable with `missing` as the reason.
    public static func verdict(expected: Double?, measured: Double?, tolerance: Double,
                               missing: String = "nothing to compare") -> CounterCheckVerdict {
        guard let measured, measured.isFinite else { return .unavailable(reason: missing) }
        guard let expected, expected.isFinite, expected > 0 else {
            return measured == 0 ? .countsZero : .unavailable(reason: missing)
        }
        if measured == 0 { return .countsZero }
        let ratio = measured / expected
        // (1e-9: 990 / 1000 is 0.99 within 1 %, whatever the last bit of the division.)
        return abs(ratio - 1) <= tolerance + 1e-9 ? .trustworthy : .offByFactor(ratio)
    }

    /// A few words for why an event could not be counted, from socprof's classification of the
    /// open failure: "no PMU", "event not implemented", "not permitted", ...
    public static func unavailableReason(_ error: CounterError, machineHasCorePMU: Bool) -> String {
        switch error.kind {
        case .permission:
            return "not permitted"
        case .resources:
            return "no free counter"
        case .notSupported:
            if !machineHasCorePMU && error.pmu != "software" { return "no PMU" }
            if error.errno == .notSupported { return "mode not supported" }
            return "event not implemented"
        case .other:
            return "refused by the kernel"
        }
    }

    /// What a reading gives a check: the value, or why there is none (a reason and the detail).
    public static func outcome(of reading: Reading, machineHasCorePMU: Bool) -> (value: Double?, reason: String?, detail: String?) {
        switch reading.status {
        case .counted:
            return (reading.value, nil, nil)
        case .multiplexed:
            return (reading.value, nil, String(format: "multiplexed: on a counter %.0f %% of the time, scaled", reading.runningPercent ?? 0))
        case .notCounted:
            return (nil, "not counted", "opened, but never on a counter (another tool holds the PMU's counters?)")
        case .notSupported(let e):
            return (nil, unavailableReason(e, machineHasCorePMU: machineHasCorePMU), e.explanation)
        }
    }

    /// The index of the run to report: the one with the median ratio (measured / expected) when
    /// every run has an expected count, else the one with the median measured value. With an
    /// even number of runs, the lower of the two middle ones.
    public static func medianRun(_ runs: [(expected: Double?, measured: Double)]) -> Int {
        precondition(!runs.isEmpty, "no runs")
        let keys: [Double]
        if runs.allSatisfy({ ($0.expected ?? 0) > 0 }) {
            keys = runs.map { $0.measured / $0.expected! }
        } else {
            keys = runs.map(\.measured)
        }
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        return order[(order.count - 1) / 2]
    }

    // MARK: Kernels and expected counts

    /// Iterations of the counted loop per run: 128 M instructions, ~0.1 s on a Cortex-A7.
    public static let loopIterations: UInt32 = 16_000_000
    /// Runs of each kernel; each result is the run with the median ratio.
    public static let runs = 3

    /// Instructions the counted loop retires: iterations x instructions per iteration (the < 20
    /// outside the loop are left out: < 2e-7 of the count).
    public static func loopInstructions(iterations: UInt32, perIteration: Int) -> Double {
        Double(iterations) * Double(perIteration)
    }

    /// What task-clock should read over a run, in nanoseconds, and the part of it that is not the
    /// thread's CPU time.
    ///
    /// task-clock counts the time the thread is current on a CPU by the scheduler's clock. In a
    /// guest whose kernel accounts steal (CONFIG_PARAVIRT_TIME_ACCOUNTING, or interrupt time with
    /// CONFIG_IRQ_TIME_ACCOUNTING), `CLOCK_THREAD_CPUTIME_ID` leaves out the time the hypervisor
    /// took from the vCPU while the thread was on it, and task-clock does not: on a busy host the
    /// two differ by tens of percent, and neither is wrong. The thread's time on the CPU is the wall
    /// time of the run less the time it waited to run (`run_delay`, the second field of
    /// /proc/thread-self/schedstat, on the same clock): that is what task-clock is checked against,
    /// and the CPU time beside it says how much was stolen. Without schedstat (no
    /// CONFIG_SCHED_INFO), or when the readings are inconsistent (a wait longer than the run, or a
    /// time on the CPU shorter than the CPU time by more than 1 %), the CPU time is the expectation.
    ///
    /// - Parameters:
    ///   - cpuNanoseconds: `CLOCK_THREAD_CPUTIME_ID` across the run.
    ///   - wallNanoseconds: `CLOCK_MONOTONIC` across the run.
    ///   - runDelayNanoseconds: the growth of `run_delay` across the run, nil where unreadable.
    /// - Returns: the expected task-clock (ns), and the time on the CPU beyond the CPU time (ns;
    ///   0 where the CPU time is the expectation).
    public static func taskClockExpected(cpuNanoseconds: UInt64, wallNanoseconds: UInt64,
                                         runDelayNanoseconds: UInt64?) -> (nanoseconds: Double, beyondCPUTime: Double) {
        let cpu = Double(cpuNanoseconds)
        guard let delay = runDelayNanoseconds, delay < wallNanoseconds else { return (cpu, 0) }
        let onCPU = Double(wallNanoseconds - delay)
        guard onCPU >= cpu * 0.99 else { return (cpu, 0) }
        return (onCPU, max(0, onCPU - cpu))
    }

    /// Cycles in `seconds` of CPU time at `kHz`.
    public static func cycles(seconds: Double, kHz: Double) -> Double { seconds * kHz * 1000 }

    /// The pointer chase for an L1D of `l1dBytes`: a buffer of 8 x L1D (as PAPI's papi_l1_dcm
    /// test), one chase step per line, and enough passes for about 1 M steps (at least 2).
    /// With 8 x the capacity between two visits of a line, LRU keeps none of it and random
    /// replacement keeps about e^-8 = 0.03 %: every step misses.
    public static func chaseLayout(l1dBytes: Int, lineBytes: Int) -> (bytes: Int, lines: Int, passes: Int) {
        let line = max(lineBytes, 16)
        let lines = max(1, (8 * max(l1dBytes, 1024)) / line)
        return (lines * line, lines, max(2, (1 << 20) / lines))
    }

    /// L1D refills the chase must cause: one per step, lines x passes.
    public static func chaseRefills(lines: Int, passes: Int) -> Double { Double(lines) * Double(passes) }

    /// The stream for a last-level cache of `lastLevelBytes` (8 MiB assumed when unknown): 8 x its
    /// size, at least 16 MiB and at most 256 MiB, no more than an eighth of the memory, a
    /// multiple of `lineBytes`.
    public static func streamBytes(lastLevelBytes: Int64?, lineBytes: Int, physicalBytes: Int64) -> Int {
        var bytes = min(max(8 * (lastLevelBytes ?? 8 << 20), Int64(16 << 20)), Int64(256 << 20))
        if physicalBytes > 0 { bytes = min(bytes, max(Int64(1 << 20), physicalBytes / 8)) }
        let line = Int64(max(lineBytes, 16))
        return Int(bytes / line * line)
    }

    /// Last-level refills the stream must cause, in lines: one per line read.
    public static func streamRefills(bytes: Int, lineBytes: Int) -> Double { Double(bytes / max(lineBytes, 1)) }

    // MARK: Events

    /// The event for one check and why it was chosen.
    public struct EventChoice: Sendable, Equatable {
        /// As `stat -e` takes it, without a modifier.
        public let spec: String
        public let source: String
        public init(spec: String, source: String) {
            self.spec = spec
            self.source = source
        }
    }

    /// The hardware events of the checks, as `stat -e` names them.
    public struct Events: Sendable, Equatable {
        public let instructions: EventChoice
        public let cycles: EventChoice
        public let l1dRefills: EventChoice
        /// Refills of the last level: L3D_CACHE_REFILL on DynamIQ cores (their tables have 0x2A),
        /// L2D_CACHE_REFILL where the L2 is the last level, LLC-load-misses elsewhere; the same
        /// choice as the dram_read_bytes formulas of events/metrics.json.
        public let lastLevelRefills: EventChoice
    }

    /// The events for a core: the ARM raw codes r08, r11, r03 and r2a or r17 where the core's
    /// event table lists them (an ARM core PMU), perf's generic names everywhere else (x86, a core
    /// with no table, an event its table lacks).
    public static func events(table: EventTable?, armCorePMU: Bool) -> Events {
        func pick(_ codes: [(UInt64, String)], generic: String) -> EventChoice {
            if armCorePMU, let table {
                for (code, name) in codes where table.events.contains(where: { $0.code == code }) {
                    return EventChoice(spec: String(format: "r%02llx", code),
                                       source: "\(name) (0x\(String(format: "%02llX", code))) from the \(table.name) table")
                }
            }
            let why = armCorePMU ? (table == nil ? "no event table for this core" : "not in the \(table!.name) table")
                                 : "not an ARM core PMU"
            return EventChoice(spec: generic, source: "perf's generic event (\(why))")
        }
        return Events(
            instructions: pick([(0x08, "INST_RETIRED")], generic: "instructions"),
            cycles: pick([(0x11, "CPU_CYCLES")], generic: "cycles"),
            l1dRefills: pick([(0x03, "L1D_CACHE_REFILL")], generic: "L1-dcache-load-misses"),
            lastLevelRefills: pick([(0x2A, "L3D_CACHE_REFILL"), (0x17, "L2D_CACHE_REFILL")], generic: "LLC-load-misses"))
    }

    // MARK: Formatting

    /// "1.00x", "3.90x", "0.052x".
    public static func formatFactor(_ f: Double) -> String {
        guard f.isFinite else { return "\(f)x" }
        return String(format: f < 0.1 ? "%.3gx" : "%.2fx", f)
    }
}
