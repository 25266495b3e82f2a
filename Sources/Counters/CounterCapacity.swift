import Synchronization
import SystemPackage

/// How many events an ARM core PMU counts at once: its programmable counters (PMEVCNTR<n>) and
/// its dedicated cycle counter (PMCCNTR). Nothing in sysfs says so; the kernel's group validation
/// does: a group that needs more counters than the PMU has fails to open with EINVAL.
public struct CounterCapacity: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Programmable event counters.
    public let general: Int
    /// Whether there is a cycle counter besides them (every ARMv7 and ARMv8 PMU has one).
    public let cycleCounter: Bool

    public init(general: Int, cycleCounter: Bool) {
        self.general = general
        self.cycleCounter = cycleCounter
    }

    /// Events that can be counted at once.
    public var total: Int { general + (cycleCounter ? 1 : 0) }

    /// "6 + 1 counters" (programmable + cycle counter), as the kernel's "7 counters available".
    public var description: String { cycleCounter ? "\(general) + 1 counters" : "\(general) counters" }

    /// Finds the capacity of ARM core PMU `pmu` by opening disabled groups on the calling thread
    /// (never enabled, closed at once): first of an event that only a programmable counter can
    /// take (INST_RETIRED, 0x08; the kernel accepts the code whether or not the core implements
    /// it), growing until the kernel refuses the group, then those plus CPU_CYCLES, which goes to
    /// the cycle counter. nil for other PMUs, or when not even one event may be opened
    /// (permissions, no PMU); `limit` bounds the search.
    public static func probe(_ pmu: PMU, permissions: PerfPermissions, system: any PerfEventSystem = KernelPerfEventSystem(),
                             limit: Int = 32) -> CounterCapacity? {
        guard pmu.isARMCore else { return nil }
        let options = CounterOptions(target: .currentThread, permissions: permissions)
        let cycles: UInt64 = pmu.isARMv7 ? 0xFF : 0x11
        func openGroup(_ codes: [UInt64]) -> Int {
            var fds: [Int32] = []
            defer { for fd in fds { system.close(fd) } }
            for code in codes {
                let e = ResolvedEvent(name: "probe", pmuName: pmu.name, type: pmu.type, config: code)
                var attr = CounterSet.attribute(for: e, leader: fds.isEmpty, options: options)
                // arm_pmu's validate_group skips a disabled leader unless it has enable_on_exec:
                // without it a group of n+1 events passes validation and then never runs. No exec
                // follows, so the leader is never enabled.
                if fds.isEmpty { attr.enable_on_exec = 1 }
                guard case .success(let fd) = system.open(&attr, pid: 0, cpu: -1, groupFD: fds.first ?? -1) else { break }
                fds.append(fd)
            }
            return fds.count
        }
        let general = openGroup([UInt64](repeating: 0x08, count: limit))
        guard general > 0 else { return nil }
        let withCycles = openGroup([UInt64](repeating: 0x08, count: general) + [cycles])
        return CounterCapacity(general: general, cycleCounter: withCycles == general + 1)
    }

    /// Whether events with these codes fit on the counters at once: CPU_CYCLES (0x11; 0xFF on
    /// ARMv7) takes the cycle counter while it is free, everything else a programmable counter.
    public func fits(_ codes: [UInt64], armv7: Bool) -> Bool {
        let cyclesCode: UInt64 = armv7 ? 0xFF : 0x11
        let cycles = codes.filter { $0 == cyclesCode }.count
        let onGeneral = codes.count - cycles + max(0, cycles - (cycleCounter ? 1 : 0))
        return onGeneral <= general
    }

    private static let probed = Mutex<[String: CounterCapacity?]>([:])

    /// `probe` with the kernel, once per PMU and process.
    public static func known(for pmu: PMU, permissions: PerfPermissions) -> CounterCapacity? {
        let key = "\(pmu.name)/\(pmu.type.rawValue)/\(permissions.privileged)"
        if let cached = probed.withLock({ $0[key] }) { return cached }
        let c = probe(pmu, permissions: permissions)
        probed.withLock { $0[key] = c }
        return c
    }
}
