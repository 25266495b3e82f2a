/// An event matched against this machine: the numbers that go into `perf_event_attr`.
public struct ResolvedEvent: Hashable, Sendable, CustomStringConvertible {
    /// The name shown in reports: what the user typed, or `pmu/name/` when one typed event was
    /// expanded onto each core PMU of a heterogeneous machine.
    public var name: String
    /// The PMU the event is opened on, when it is a specific one ("armv8_cortex_a72", "software",
    /// "rockchip_ddr"); nil for a generic hardware event on a machine with one core PMU.
    public var pmuName: String?
    /// `perf_event_attr.type`.
    public var type: PerfEventType
    /// `perf_event_attr.config`.
    public var config: UInt64
    /// `perf_event_attr.config1`.
    public var config1: UInt64 = 0
    /// `perf_event_attr.config2`.
    public var config2: UInt64 = 0
    /// Multiplier from the count to `unit` (a sysfs `.scale` file); 1 when there is none.
    public var scale: Double = 1
    /// The unit of `count * scale` (sysfs `.unit`, or "ns" for the clock events); nil for a count.
    public var unit: String?
    /// Privilege levels from the user's modifiers; nil: socprof's default for the paranoid level.
    public var levels: PrivilegeLevels?
    /// Pin to a counter (`:D`).
    public var pinned: Bool = false
    /// The CPUs the PMU counts on (core PMU `cpus`), or must be opened on (uncore `cpumask`).
    public var cpus: [Int]?
    /// Whether the PMU counts only system-wide (per CPU), never a single task.
    public var systemWideOnly: Bool = false
    /// Whether it counts only while the thread runs on one cluster's CPUs (a core PMU of a
    /// heterogeneous machine), so that running < enabled is time spent elsewhere.
    public var clusterBound: Bool = false
    /// The canonical generic name when it came from one ("cycles", "instructions").
    public var generic: String?

    public init(name: String, pmuName: String?, type: PerfEventType, config: UInt64) {
        self.name = name
        self.pmuName = pmuName
        self.type = type
        self.config = config
    }

    /// The key that decides which events may share a group: one PMU per group.
    var groupKey: String {
        if type == .software { return "software" }
        if let pmuName { return pmuName }
        return "core"
    }

    public var description: String {
        var s = "\(name): type=\(type.rawValue) config=0x\(String(config, radix: 16))"
        if config1 != 0 { s += " config1=0x\(String(config1, radix: 16))" }
        if config2 != 0 { s += " config2=0x\(String(config2, radix: 16))" }
        return s
    }
}
