/// One of socprof's metrics read from a gem5 dump: its value and the stats it came from.
public struct Gem5Figure: Sendable, Equatable {
    /// The value (a count, bytes or seconds); nil when unavailable.
    public let value: Double?
    /// The full gem5 stat names it was read from (summed, or divided for ratios).
    public let stats: [String]
    /// How the stats give the value, as an expression of their names ("a + b", "a / b").
    public let expression: String?
    /// Why there is no value; nil when there is one.
    public let reason: String?

    /// A value read from `stats`, summed unless `expression` says otherwise.
    public static func measured(_ value: Double, _ stats: [String], expression: String? = nil) -> Gem5Figure {
        Gem5Figure(value: value, stats: stats, expression: expression ?? stats.joined(separator: " + "), reason: nil)
    }

    public static func unavailable(_ reason: String, stats: [String] = []) -> Gem5Figure {
        Gem5Figure(value: nil, stats: stats, expression: nil, reason: reason)
    }
}

/// socprof's metrics of one gem5 dump: per CPU and for the whole system.
public struct Gem5DumpMetrics: Sendable {
    /// One CPU's metrics.
    public struct CPU: Sendable {
        /// Its object path ("system.bigCluster.cpus0").
        public let path: String
        /// The object above it when that is not `system` ("bigCluster"), for big.LITTLE configs.
        public let cluster: String?
        public let model: Gem5CPUModel
        /// By name, in `Gem5DumpMetrics.cpuMetricNames` order.
        public let metrics: [(name: String, figure: Gem5Figure)]

        public subscript(name: String) -> Gem5Figure? { metrics.first { $0.name == name }?.figure }
    }

    public let index: Int
    public let era: Gem5Era
    public let complete: Bool
    /// The system's metrics: the CPUs' summed, DRAM bytes, simulated time.
    public let metrics: [(name: String, figure: Gem5Figure)]
    public let cpus: [CPU]
    /// What the reader noticed (traps avoided, stats missing).
    public let notes: [String]

    public subscript(name: String) -> Gem5Figure? { metrics.first { $0.name == name }?.figure }

    /// Per-CPU metric names, in report order.
    public static let cpuMetricNames = ["cycles", "instructions", "ipc", "l1d_accesses", "l1d_refills", "l2_accesses", "l2_refills"]
    /// System metric names, in report order.
    public static let systemMetricNames = cpuMetricNames + ["dram_read_bytes", "dram_write_bytes", "sim_seconds", "sim_ticks"]
}

/// Reads socprof's metrics out of gem5 dumps with a stat map.
public struct Gem5MetricReader: Sendable {
    public let map: Gem5StatMap

    public init(map: Gem5StatMap) { self.map = map }

    /// Every dump of `file`, read.
    public func read(_ file: Gem5StatsFile) -> [Gem5DumpMetrics] {
        file.dumps.map(read)
    }

    /// The CPUs of a dump: every object with a `numCycles` stat, in name order (cpu2 before cpu10).
    public static func cpuPaths(_ dump: Gem5StatsFile.Dump) -> [String] {
        dump.values.keys.filter { $0.hasSuffix(".numCycles") }.map { String($0.dropLast(".numCycles".count)) }
            .sorted { naturalKey($0).lexicographicallyPrecedes(naturalKey($1)) }
    }

    /// A name cut into text and numbers, so that "cpus2" sorts before "cpus10".
    static func naturalKey(_ s: String) -> [NaturalChunk] {
        var out: [NaturalChunk] = [], text = "", digits = ""
        func flushText() { if !text.isEmpty { out.append(.text(text)); text = "" } }
        func flushDigits() { if !digits.isEmpty { out.append(.number(Int(digits) ?? Int.max)); digits = "" } }
        for ch in s {
            if ch.isASCII && ch.isNumber { flushText(); digits.append(ch) } else { flushDigits(); text.append(ch) }
        }
        flushText(); flushDigits()
        return out
    }

    enum NaturalChunk: Comparable {
        case number(Int)
        case text(String)
    }

    /// The CPU model behind `cpu`, from the stat groups it has.
    public static func model(of cpu: String, in dump: Gem5StatsFile.Dump) -> Gem5CPUModel {
        var minor = false
        for key in dump.values.keys where key.hasPrefix(cpu + ".") {
            let rest = key.dropFirst(cpu.count + 1)
            if rest.hasPrefix("iew.") || rest.hasPrefix("rob.") || rest.hasPrefix("commit.") { return .o3 }
            if rest.hasPrefix("fetch2.") { minor = true }
        }
        return minor ? .minor : .simple
    }

    public func read(_ dump: Gem5StatsFile.Dump) -> Gem5DumpMetrics {
        let era = Gem5Era.of(dump)
        var notes: [String] = []
        var cpus: [Gem5DumpMetrics.CPU] = []
        for path in Self.cpuPaths(dump) {
            let model = Self.model(of: path, in: dump)
            var metrics: [(String, Gem5Figure)] = []
            for name in Gem5StatMap.perCPUOrder {
                metrics.append((name, first(map.per_cpu[name]!, prefix: path, dump: dump, era: era, model: model, metric: name)))
            }
            let cycles = metrics[0].1, instructions = metrics[1].1
            metrics.insert(("ipc", Self.ratio(instructions, cycles, what: "instructions / cycles")), at: 2)
            metrics.append(("l2_accesses", l2(map.l2.l2_accesses, cpu: path, dump: dump, era: era)))
            metrics.append(("l2_refills", l2(map.l2.l2_refills, cpu: path, dump: dump, era: era)))
            let parent = path.split(separator: ".").dropLast().joined(separator: ".")
            cpus.append(.init(path: path, cluster: parent == "system" || parent.isEmpty ? nil : String(parent.split(separator: ".").last!),
                              model: model, metrics: metrics))
        }
        if cpus.isEmpty { notes.append("no CPU in this dump (no <cpu>.numCycles stat)") }

        var system: [(String, Gem5Figure)] = []
        for name in Gem5StatMap.perCPUOrder {
            system.append((name, Self.sum(cpus.map { $0[name]! }, metric: name)))
        }
        system.insert(("ipc", Self.ratio(system[1].1, system[0].1, what: "instructions / cycles over all CPUs")), at: 2)
        for name in ["l2_accesses", "l2_refills"] { system.append((name, Self.sum(cpus.map { $0[name]! }, metric: name))) }
        system.append(("dram_read_bytes", dram(map.dram.dram_read_bytes, dump: dump, era: era, metric: "dram_read_bytes")))
        system.append(("dram_write_bytes", dram(map.dram.dram_write_bytes, dump: dump, era: era, metric: "dram_write_bytes")))
        let (seconds, ticks) = time(dump: dump, era: era)
        system.append(("sim_seconds", seconds))
        system.append(("sim_ticks", ticks))

        let globalInsts = era == .v20 ? "sim_insts" : "simInsts"
        if let g = dump[globalInsts], let i = system[1].1.value, g != i {
            notes.append("\(globalInsts) is \(Self.integer(g)) but the CPUs committed \(Self.integer(i)): \(globalInsts) is not reset between dumps, so socprof uses each CPU's own counter")
        }
        if !dump.complete { notes.append("dump \(dump.index) has no End line (the file may be cut short)") }
        return Gem5DumpMetrics(index: dump.index, era: era, complete: dump.complete, metrics: system, cpus: cpus, notes: notes)
    }

    // MARK: the rules

    /// The first candidate for this era and model that the dump has under `prefix`.
    func first(_ metric: Gem5StatMap.Metric, prefix: String, dump: Gem5StatsFile.Dump, era: Gem5Era, model: Gem5CPUModel, metric name: String) -> Gem5Figure {
        let candidates = metric.candidates.filter { $0.applies(era: era, model: model) }
        guard !candidates.isEmpty else {
            return .unavailable("the stat map has no \(name) stat for a \(model.rawValue) CPU in \(era.label)")
        }
        for c in candidates {
            let full = "\(prefix).\(c.stat)"
            if let v = dump[full] { return Self.figure(v, [full]) }
        }
        return .unavailable("not in this dump (gem5 omits some stats when they are zero)",
                            stats: candidates.map { "\(prefix).\($0.stat)" })
    }

    /// A CPU's L2 figure: its own L2's total, else its data requestor's entry in a shared L2.
    func l2(_ metric: Gem5StatMap.Metric, cpu: String, dump: Gem5StatsFile.Dump, era: Gem5Era) -> Gem5Figure {
        let stats = metric.candidates.filter { $0.eras.contains(era) }.map(\.stat)
        for name in map.l2.names {
            for s in stats {
                let full = "\(cpu).\(name).\(s)::total"
                if let v = dump[full] { return Self.figure(v, [full]) }
            }
        }
        // A shared L2: under the CPU's cluster, then under system.
        var owners: [String] = []
        var parts = cpu.split(separator: ".").dropLast()
        while !parts.isEmpty { owners.append(parts.joined(separator: ".")); parts = parts.dropLast() }
        let requestor = cpu.hasPrefix("system.") ? String(cpu.dropFirst("system.".count)) : cpu
        var tried: [String] = []
        for owner in owners {
            for name in map.l2.names {
                for s in stats {
                    let full = "\(owner).\(name).\(s)::\(requestor).data"
                    tried.append(full)
                    if let v = dump[full] { return Self.figure(v, [full]) }
                }
            }
        }
        return .unavailable("no L2 of this CPU in the dump (no \(map.l2.names.joined(separator: "/")) under the CPU, its cluster or system)",
                            stats: Array(tried.prefix(2)))
    }

    /// Bytes summed over every memory controller.
    func dram(_ metric: Gem5StatMap.Metric, dump: Gem5StatsFile.Dump, era: Gem5Era, metric name: String) -> Gem5Figure {
        let controllers = Set(dump.values.keys.compactMap { key -> String? in
            let parts = key.split(separator: ".", maxSplits: 2)
            guard parts.count == 3, parts[0] == "system" else { return nil }
            let object = parts[1]
            let base = object.reversed().drop(while: \.isNumber).reversed()
            return map.dram.controllers.contains(String(base)) ? "system.\(object)" : nil
        }).sorted()
        guard !controllers.isEmpty else {
            return .unavailable("no memory controller (\(map.dram.controllers.joined(separator: ", "))) in this dump")
        }
        let stats = metric.candidates.filter { $0.eras.contains(era) }.map(\.stat)
        var found: [String] = [], values: [Double] = []
        for c in controllers {
            if let s = stats.first(where: { dump["\(c).\($0)"] != nil }) {
                found.append("\(c).\(s)"); values.append(dump["\(c).\(s)"]!)
            }
        }
        guard !found.isEmpty else { return .unavailable("the memory controllers \(controllers.joined(separator: ", ")) have no \(name) stat") }
        if let bad = zip(found, values).first(where: { !$0.1.isFinite }) {
            return .unavailable("gem5 printed \(bad.1) for \(bad.0)", stats: found)
        }
        return .measured(values.reduce(0, +), found)
    }

    /// Simulated seconds from ticks and the tick frequency (sim_seconds has only 6 decimals).
    func time(dump: Gem5StatsFile.Dump, era: Gem5Era) -> (Gem5Figure, Gem5Figure) {
        let tickName = map.time.ticks[era.rawValue]!, freqName = map.time.frequency[era.rawValue]!
        guard let ticks = dump[tickName], ticks.isFinite else {
            let none = Gem5Figure.unavailable("no \(tickName) in this dump")
            return (none, none)
        }
        let tickFigure = Gem5Figure.measured(ticks, [tickName])
        guard let freq = dump[freqName], freq.isFinite, freq > 0 else {
            return (.unavailable("no \(freqName) in this dump to turn ticks into seconds"), tickFigure)
        }
        return (.measured(ticks / freq, [tickName, freqName], expression: "\(tickName) / \(freqName)"), tickFigure)
    }

    static func figure(_ v: Double, _ stats: [String]) -> Gem5Figure {
        v.isFinite ? .measured(v, stats) : .unavailable("gem5 printed \(v.isNaN ? "nan" : String(v)) for \(stats[0])", stats: stats)
    }

    static func ratio(_ a: Gem5Figure, _ b: Gem5Figure, what: String) -> Gem5Figure {
        guard let x = a.value, let y = b.value else { return .unavailable("\(what): \(a.value == nil ? "no instructions" : "no cycles")") }
        guard y > 0 else { return .unavailable("\(what): zero cycles", stats: a.stats + b.stats) }
        func wrap(_ f: Gem5Figure) -> String { f.stats.count > 1 ? "(\(f.expression ?? ""))" : f.expression ?? "" }
        return .measured(x / y, a.stats + b.stats, expression: "\(wrap(a)) / \(wrap(b))")
    }

    static func sum(_ figures: [Gem5Figure], metric: String) -> Gem5Figure {
        let have = figures.filter { $0.value != nil }
        guard !have.isEmpty else { return .unavailable(figures.first?.reason ?? "no CPU") }
        guard have.count == figures.count else {
            return .unavailable("\(figures.count - have.count) of \(figures.count) CPUs have no \(metric)", stats: have.flatMap(\.stats))
        }
        return .measured(have.map { $0.value! }.reduce(0, +), have.flatMap(\.stats))
    }

    static func integer(_ v: Double) -> String { v.isFinite && abs(v) < 9e18 ? String(Int64(v)) : String(v) }
}
