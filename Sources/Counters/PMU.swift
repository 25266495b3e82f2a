import LinuxSystem
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

    /// The highest common architectural event code that every kernel which filters `events/` by
    /// PMCEID (Linux 4.6 and later) gives a name: 0x00 (SW_INCR) to 0x30 (L2I_TLB). Later common
    /// events (0x31 and up, ARMv8.1+) are named only by newer kernels, so their absence says nothing.
    public static let namedCommonEventLimit: UInt64 = 0x30

    /// For an ARMv8/ARMv9 core PMU, the common architectural events its sysfs `events/`
    /// directory lists. The kernel lists a common event there only when the core's PMCEID0/1
    /// registers report it implemented, yet it accepts the raw code of one that is not, and that
    /// counter then reads 0 (QEMU's PMU implements only CPU_CYCLES, and INST_RETIRED with
    /// -icount). nil where this cannot be told: ARMv7 and x86 PMUs, or no `events/` entries.
    public var listedCommonEvents: Set<UInt64>? {
        let n = name.lowercased()
        guard n.hasPrefix("armv8_") || n.hasPrefix("armv9_") else { return nil }
        let codes = Set(aliases.values.compactMap { Self.eventField($0.terms) })
        return codes.isEmpty ? nil : codes
    }

    /// Whether this PMU implements common event `code` (the `event` field): false only when
    /// `listedCommonEvents` is known and `code` (at most `namedCommonEventLimit`) is not in it;
    /// nil when that cannot be told.
    public func implementsCommonEvent(_ code: UInt64) -> Bool? {
        guard code <= Self.namedCommonEventLimit, let listed = listedCommonEvents else { return nil }
        return listed.contains(code)
    }

    /// Why the kernel would accept common event `code` on this PMU, yet count nothing.
    public func notImplementedReason(_ code: UInt64, eventName: String? = nil) -> String {
        let hex = String(code, radix: 16)
        let code = "0x\(hex.count < 2 ? "0" + hex : hex)"
        let what = eventName.map { "\($0) (\(code))" } ?? "event \(code)"
        return "\(name) does not implement \(what): it is not among the common events in its sysfs events/ directory, which the kernel fills from the core's PMCEID registers (opened anyway, it would count 0)"
    }

    /// The value of the `event=` term in an alias's terms (`event=0x0017`, `event=0x11,...`).
    static func eventField(_ terms: String) -> UInt64? {
        for term in terms.split(separator: ",") {
            let kv = term.split(separator: "=", maxSplits: 1).map { String($0.trimmed()) }
            guard kv.count == 2, kv[0] == "event" else { continue }
            let v = kv[1].lowercased()
            return v.hasPrefix("0x") ? UInt64(v.dropFirst(2), radix: 16) : UInt64(v)
        }
        return nil
    }

    public var description: String { "\(name) (type \(type.rawValue))" }
}
