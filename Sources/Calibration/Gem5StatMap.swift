/// Which gem5 stats give socprof's metrics, per naming era and CPU model: the data file
/// `events/gem5-stats.json` (schema `socprof.gem5-stat-map`, version 1), decoded.
public struct Gem5StatMap: Codable, Sendable {
    /// A stat that may give a metric, in the eras and CPU models it means that metric.
    public struct Candidate: Codable, Sendable, Hashable {
        /// The name relative to the CPU's, cache's or memory controller's path.
        public let stat: String
        public let eras: [Gem5Era]
        /// CPU models it applies to; nil or `any` for all.
        public let models: [String]?

        public func applies(era: Gem5Era, model: Gem5CPUModel) -> Bool {
            eras.contains(era) && (models.map { $0.contains("any") || $0.contains(model.rawValue) } ?? true)
        }
    }

    public struct Metric: Codable, Sendable {
        /// The ARM PMU event it stands for, in words ("0x11 CPU_CYCLES").
        public let pmu_event: String?
        public let note: String?
        public let candidates: [Candidate]
    }

    public struct L2: Codable, Sendable {
        /// Names a level-2 cache object has ("l2cache", "l2").
        public let names: [String]
        public let l2_accesses: Metric
        public let l2_refills: Metric
    }

    public struct DRAM: Codable, Sendable {
        /// Memory controller object names, with or without an index ("mem_ctrls", "mem_ctrls0").
        public let controllers: [String]
        public let dram_read_bytes: Metric
        public let dram_write_bytes: Metric
    }

    public struct Time: Codable, Sendable {
        public let ticks: [String: String]
        public let frequency: [String: String]
    }

    public let schema: String
    public let schema_version: Int
    /// Metrics of one CPU: cycles, instructions, l1d_accesses, l1d_refills.
    public let per_cpu: [String: Metric]
    public let l2: L2
    public let dram: DRAM
    public let time: Time

    /// The per-CPU metrics in report order.
    public static let perCPUOrder = ["cycles", "instructions", "l1d_accesses", "l1d_refills"]

    /// Checks what decoding cannot: the schema, and a candidate for every metric socprof reports.
    public func validate(file: String) throws(Gem5StatsError) {
        guard schema == "socprof.gem5-stat-map" else {
            throw Gem5StatsError(file: file, line: nil, problem: "schema is '\(schema)', not 'socprof.gem5-stat-map'")
        }
        guard schema_version == 1 else {
            throw Gem5StatsError(file: file, line: nil, problem: "schema_version \(schema_version) is not supported (this socprof reads 1)")
        }
        for name in Self.perCPUOrder where per_cpu[name]?.candidates.isEmpty ?? true {
            throw Gem5StatsError(file: file, line: nil, problem: "per_cpu.\(name) has no candidate stat")
        }
        for era in Gem5Era.allCases where time.ticks[era.rawValue] == nil || time.frequency[era.rawValue] == nil {
            throw Gem5StatsError(file: file, line: nil, problem: "time has no tick or frequency stat for era \(era.rawValue)")
        }
    }
}

/// gem5's stat naming eras (facts file §2.3).
public enum Gem5Era: String, Codable, Sendable, CaseIterable {
    /// snake_case, up to v20.x: `sim_seconds`, `committedInsts`, `overall_misses`.
    case v20
    /// camelCase with `(Unit)`, v21.0 to v22.x: `simSeconds`, `overallMisses`.
    case v21
    /// v23.0 on: `commitStats0.numInsts` in every CPU model.
    case v23

    /// The era a dump's names belong to.
    public static func of(_ dump: Gem5StatsFile.Dump) -> Gem5Era {
        if dump.values.keys.contains(where: { $0.contains(".commitStats0.") }) { return .v23 }
        if dump["simTicks"] != nil || dump["simSeconds"] != nil { return .v21 }
        return .v20
    }

    /// In words, for reports.
    public var label: String {
        switch self {
        case .v20: "gem5 v20 or older (snake_case)"
        case .v21: "gem5 v21-v22 (camelCase)"
        case .v23: "gem5 v23 or newer (commitStats0)"
        }
    }
}

/// gem5's CPU models, as far as the stat names tell them apart.
public enum Gem5CPUModel: String, Codable, Sendable {
    /// O3CPU (out of order): has `iew.`, `rob.` or `commit.` stats.
    case o3
    /// MinorCPU (in order, pipelined): has `fetch2.` stats.
    case minor
    /// AtomicSimpleCPU or TimingSimpleCPU: neither.
    case simple
}
