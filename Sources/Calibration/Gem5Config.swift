/// gem5 command-line options for a board's clusters, from the values of its board file.
///
/// A pure builder: plain values in (each with the source the board file gives for it), option
/// strings and notes out. No file is read here; the CLI (`socprof gem5 config`) converts a
/// `Board` into `Gem5BoardInput`. The option names and class names are those of gem5 v24.0.0.1
/// (commit b1a44b89c7bae73fae2dc547bc1f871452075b85), unchanged on develop at c91af552d469
/// (docs/gem5-config.md lists each file they were read from).

/// A value from a board file with where it came from; `value` is nil when the board file gives
/// none (null, or the field is absent). Such a value is unknown: the builder never fills it in.
public struct Gem5BoardValue<T: Sendable & Equatable>: Sendable, Equatable {
    public var value: T?
    /// The board file's source for the value, or where the value would have been when absent.
    public var source: String

    public init(_ value: T?, source: String) {
        self.value = value
        self.source = source
    }
}

/// One cluster of a board, as the builder needs it.
public struct Gem5ClusterInput: Sendable, Equatable {
    /// The cluster's name in the board file ("big", "little").
    public var name: String
    /// The core, as the board file names it ("cortex-a15").
    public var core: Gem5BoardValue<String>
    /// How many CPUs the cluster has.
    public var cpuCount: Gem5BoardValue<Int>
    /// The highest frequency, kHz.
    public var maxFreqKHz: Gem5BoardValue<Int64>
    /// L1 data cache per core, KiB.
    public var l1dKiB: Gem5BoardValue<Int>
    /// L1 instruction cache per core, KiB.
    public var l1iKiB: Gem5BoardValue<Int>
    /// L2 cache, KiB: the cluster's when `l2Shared` is true, each core's when false.
    public var l2KiB: Gem5BoardValue<Int>
    /// Whether the cluster's cores share one L2.
    public var l2Shared: Gem5BoardValue<Bool>
    /// Cache line, bytes.
    public var lineBytes: Gem5BoardValue<Int>

    public init(name: String, core: Gem5BoardValue<String>, cpuCount: Gem5BoardValue<Int>, maxFreqKHz: Gem5BoardValue<Int64>,
                l1dKiB: Gem5BoardValue<Int>, l1iKiB: Gem5BoardValue<Int>, l2KiB: Gem5BoardValue<Int>,
                l2Shared: Gem5BoardValue<Bool>, lineBytes: Gem5BoardValue<Int>) {
        self.name = name
        self.core = core
        self.cpuCount = cpuCount
        self.maxFreqKHz = maxFreqKHz
        self.l1dKiB = l1dKiB
        self.l1iKiB = l1iKiB
        self.l2KiB = l2KiB
        self.l2Shared = l2Shared
        self.lineBytes = lineBytes
    }
}

/// A board, as the builder needs it.
public struct Gem5BoardInput: Sendable, Equatable {
    /// The board's name ("odroid-xu3").
    public var name: String
    public var clusters: [Gem5ClusterInput]
    /// The L3 (shared by all clusters), KiB.
    public var l3KiB: Gem5BoardValue<Int>
    /// The DRAM standard as the board file names it ("LPDDR3", "LPDDR4X").
    public var dramType: Gem5BoardValue<String>
    /// DRAM data rate, MT/s.
    public var dramDataRateMTs: Gem5BoardValue<Double>
    /// DRAM channels.
    public var dramChannels: Gem5BoardValue<Int>
    /// Width of all channels together, bits.
    public var dramBusWidthBits: Gem5BoardValue<Int>

    public init(name: String, clusters: [Gem5ClusterInput], l3KiB: Gem5BoardValue<Int>, dramType: Gem5BoardValue<String>,
                dramDataRateMTs: Gem5BoardValue<Double>, dramChannels: Gem5BoardValue<Int>, dramBusWidthBits: Gem5BoardValue<Int>) {
        self.name = name
        self.clusters = clusters
        self.l3KiB = l3KiB
        self.dramType = dramType
        self.dramDataRateMTs = dramDataRateMTs
        self.dramChannels = dramChannels
        self.dramBusWidthBits = dramBusWidthBits
    }
}

/// A board-file value as the output shows it.
public enum Gem5Scalar: Sendable, Equatable {
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case string(String)
}

/// One board-file value behind a cluster's options.
public struct Gem5ConfigValue: Sendable, Equatable {
    /// The board file's name for it: "cpus" (the count), "core", "max_freq_khz", "l1d_kib",
    /// "l1i_kib", "l2_kib", "l2_shared", "line_bytes", "l3_kib", "dram_type",
    /// "dram_data_rate_mts", "dram_channels", "dram_bus_width_bits".
    public let key: String
    /// The value in the board file's unit; nil when unknown.
    public let value: Gem5Scalar?
    /// Where it came from (the board file's source string).
    public let source: String
    /// The gem5 option it gives ("--l1d_size=32KiB"); nil when it gives none.
    public let option: String?
    /// The gem5 option's name (argparse `dest`, as in Python: "l1d_size"), when it has one.
    public let gem5Name: String?
    /// The value given to that gem5 option ("32KiB", "ex5_big"); nil when no option is given.
    public let gem5Value: String?
}

/// The options for one cluster, simulated alone with se.py (or fs.py: the same Options.py).
public struct Gem5ClusterConfig: Sendable, Equatable {
    public let name: String
    /// Options of configs/common/Options.py, in the order they are built.
    public let options: [String]
    /// Every board-file value considered, known or not.
    public let values: [Gem5ConfigValue]
    /// Unknown values, mismatches, and what gem5's options cannot express, for this cluster.
    public let notes: [String]
}

/// The options of configs/example/arm/fs_bigLITTLE.py for a two-cluster board.
public struct Gem5BigLittleConfig: Sendable, Equatable {
    /// The clusters taken as big and as LITTLE.
    public let big: String
    public let little: String
    public let options: [String]
    public let notes: [String]
}

/// What the builder gives for a board.
public struct Gem5Config: Sendable, Equatable {
    public let board: String
    public let clusters: [Gem5ClusterConfig]
    /// nil when the board does not have two clusters, or which is big cannot be told.
    public let bigLittle: Gem5BigLittleConfig?
    /// Board-wide notes (memory, L3, associativity, why there is no big.LITTLE line).
    public let notes: [String]
}

/// The gem5 DRAM interface class for a DRAM standard.
public struct Gem5MemType: Sendable, Equatable {
    /// The class of src/mem/DRAMInterface.py given to `--mem-type`; nil when gem5 has none for the standard.
    public let className: String?
    /// Its data rate, MT/s (from the class name).
    public let dataRateMTs: Double?
    /// Width of one gem5 channel of this class (device_bus_width x devices_per_rank), bits.
    public let channelBits: Int?
    /// Why this class, the data-rate difference, or what to use instead when there is none.
    public let note: String
}

/// Builds `Gem5Config` from `Gem5BoardInput`.
public enum Gem5ConfigBuilder {
    /// The gem5 release the names were checked against.
    public static let gem5Reference = "gem5 v24.0.0.1 (b1a44b89c7ba) and develop (c91af552d469)"
    /// The se.py script (configs/example/se.py is a stub that calls fatal() since v23.0).
    public static let seScript = "configs/deprecated/example/se.py"
    public static let bigLittleScript = "configs/example/arm/fs_bigLITTLE.py"

    // MARK: values to gem5 spellings

    /// A frequency in kHz as gem5's `toFrequency` reads it (metric prefixes): "2GHz", "1400MHz", "1479500kHz".
    public static func clock(kHz: Int64) -> String {
        if kHz % 1_000_000 == 0 { return "\(kHz / 1_000_000)GHz" }
        if kHz % 1000 == 0 { return "\(kHz / 1000)MHz" }
        return "\(kHz)kHz"
    }

    /// A size in KiB as gem5's `toMemorySize` reads it: "32KiB", "2MiB". The binary prefixes are
    /// read the same by v24.0 and develop; develop warns about "kB"/"MB" ("Base 10 memory/cache
    /// size ... will be cast to base 2"), src/python/m5/util/convert.py.
    public static func size(kiB: Int) -> String {
        if kiB > 0 && kiB % (1024 * 1024) == 0 { return "\(kiB / (1024 * 1024))GiB" }
        if kiB > 0 && kiB % 1024 == 0 { return "\(kiB / 1024)MiB" }
        return "\(kiB)KiB"
    }

    /// The timing model of configs/common/cores/arm/ whose header says it is based on `core`;
    /// nil for every other core (gem5 has no model named for it).
    public static func cpuType(core: String) -> String? {
        switch core.lowercased() {
        case "cortex-a15": return "ex5_big"     // ex5_big.py: "ex5 big core (based on the ARM Cortex-A15)"
        case "cortex-a7": return "ex5_LITTLE"   // ex5_LITTLE.py: "ex5 LITTLE core (based on the ARM Cortex-A7)"
        default: return nil
        }
    }

    /// Cores that issue in order (Arm's Cortex-A documentation), for the hint when gem5 has no model of the core.
    static let inOrderCores: Set<String> = ["cortex-a5", "cortex-a7", "cortex-a8", "cortex-a53", "cortex-a55", "cortex-a510", "cortex-a520"]

    /// gem5's DRAM interface classes (src/mem/DRAMInterface.py at v24.0.0.1 and develop) by
    /// standard: class, MT/s from its name, channel bits.
    static let dramClasses: [String: [(name: String, mts: Double, bits: Int)]] = [
        "DDR3": [("DDR3_1600_8x8", 1600, 64), ("DDR3_2133_8x8", 2133, 64)],
        "DDR4": [("DDR4_2400_8x8", 2400, 64)],
        "DDR5": [("DDR5_4400_4x8", 4400, 32), ("DDR5_6400_4x8", 6400, 32), ("DDR5_8400_4x8", 8400, 32)],
        "LPDDR2": [("LPDDR2_S4_1066_1x32", 1066, 32)],
        "LPDDR3": [("LPDDR3_1600_1x32", 1600, 32)],
        "LPDDR5": [("LPDDR5_5500_1x16_BG_BL32", 5500, 16), ("LPDDR5_6400_1x16_BG_BL32", 6400, 16)],
        "GDDR5": [("GDDR5_4000_2x32", 4000, 64)],
    ]

    /// The `--mem-type` class for a DRAM standard at a data rate: the class of the same standard
    /// with the nearest data rate, or none (with what to use instead) when gem5 has no class of
    /// that standard (LPDDR4, LPDDR4X, LPDDR5X).
    public static func memType(type: String?, dataRateMTs: Double?) -> Gem5MemType {
        guard let type, !type.isEmpty else {
            return Gem5MemType(className: nil, dataRateMTs: nil, channelBits: nil,
                               note: "DRAM type unknown: no --mem-type (se.py's default DDR3_1600_8x8 applies)")
        }
        let standard = String(type.uppercased().filter { $0 != "-" && $0 != " " && $0 != "_" })
        guard let classes = dramClasses[standard] else {
            var instead: String
            switch standard {
            case "LPDDR4", "LPDDR4X":
                instead = "nearest to try: LPDDR5_5500_1x16_BG_BL32 (x16 channels like \(type), but LPDDR5 timings and bank groups) " +
                    "or LPDDR3_1600_1x32 (the older LPDDR, 1600 MT/s); the stdlib's DRAMSysLPDDR4_3200 " +
                    "(src/python/gem5/components/memory/dramsys.py) needs gem5 built with DRAMSys and is not a --mem-type"
            case "LPDDR5X":
                instead = "nearest to try: LPDDR5_6400_1x16_BG_BL32 (the fastest LPDDR5 class)"
            default:
                instead = "pick a class from `se.py --list-mem-types` by hand"
            }
            if let dataRateMTs { instead += "; the board's data rate is \(formatMTs(dataRateMTs)) MT/s" }
            return Gem5MemType(className: nil, dataRateMTs: nil, channelBits: nil,
                               note: "gem5 has no \(type) DRAM interface in src/mem/DRAMInterface.py: no --mem-type (se.py's default DDR3_1600_8x8 applies); \(instead)")
        }
        let pick: (name: String, mts: Double, bits: Int)
        var note: String
        if let rate = dataRateMTs {
            pick = classes.min { abs($0.mts - rate) < abs($1.mts - rate) }!
            if pick.mts == rate {
                note = "\(type) at \(formatMTs(rate)) MT/s -> \(pick.name)"
            } else {
                let pct = (pick.mts - rate) / rate * 100
                let sign = pct > 0 ? "faster" : "slower"
                note = "\(type) at \(formatMTs(rate)) MT/s -> \(pick.name), the nearest \(standard) class: its timings are for " +
                    "\(formatMTs(pick.mts)) MT/s, \(formatPercent(abs(pct))) % \(sign) than the board"
            }
        } else {
            pick = classes[0]
            note = "\(type) -> \(pick.name); the board's data rate is unknown, so gem5's \(formatMTs(pick.mts)) MT/s is not checked against it"
        }
        return Gem5MemType(className: pick.name, dataRateMTs: pick.mts, channelBits: pick.bits, note: note)
    }

    // MARK: the build

    /// The options, values and notes for every cluster of `board`, and the fs_bigLITTLE.py options
    /// when it has two clusters.
    public static func build(_ board: Gem5BoardInput) -> Gem5Config {
        var notes: [String] = []
        let mem = memType(type: board.dramType.value, dataRateMTs: board.dramDataRateMTs.value)
        notes.append("memory: \(mem.note)")
        var memChannelsOption: String?
        if let ch = board.dramChannels.value, mem.className == nil {
            // Channels of se.py's default DDR3_1600_8x8 would not be the board's channels.
            notes.append("memory: the board's \(ch) DRAM channels give no --mem-channels without a --mem-type")
        } else if let ch = board.dramChannels.value {
            memChannelsOption = "--mem-channels=\(ch)"
            if let bits = board.dramBusWidthBits.value, let classBits = mem.channelBits, ch > 0, bits / ch != classBits {
                notes.append("memory: the board's channels are \(bits / ch) bits (\(bits) bits in \(ch)), \(mem.className ?? "") " +
                             "channels are \(classBits) bits: --mem-channels=\(ch) gives \(ch * classBits) bits in all")
            }
        } else {
            notes.append("memory: DRAM channel count unknown (\(board.dramChannels.source)): no --mem-channels (gem5's default 1 applies)")
        }
        notes.append("memory: board files give no memory size: no --mem-size (se.py's default 512MB, fs_bigLITTLE.py's 2GB apply)")
        notes.append("\(seScript) has one CPU clock domain: each cluster is a line of its own, simulated alone; it also needs --cmd (the program; ';' separates one per CPU)")
        notes.append("associativity is not in board files: gem5's defaults apply (--l1d_assoc=2, --l1i_assoc=2, --l2_assoc=8 of configs/common/Options.py)")
        if let l3 = board.l3KiB.value, l3 > 0 {
            notes.append("L3 of \(size(kiB: l3)) (\(board.l3KiB.source)): se.py's classic caches have no L3 (--l3_size is read only by Ruby protocols)")
        }

        let clusters = board.clusters.map { cluster(board: board, $0, mem: mem, memChannelsOption: memChannelsOption) }
        let bigLittle = Self.bigLittle(board, notes: &notes)
        return Gem5Config(board: board.name, clusters: clusters, bigLittle: bigLittle, notes: notes)
    }

    static func cluster(board: Gem5BoardInput, _ c: Gem5ClusterInput, mem: Gem5MemType, memChannelsOption: String?) -> Gem5ClusterConfig {
        var options: [String] = []
        var values: [Gem5ConfigValue] = []
        var notes: [String] = []

        /// Records a value; `gem5Value` is what it gives to the gem5 option `dest` (nil: no option).
        func add(_ key: String, _ value: Gem5Scalar?, _ source: String, gem5 dest: String?, _ gem5Value: String?) {
            let option = gem5Value.flatMap { v in dest.map { dest in
                dest == "l2cache" ? "--l2cache" : "--\(gem5OptionName(dest))=\(v)"
            } }
            values.append(Gem5ConfigValue(key: key, value: value, source: source, option: option, gem5Name: dest, gem5Value: gem5Value))
        }

        // CPUs and model.
        let n = c.cpuCount.value
        if let n { options.append("--num-cpus=\(n)") }
        add("cpus", n.map { .int(Int64($0)) }, c.cpuCount.source, gem5: "num_cpus", n.map(String.init))
        let model = c.core.value.flatMap(cpuType(core:))
        if let model {
            options.append("--cpu-type=\(model)")
        } else if let core = c.core.value {
            let hint = inOrderCores.contains(core.lowercased())
                ? "it issues in order: ArmMinorCPU or HPI (an in-order ARMv8-A model) come nearest"
                : core.lowercased().hasPrefix("cortex-a") ? "it issues out of order: ArmO3CPU or O3_ARM_v7a_3 come nearest"
                : "pick a model from `se.py --list-cpu-types`"
            notes.append("gem5 has no timing model of \(core): no --cpu-type (se.py's default AtomicSimpleCPU applies); \(hint)")
        } else {
            notes.append("core unknown (\(c.core.source)): no --cpu-type")
        }
        add("core", c.core.value.map { .string($0) }, c.core.source, gem5: "cpu_type", model)

        // Clock.
        if let khz = c.maxFreqKHz.value {
            options.append("--cpu-clock=\(clock(kHz: khz))")
        } else {
            notes.append("max_freq_khz unknown (\(c.maxFreqKHz.source)): no --cpu-clock (gem5's default 2GHz applies)")
        }
        add("max_freq_khz", c.maxFreqKHz.value.map { .int($0) }, c.maxFreqKHz.source, gem5: "cpu_clock", c.maxFreqKHz.value.map(clock(kHz:)))

        // L1.
        let l1d = c.l1dKiB.value, l1i = c.l1iKiB.value
        if l1d != nil || l1i != nil {
            options.append("--caches")
        } else {
            notes.append("no L1 size in the board file: no --caches (with --caches gem5's default 64kB L1D and 32kB L1I apply)")
        }
        if let l1d { options.append("--l1d_size=\(size(kiB: l1d))") } else {
            notes.append("l1d_kib unknown (\(c.l1dKiB.source)): no --l1d_size")
        }
        add("l1d_kib", l1d.map { .int(Int64($0)) }, c.l1dKiB.source, gem5: "l1d_size", l1d.map(size(kiB:)))
        if let l1i { options.append("--l1i_size=\(size(kiB: l1i))") } else {
            notes.append("l1i_kib unknown (\(c.l1iKiB.source)): no --l1i_size")
        }
        add("l1i_kib", l1i.map { .int(Int64($0)) }, c.l1iKiB.source, gem5: "l1i_size", l1i.map(size(kiB:)))

        // L2: se.py's --l2cache is one L2 behind all --num-cpus CPUs (CacheConfig.config_cache).
        if let l2 = c.l2KiB.value {
            options.append("--l2cache")
            options.append("--l2_size=\(size(kiB: l2))")
            switch c.l2Shared.value {
            case true?: break
            case false?:
                notes.append("the board's L2 is private, \(size(kiB: l2)) per core; se.py's --l2cache is one L2 shared by all --num-cpus CPUs " +
                             "(\(size(kiB: l2)) for \(n.map(String.init) ?? "all") of them): only --num-cpus=1 matches the board")
            case nil:
                notes.append("whether the L2 is shared is unknown (\(c.l2Shared.source)); se.py's --l2cache is one L2 shared by all CPUs")
            }
        } else {
            notes.append("l2_kib unknown (\(c.l2KiB.source)): no --l2cache")
        }
        add("l2_kib", c.l2KiB.value.map { .int(Int64($0)) }, c.l2KiB.source, gem5: "l2_size", c.l2KiB.value.map(size(kiB:)))
        add("l2_shared", c.l2Shared.value.map { .bool($0) }, c.l2Shared.source, gem5: "l2cache", c.l2KiB.value == nil ? nil : "True")

        // Line.
        if let line = c.lineBytes.value {
            options.append("--cacheline_size=\(line)")
        } else {
            notes.append("line_bytes unknown (\(c.lineBytes.source)): no --cacheline_size (gem5's default 64 applies; it is not the board's)")
        }
        add("line_bytes", c.lineBytes.value.map { .int(Int64($0)) }, c.lineBytes.source, gem5: "cacheline_size", c.lineBytes.value.map(String.init))

        // Board-wide values, each cluster's line repeats them.
        add("l3_kib", board.l3KiB.value.map { .int(Int64($0)) }, board.l3KiB.source, gem5: nil, nil)
        if let cls = mem.className { options.append("--mem-type=\(cls)") }
        add("dram_type", board.dramType.value.map { .string($0) }, board.dramType.source, gem5: "mem_type", mem.className)
        add("dram_data_rate_mts", board.dramDataRateMTs.value.map { .double($0) }, board.dramDataRateMTs.source, gem5: nil, nil)
        if let o = memChannelsOption { options.append(o) }
        add("dram_channels", board.dramChannels.value.map { .int(Int64($0)) }, board.dramChannels.source, gem5: "mem_channels",
            memChannelsOption == nil ? nil : board.dramChannels.value.map(String.init))
        add("dram_bus_width_bits", board.dramBusWidthBits.value.map { .int(Int64($0)) }, board.dramBusWidthBits.source, gem5: nil, nil)

        return Gem5ClusterConfig(name: c.name, options: options, values: values, notes: notes)
    }

    /// The cache sizes (KiB: L1I, L1D, L2) fs_bigLITTLE.py builds for each --cpu-type: devices.L1I/L1D/L2
    /// of configs/example/arm/devices.py for "timing", ex5_big/ex5_LITTLE's L1I/L1D/L2 for "exynos".
    static let bigLittleCaches: [String: (big: (l1i: Int, l1d: Int, l2: Int), little: (l1i: Int, l1d: Int, l2: Int))] = [
        "timing": ((48, 32, 1024), (48, 32, 1024)),
        "exynos": ((32, 32, 2048), (32, 32, 512)),
    ]

    /// Which of two clusters is big: the one named "big" (or the one not named "little"), else the
    /// one with the higher maximum frequency; nil when that cannot be told.
    public static func bigAndLittle(_ clusters: [Gem5ClusterInput]) -> (big: Gem5ClusterInput, little: Gem5ClusterInput)? {
        guard clusters.count == 2 else { return nil }
        let (a, b) = (clusters[0], clusters[1])
        let names = (a.name.lowercased(), b.name.lowercased())
        if names.0 == "big" && names.1 != "big" || names.1 == "little" && names.0 != "little" { return (a, b) }
        if names.1 == "big" && names.0 != "big" || names.0 == "little" && names.1 != "little" { return (b, a) }
        guard let fa = a.maxFreqKHz.value, let fb = b.maxFreqKHz.value, fa != fb else { return nil }
        return fa > fb ? (a, b) : (b, a)
    }

    static func bigLittle(_ board: Gem5BoardInput, notes boardNotes: inout [String]) -> Gem5BigLittleConfig? {
        guard board.clusters.count == 2 else {
            boardNotes.append("\(board.clusters.count) cluster(s): no \(bigLittleScript) line (it models exactly a big and a LITTLE cluster)")
            return nil
        }
        guard let (big, little) = bigAndLittle(board.clusters) else {
            boardNotes.append("which cluster is big cannot be told (no cluster named big or little, and no two different known frequencies): no \(bigLittleScript) line")
            return nil
        }
        var options = ["--caches"]
        var notes: [String] = []
        let exynos = big.core.value?.lowercased() == "cortex-a15" && little.core.value?.lowercased() == "cortex-a7"
        let cpuType = exynos ? "exynos" : "timing"
        options.append("--cpu-type=\(cpuType)")
        if exynos {
            notes.append("--cpu-type=exynos: big ex5_big (based on the Cortex-A15), LITTLE ex5_LITTLE (based on the Cortex-A7), configs/common/cores/arm/")
        } else {
            notes.append("--cpu-type=timing (the default): big O3_ARM_v7a_3, LITTLE MinorCPU; gem5 has no model of " +
                         "\(big.core.value ?? "the big core") or \(little.core.value ?? "the LITTLE core")")
        }
        for (flag, c) in [("big", big), ("little", little)] {
            if let n = c.cpuCount.value { options.append("--\(flag)-cpus=\(n)") } else {
                notes.append("\(c.name): CPU count unknown: no --\(flag)-cpus (default 1)")
            }
        }
        for (flag, c, dflt) in [("big", big, "2GHz"), ("little", little, "1GHz")] {
            if let khz = c.maxFreqKHz.value { options.append("--\(flag)-cpu-clock=\(clock(kHz: khz))") } else {
                notes.append("\(c.name): max_freq_khz unknown: no --\(flag)-cpu-clock (default \(dflt))")
            }
        }
        if let l3 = board.l3KiB.value, l3 > 0 {
            options.append("--last-cache-level=3")
            if l3 != 16 * 1024 { notes.append("--last-cache-level=3 adds devices.L3 of 16MB; the board's L3 is \(size(kiB: l3))") }
        }
        // Cache sizes are fixed by --cpu-type; compare them to the board's.
        let sizes = bigLittleCaches[cpuType]!
        for (c, s) in [(big, sizes.big), (little, sizes.little)] {
            var diffs: [String] = []
            for (what, board, model) in [("L1I", c.l1iKiB.value, s.l1i), ("L1D", c.l1dKiB.value, s.l1d), ("L2", c.l2KiB.value, s.l2)] {
                if let board {
                    if board != model { diffs.append("\(what) \(size(kiB: model)) (board \(size(kiB: board)))") }
                } else {
                    diffs.append("\(what) \(size(kiB: model)) (board unknown)")
                }
            }
            if !diffs.isEmpty {
                notes.append("\(c.name): fs_bigLITTLE.py takes no cache sizes; --cpu-type=\(cpuType) gives \(diffs.joined(separator: ", "))")
            }
            if let line = c.lineBytes.value, line != 64 {
                notes.append("\(c.name): fs_bigLITTLE.py's line is fixed at 64 bytes (devices.py cache_line_size); the board's is \(line)")
            }
        }
        notes.append("fs_bigLITTLE.py's memory is SimpleMemory: no DRAM type or channels; it also needs --kernel and a --disk image")
        return Gem5BigLittleConfig(big: big.name, little: little.name, options: options, notes: notes)
    }

    /// argparse's option spelling for a `dest`: Options.py spells some with dashes
    /// (--num-cpus, --cpu-clock, --cpu-type, --mem-type, --mem-channels) and the cache ones with
    /// underscores (--l1d_size, --l2_size, --cacheline_size).
    static func gem5OptionName(_ dest: String) -> String {
        switch dest {
        case "num_cpus", "cpu_clock", "cpu_type", "mem_type", "mem_channels": return dest.replacingUnderscores
        default: return dest
        }
    }

    static func formatMTs(_ v: Double) -> String {
        v == v.rounded() ? String(Int64(v)) : String(v)
    }

    static func formatPercent(_ v: Double) -> String {
        let tenths = (v * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int64(tenths / 10)) : String(tenths / 10)
    }
}

extension String {
    /// Underscores as dashes ("num_cpus" -> "num-cpus").
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" ? "-" : $0 }) }
}
