/// The event names every perf user types without a PMU: the kernel's generic hardware, software
/// and hardware-cache events (`enum perf_hw_id`, `perf_sw_ids`, `perf_hw_cache_id`).
public struct GenericEvent: Hashable, Sendable {
    /// The canonical name ("cycles", "task-clock", "L1-dcache-load-misses").
    public let name: String
    /// PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE or PERF_TYPE_HW_CACHE.
    public let type: PerfEventType
    /// The kernel's config value for that type.
    public let config: UInt64

    /// Whether the kernel counts this event in nanoseconds (task-clock, cpu-clock).
    public var isClock: Bool { type == .software && (config == 0 || config == 1) }

    /// Looks a name up, ignoring case, accepting perf's aliases ("cpu-cycles", "cs", "faults").
    public static func named(_ name: String) -> GenericEvent? {
        byName[name.lowercased()]
    }

    /// Every canonical generic name, for help text and suggestions.
    public static var allNames: [String] { canonical.map(\.name) }

    static let hardware: [(names: [String], config: UInt64)] = [
        (["cycles", "cpu-cycles"], 0),
        (["instructions"], 1),
        (["cache-references"], 2),
        (["cache-misses"], 3),
        (["branches", "branch-instructions"], 4),
        (["branch-misses"], 5),
        (["bus-cycles"], 6),
        (["stalled-cycles-frontend", "idle-cycles-frontend"], 7),
        (["stalled-cycles-backend", "idle-cycles-backend"], 8),
        (["ref-cycles"], 9),
    ]

    static let software: [(names: [String], config: UInt64)] = [
        (["cpu-clock"], 0),
        (["task-clock"], 1),
        (["page-faults", "faults"], 2),
        (["context-switches", "cs"], 3),
        (["cpu-migrations", "migrations"], 4),
        (["minor-faults"], 5),
        (["major-faults"], 6),
        (["alignment-faults"], 7),
        (["emulation-faults"], 8),
        (["dummy"], 9),
        (["cgroup-switches"], 11),
    ]

    static let cacheIDs: [(String, UInt64)] = [
        ("L1-dcache", 0), ("L1-icache", 1), ("LLC", 2), ("dTLB", 3), ("iTLB", 4), ("branch", 5), ("node", 6),
    ]
    static let cacheOps: [(access: String, miss: String, op: UInt64)] = [
        ("loads", "load-misses", 0), ("stores", "store-misses", 1), ("prefetches", "prefetch-misses", 2),
    ]

    static let canonical: [GenericEvent] = {
        var all: [GenericEvent] = []
        for h in hardware { all.append(GenericEvent(name: h.names[0], type: .hardware, config: h.config)) }
        for s in software { all.append(GenericEvent(name: s.names[0], type: .software, config: s.config)) }
        for (cache, id) in cacheIDs {
            for op in cacheOps {
                all.append(GenericEvent(name: "\(cache)-\(op.access)", type: .hardwareCache, config: id | op.op << 8))
                all.append(GenericEvent(name: "\(cache)-\(op.miss)", type: .hardwareCache, config: id | op.op << 8 | 1 << 16))
            }
        }
        return all
    }()

    static let byName: [String: GenericEvent] = {
        var map: [String: GenericEvent] = [:]
        for e in canonical { map[e.name.lowercased()] = e }
        for h in hardware { for n in h.names { map[n] = GenericEvent(name: h.names[0], type: .hardware, config: h.config) } }
        for s in software { for n in s.names { map[n] = GenericEvent(name: s.names[0], type: .software, config: s.config) } }
        return map
    }()

    /// The event code an ARM core PMU uses for a generic hardware event, as the kernel's
    /// `armv8_pmuv3_perf_map` (drivers/perf/arm_pmuv3.c) and `armv7_a*_perf_map`
    /// (arch/arm/kernel/perf_event_v7.c) map them; nil where the kernel maps none.
    /// On ARMv7, cycles is 0xFF, the kernel's code for the dedicated cycle counter (PMCCNTR).
    public func armEventCode(armv7: Bool) -> UInt64? {
        guard type == .hardware else { return nil }
        switch config {
        case 0: return armv7 ? 0xFF : 0x11   // CPU_CYCLES
        case 1: return 0x08                  // INST_RETIRED
        case 2: return 0x04                  // L1D_CACHE
        case 3: return 0x03                  // L1D_CACHE_REFILL
        case 4: return 0x0C                  // PC_WRITE_RETIRED
        case 5: return 0x10                  // BR_MIS_PRED
        case 6: return 0x1D                  // BUS_CYCLES
        case 7: return armv7 ? nil : 0x23    // STALL_FRONTEND (PMUv3 only)
        case 8: return armv7 ? nil : 0x24    // STALL_BACKEND (PMUv3 only)
        default: return nil                  // ref-cycles: no ARM equivalent
        }
    }

    /// The event code an ARM core PMU uses for a generic cache event, as the kernel's
    /// `armv8_pmuv3_perf_cache_map` and `armv7_a15_perf_cache_map` map the read events; nil for
    /// the others (stores, prefetches, LLC, node), which have no common architectural event.
    public func armCacheEventCode(armv7: Bool) -> UInt64? {
        guard type == .hardwareCache else { return nil }
        let id = config & 0xFF, op = (config >> 8) & 0xFF, miss = (config >> 16) & 0xFF == 1
        guard op == 0 else { return nil } // reads only
        switch id {
        case 0: return miss ? 0x03 : 0x04                  // L1D_CACHE_REFILL / L1D_CACHE
        case 1: return miss ? 0x01 : 0x14                  // L1I_CACHE_REFILL / L1I_CACHE
        case 3: return miss ? 0x05 : (armv7 ? nil : 0x25)  // L1D_TLB_REFILL / L1D_TLB
        case 4: return miss ? 0x02 : (armv7 ? nil : 0x26)  // L1I_TLB_REFILL / L1I_TLB
        case 5: return miss ? 0x10 : 0x12                  // BR_MIS_PRED / BR_PRED
        default: return nil
        }
    }
}
