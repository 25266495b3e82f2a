import CPerfEvent

/// `perf_event_attr.type`: which PMU an event belongs to. The fixed values are the kernel's
/// `enum perf_type_id`; PMUs registered at run time (a core PMU on ARM, an uncore PMU) have a
/// dynamic number, read from `/sys/bus/event_source/devices/<pmu>/type`.
public struct PerfEventType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// PERF_TYPE_HARDWARE: generic hardware events (cycles, instructions, ...).
    public static let hardware = PerfEventType(rawValue: 0)
    /// PERF_TYPE_SOFTWARE: kernel software events (task-clock, page-faults, ...).
    public static let software = PerfEventType(rawValue: 1)
    /// PERF_TYPE_TRACEPOINT.
    public static let tracepoint = PerfEventType(rawValue: 2)
    /// PERF_TYPE_HW_CACHE: generic cache events (`config` = id | op << 8 | result << 16).
    public static let hardwareCache = PerfEventType(rawValue: 3)
    /// PERF_TYPE_RAW: a raw event code for the CPU's core PMU.
    public static let raw = PerfEventType(rawValue: 4)
    /// PERF_TYPE_BREAKPOINT.
    public static let breakpoint = PerfEventType(rawValue: 5)

    /// Whether events of this type are counted by hardware (a PMU) rather than by the kernel.
    public var isHardware: Bool { self != .software && self != .tracepoint && self != .breakpoint }

    public var description: String {
        switch self {
        case .hardware: "hardware"
        case .software: "software"
        case .tracepoint: "tracepoint"
        case .hardwareCache: "hw-cache"
        case .raw: "raw"
        case .breakpoint: "breakpoint"
        default: "pmu type \(rawValue)"
        }
    }
}

/// `perf_event_attr.read_format`: what read(2) on a counter returns.
public struct ReadFormat: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// PERF_FORMAT_TOTAL_TIME_ENABLED: the time (ns) the event was enabled.
    public static let totalTimeEnabled = ReadFormat(rawValue: UInt64(PERF_FORMAT_TOTAL_TIME_ENABLED.rawValue))
    /// PERF_FORMAT_TOTAL_TIME_RUNNING: the time (ns) the event was on a counter.
    public static let totalTimeRunning = ReadFormat(rawValue: UInt64(PERF_FORMAT_TOTAL_TIME_RUNNING.rawValue))
    /// PERF_FORMAT_ID: the kernel's id of each value.
    public static let id = ReadFormat(rawValue: UInt64(PERF_FORMAT_ID.rawValue))
    /// PERF_FORMAT_GROUP: one read of the leader returns every member of the group.
    public static let group = ReadFormat(rawValue: UInt64(PERF_FORMAT_GROUP.rawValue))

    /// What socprof always asks for: the whole group with ids and both times.
    public static let socprof: ReadFormat = [.group, .id, .totalTimeEnabled, .totalTimeRunning]
}

/// The privilege levels an event counts in (perf's `:u`, `:k`, `:h` modifiers).
public struct PrivilegeLevels: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// User space (EL0); `:u`. Cleared means `exclude_user`.
    public static let user = PrivilegeLevels(rawValue: 1)
    /// The kernel (EL1); `:k`. Cleared means `exclude_kernel`.
    public static let kernel = PrivilegeLevels(rawValue: 2)
    /// The hypervisor (EL2); `:h`. Cleared means `exclude_hv`.
    public static let hypervisor = PrivilegeLevels(rawValue: 4)
    /// All three.
    public static let all: PrivilegeLevels = [.user, .kernel, .hypervisor]
}

/// Where a counter counts: a thread or process (on any CPU), or everything on one CPU.
public enum CountingTarget: Hashable, Sendable, CustomStringConvertible {
    /// One thread (or, with `inherit`, a process and the children it creates afterwards).
    case thread(pid_t)
    /// The calling thread.
    case currentThread
    /// Every task on one CPU (needs perf_event_paranoid <= 0 or CAP_PERFMON).
    case cpu(Int)

    var pid: pid_t {
        switch self {
        case .thread(let p): p
        case .currentThread: 0
        case .cpu: -1
        }
    }

    var cpu: Int32 {
        if case .cpu(let c) = self { return Int32(truncatingIfNeeded: c) }
        return -1
    }

    public var description: String {
        switch self {
        case .thread(let p): "pid \(p)"
        case .currentThread: "this thread"
        case .cpu(let c): "cpu\(c)"
        }
    }
}
