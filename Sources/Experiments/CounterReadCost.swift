import CBench
import Counters
import Foundation
import LinuxSystem

/// `socprof bench counters`'s measurement: what one read of a group of 4 counters costs, by
/// read(2) (from Swift, raw and building Readings, and from a plain C loop) and from the mmap'ed
/// page, for software events and, where the machine has a PMU, hardware events; with the cost of
/// clock_gettime (vDSO) and getppid (a minimal system call) measured in the same run. Each figure
/// is the median over batches of the time per read. The JSON form is `["figures": figures]`.
public struct CounterReadCost: Sendable {
    /// One figure: a way of reading and its cost, or why it is unavailable.
    public struct Figure: Codable, Sendable {
        public let name: String
        /// ns per read; nil when unavailable.
        public let ns_per_read: Double?
        public let note: String
    }

    public let figures: [Figure]
    /// Reads per timed batch, and timed batches.
    public let iterations: Int
    public let batches: Int

    /// The figure whose name starts with `prefix` and ends with `suffix`, in ns.
    public func ns(_ suffix: String, _ prefix: String = "4 software") -> Double? {
        figures.first { $0.name.hasPrefix(prefix) && $0.name.hasSuffix(suffix) }?.ns_per_read
    }

    /// The software group's raw Swift read over the C loop's and over a getppid() call, and what
    /// building Readings adds, ns; nil when a figure is missing.
    public var softwareSummary: (overC: Double, overSyscall: Double, readingsExtraNs: Double)? {
        guard let raw = ns("read() raw"), let c = ns("read() from C"), let syscall = ns("getppid()", "reference") else { return nil }
        return (raw / c, raw / syscall, (ns("read() + Readings") ?? raw) - raw)
    }

    /// The hardware group's mmap'ed page read over its read(2); nil when either is missing.
    public var hardwareMmapOverRead: Double? {
        guard let mmap = ns("mmap page", "4 hardware"), let raw = ns("read() raw", "4 hardware") else { return nil }
        return mmap / raw
    }

    /// Measures on the calling thread, with the PMUs and permissions under `root`.
    public static func measure(root: SystemRoot, iterations: Int, batches: Int) throws -> CounterReadCost {
        let registry = PMURegistry(root: root)
        let resolver = EventResolver(registry: registry)
        let permissions = PerfPermissions.current(root: root)
        var figures: [Figure] = []
        /// Median over batches of the time per call of `body`, in ns.
        func time(_ body: () -> Void) -> Double {
            for _ in 0..<(iterations / 10) { body() } // warm up
            var per: [Double] = []
            for _ in 0..<batches {
                let t0 = MonotonicClock.nanoseconds()
                for _ in 0..<iterations { body() }
                per.append(Double(MonotonicClock.nanoseconds() - t0) / Double(iterations))
            }
            return Statistics.median(per) ?? 0
        }

        var ts = timespec()
        figures.append(Figure(name: "reference: clock_gettime(CLOCK_MONOTONIC)", ns_per_read: time { clock_gettime(CLOCK_MONOTONIC, &ts) }, note: "vDSO, no system call"))
        figures.append(Figure(name: "reference: getppid()", ns_per_read: time { _ = getppid() }, note: "a minimal system call"))

        func measure(_ kind: String, _ names: [String], leftOut: [String] = []) throws {
            let label = "\(names.count) \(kind) events (\(names.joined(separator: ", ")))"
            let events = try resolver.resolve(try EventSpec.parseList(names.joined(separator: ",")), corePMU: registry.isHeterogeneous ? Affinity.currentCPU().flatMap(registry.corePMU(forCPU:)) : nil)
            let set = CounterSet(events: events, options: CounterOptions(target: .currentThread, permissions: permissions, userSpaceReads: true),
                                 registry: registry)
            defer { set.close() }
            // Events this PMU does not have (QEMU's has cycles only): time the ones it has.
            let missing = set.failures.filter { $0.value.kind == .notSupported }.keys.map { names[$0] }
            if !missing.isEmpty, missing.count < names.count, missing.count == set.failures.count, events.count == names.count {
                set.close()
                return try measure(kind, names.filter { !missing.contains($0) }, leftOut: leftOut + missing)
            }
            let absent = leftOut.isEmpty ? "" : "; not implemented by this PMU, left out: \(leftOut.joined(separator: ", "))"
            guard set.failures.isEmpty, set.groups.count == 1, let group = set.groups.first else {
                let why = set.failures.values.first?.explanation ?? "the events did not fit in one group"
                figures.append(Figure(name: "\(label): read()", ns_per_read: nil, note: "unavailable: \(why)"))
                figures.append(Figure(name: "\(label): mmap page", ns_per_read: nil, note: "unavailable: \(why)"))
                return
            }
            try group.enable()
            var probe: [UInt64] = []
            do { _ = try group.readRaw(into: &probe) } catch {
                figures.append(Figure(name: "\(label): read()", ns_per_read: nil, note: "unavailable: \(error.explanation)"))
                return
            }
            var buffer = [UInt64](repeating: 0, count: 3 + 2 * group.fds.count)
            let bytes = buffer.count * MemoryLayout<UInt64>.size
            var perBatch: [Double] = []
            for _ in 0..<batches {
                let ns = buffer.withUnsafeMutableBytes { socprof_reference_read_loop(group.leader, $0.baseAddress, bytes, Int32(iterations)) }
                if ns > 0 { perBatch.append(Double(ns) / Double(iterations)) } // 0: a read failed
            }
            figures.append(Figure(name: "\(label): read() from C", ns_per_read: perBatch.count == batches ? Statistics.median(perBatch) : nil,
                                  note: (perBatch.count == batches ? "reference: the same read(2) in a plain C loop" : "unavailable: a read(2) failed") + absent))
            var values: [UInt64] = []
            figures.append(Figure(name: "\(label): read() raw", ns_per_read: time { _ = try? group.readRaw(into: &values) }, note: "one read(2) of the group leader into a reused buffer" + absent))
            figures.append(Figure(name: "\(label): read() + Readings", ns_per_read: time { _ = try? group.read() }, note: "the same, building a Reading per event"))
            if group.mapPages(), group.readRawUserSpace(into: &values) != nil {
                figures.append(Figure(name: "\(label): mmap page", ns_per_read: time { _ = group.readRawUserSpace(into: &values) },
                                      note: "rdpmc/PMEVCNTR into a reused buffer, no system call (as profile reads)" + absent))
            } else {
                // arm64 publishes a counter index in the page only when user access is on; elsewhere
                // index 0 means the events are not on counters at this moment.
                let why = group.mapPages() ?
                    (UserSpaceAccess.allowed(root: root) ? "the page gives no counter index (index 0): the events are not on hardware counters right now"
                                                         : "the page gives no counter index (index 0): \(UserSpaceAccess.describe(root: root))") :
                    "the kernel does not allow user-space reads of these events (no cap_user_rdpmc; software events never have it; \(UserSpaceAccess.describe(root: root)))"
                figures.append(Figure(name: "\(label): mmap page", ns_per_read: nil, note: "unavailable: \(why)"))
            }
            try group.disable()
        }
        try measure("software", ["task-clock", "context-switches", "page-faults", "cpu-migrations"])
        try measure("hardware", ["cycles", "instructions", "branches", "branch-misses"])
        return CounterReadCost(figures: figures, iterations: iterations, batches: batches)
    }
}
