/// A PMU the kernel registered under `/sys/bus/event_source/devices/<name>`.
public struct PMU: Hashable, Sendable, CustomStringConvertible {
    /// An entry of the PMU's `events/` directory.
    public struct Alias: Hashable, Sendable {
        /// The alias name (the file name, e.g. `l2d_cache_refill`).
        public let name: String
        /// Its terms (the file's text, e.g. `event=0x0017`).
        public let terms: String
        /// The `<alias>.scale` multiplier that turns a count into `unit`, if any.
        public let scale: Double?
        /// The `<alias>.unit` (e.g. `MB`, `Joules`), if any.
        public let unit: String?
    }

    /// The directory name, used in `pmu/.../` event syntax.
    public let name: String
    /// The number to put in `perf_event_attr.type`.
    public let type: PerfEventType
    /// The CPUs a core PMU counts on (its `cpus` file); nil when there is none.
    public let cpus: [Int]?
    /// The CPUs an uncore PMU must be opened on (its `cpumask` file); nil when there is none.
    public let cpumask: [Int]?
    /// Format fields by name (`event`, `umask`, `long`, ...).
    public let formats: [String: PMUFormatField]
    /// Aliases by lower-cased name.
    public let aliases: [String: Alias]

    public init(name: String, type: PerfEventType, cpus: [Int]?, cpumask: [Int]?,
                formats: [String: PMUFormatField], aliases: [String: Alias]) {
        self.name = name
        self.type = type
        self.cpus = cpus
        self.cpumask = cpumask
        self.formats = formats
        self.aliases = aliases
    }

    /// Whether this is a CPU core PMU: ARM's `armv7_*`/`armv8_*`/`armv9_*` (and old kernels'
    /// `ARMv7_Cortex_*`), x86's `cpu`, `cpu_core`, `cpu_atom`.
    public var isCore: Bool {
        let n = name.lowercased()
        return n.hasPrefix("armv7_") || n.hasPrefix("armv8_") || n.hasPrefix("armv9_") ||
            n == "cpu" || n == "cpu_core" || n == "cpu_atom"
    }

    /// Whether this is an ARMv7 (32-bit) core PMU, whose cycle counter is event 0xFF.
    public var isARMv7: Bool { name.lowercased().hasPrefix("armv7_") }

    /// Whether this is an ARM core PMU.
    public var isARMCore: Bool { isCore && name.lowercased().hasPrefix("armv") }

    /// Whether events on this PMU can only be counted per CPU (system-wide), not per task:
    /// uncore PMUs such as `rockchip_ddr`, DSU and CCI expose a `cpumask`.
    public var isUncore: Bool { cpumask != nil && !isCore }

    /// Looks up an alias by name, ignoring case.
    public func alias(_ name: String) -> Alias? { aliases[name.lowercased()] }

    public var description: String { "\(name) (type \(type.rawValue))" }
}
