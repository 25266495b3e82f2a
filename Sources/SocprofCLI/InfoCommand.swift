import ArgumentParser
import Counters
import Experiments
import Foundation
import LinuxSystem
import Platform

/// Options shared by commands that describe the machine.
struct PlatformOptions: ParsableArguments {
    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Use this board file (a name from boards/, or a path to a JSON file) instead of matching the device tree.", valueName: "name|file"))
    var board: String?

    func load() throws -> PlatformDescription {
        do { return try PlatformDescription.load(root: global.systemRoot, board: board) } catch {
            throw fail(error.description)
        }
    }
}

/// `socprof info`: what socprof knows about this board and what to fix.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe the board: clusters, cores, frequencies, caches, PMUs, measurable metrics, power sensors, permissions, and what to fix.",
        discussion: "The JSON form is documented in docs/info.md."
    )

    @OptionGroup var options: PlatformOptions

    @Flag(help: "Print JSON (docs/info.md).")
    var json = false

    func validate() throws { try options.global.validateRoot() }

    func run() throws {
        let p = try options.load()
        let doc = InfoDocument(p)
        if json {
            let enc = ReportJSON.encoder()
            print(String(decoding: try enc.encode(doc), as: UTF8.self))
        } else {
            print(doc.text(p), terminator: "")
        }
    }
}

/// The `info --json` document (docs/info.md).
struct InfoDocument: Encodable {
    struct BoardInfo: Encodable {
        let name: String
        let matched: Bool
        let selection: String
        let description: String?
        let soc: String?
        let model: String?
        let compatible: [String]
        let dram: Board.DRAM?
        let l3_kib: Sourced<Int>?
        let notes: [String]?
    }
    struct MetricInfo: Encodable {
        let available: Bool
        let unit: String
        let formula: String?
        let events: [String]?
        let scope: String?
        let note: String?
        let reason: String?
        let line_size: Int?

        /// A resolved metric as info and events print it; `line_size` only when the formula uses it.
        init(_ m: ResolvedMetric) {
            available = m.isAvailable
            unit = m.metric.unit
            formula = m.formula?.text
            events = m.isAvailable ? m.events.map(\.spec) : nil
            scope = m.formula?.scope
            note = m.formula?.note
            reason = m.reason
            line_size = m.formula?.expression.names.contains("line_size") == true ? m.lineSize : nil
        }
    }
    struct CacheEntry: Encodable {
        let level: Int
        let type: String
        let size_bytes: Int64?
        let line_bytes: Int?
        let ways: Int?
        let shared_cpus: String
    }
    struct DomainInfo: Encodable {
        let cpus: [Int]
        let min_freq_khz: Int64?
        let max_freq_khz: Int64?
        let cur_freq_khz: Int64?
        let governor: String?
        let available_freq_khz: [Int64]
    }
    struct CountersInfo: Encodable {
        let general: Int
        let cycle_counter: Bool
        let total: Int
        let text: String
    }
    struct ClusterInfo: Encodable {
        let name: String
        let core: String?
        let core_name: String?
        let midr: String?
        let revision: String?
        let cpus: [Int]
        let pmu: String?
        let pmu_type: UInt32?
        /// The PMU's counters, probed on the live system (nil under --root or when it may not be opened).
        let counters: CountersInfo?
        let capacity: Int?
        let max_freq_khz: Int64?
        let frequency_domains: [DomainInfo]
        let caches: [CacheEntry]
        let event_table: String?
        let datasheet: Board.Cluster?
        let peak_gflops_fp32: Double?
        let metrics: [String: MetricInfo]
        /// The verdicts of the last `socprof check` on this cluster, in one line; nil when it has not run.
        let counter_check: String?
    }
    struct SensorInfo: Encodable {
        let kind: String
        let rail: String?
        let cluster: String?
        let path: String
        let reading: Double?
        let reading_unit: String
    }
    struct ProblemInfo: Encodable {
        let problem: String
        let fix: String?
    }

    let schema = "socprof.info"
    let schema_version = 1
    let socprof_version = socprofVersion
    let root: String
    let architecture: String
    let vendor: String?
    let machine: String?
    let board: BoardInfo
    let clusters: [ClusterInfo]
    let power_sensors: [SensorInfo]
    let perf_event_paranoid: Int?
    let privileged: Bool
    let permissions: String
    let user_space_reads: String
    let pmus: [String]
    let problems: [ProblemInfo]

    init(_ p: PlatformDescription) {
        let dt = BoardCatalog.deviceTree(root: p.root)
        root = p.root.path
        architecture = p.topology.architecture
        vendor = p.topology.vendor
        machine = p.topology.machineName
        board = BoardInfo(name: p.board?.name ?? "unknown", matched: p.board != nil, selection: p.boardSelection,
                          description: p.board?.description, soc: p.board?.soc, model: dt.model, compatible: dt.compatible,
                          dram: p.board?.dram, l3_kib: p.board?.l3_kib, notes: p.board?.notes)
        clusters = p.topology.clusters.map { c in
            let sheet = p.boardCluster(for: c)
            var metrics: [String: MetricInfo] = [:]
            for m in p.resolvedMetrics(for: c) { metrics[m.metric.name] = MetricInfo(m) }
            // Counters are probed on the kernel that runs socprof, so only for the live tree.
            let capacity = p.root.isLive ? c.pmu.flatMap { CounterCapacity.probe($0, permissions: p.permissions) } : nil
            return ClusterInfo(
                name: c.name, core: c.core?.id, core_name: c.core?.name, midr: c.midr?.description, revision: c.midr?.revisionName,
                cpus: c.cpus.cpus, pmu: c.pmu?.name, pmu_type: c.pmu?.type.rawValue,
                counters: capacity.map { CountersInfo(general: $0.general, cycle_counter: $0.cycleCounter, total: $0.total, text: $0.description) },
                capacity: c.capacity, max_freq_khz: c.maxKHz,
                frequency_domains: c.frequencyDomains.map {
                    DomainInfo(cpus: $0.cpus.cpus, min_freq_khz: $0.minKHz, max_freq_khz: $0.maxKHz, cur_freq_khz: $0.currentKHz,
                               governor: $0.governor, available_freq_khz: $0.availableKHz)
                },
                caches: c.caches.map { CacheEntry(level: $0.level, type: $0.type, size_bytes: $0.sizeBytes, line_bytes: $0.lineBytes,
                                                  ways: $0.ways, shared_cpus: $0.sharedCPUs.description) },
                event_table: p.eventTable(for: c)?.name, datasheet: sheet, peak_gflops_fp32: sheet?.peakGFLOPS, metrics: metrics,
                counter_check: CounterCheckReport.summary(board: p.board?.name ?? "unknown", cluster: c.name))
        }
        power_sensors = p.sensors.map {
            SensorInfo(kind: $0.kind.rawValue, rail: $0.rail, cluster: $0.cluster, path: $0.path, reading: $0.read(root: p.root),
                       reading_unit: $0.measuresEnergy ? "J" : "W")
        }
        perf_event_paranoid = p.permissions.paranoid
        privileged = p.permissions.privileged
        permissions = p.permissions.summary
        user_space_reads = UserSpaceAccess.describe(root: p.root)
        pmus = p.registry.pmus.map { "\($0.name) (type \($0.type.rawValue))" }
        problems = p.problems.map { ProblemInfo(problem: $0.problem, fix: $0.fix) }
    }

    static func khz(_ v: Int64?) -> String { v.map { String(format: "%.0f MHz", Double($0) / 1000) } ?? "?" }
    static func size(_ b: Int64?) -> String {
        guard let b else { return "?" }
        return b >= 1 << 20 && b % (1 << 20) == 0 ? "\(b >> 20) MiB" : "\(b >> 10) KiB"
    }

    func text(_ p: PlatformDescription) -> String {
        var s = "Board: \(board.matched ? "\(board.name) (\(board.description ?? ""))" : "unknown") — \(board.selection)\n"
        if let m = board.model { s += "  model: \(m)\n" }
        if let soc = board.soc { s += "  SoC: \(soc)\n" }
        s += "  architecture: \(architecture)\(vendor.map { ", \($0)" } ?? "")\(machine.map { ", \($0)" } ?? "")\n"
        if let bw = board.dram?.theoretical_bandwidth_gbs {
            s += "  DRAM: \(board.dram?.type ?? "?"), \(bw.value.map { String(format: "%.1f GB/s", $0) } ?? "bandwidth unknown") theoretical [\(bw.source)]\n"
        }
        for c in clusters {
            s += "\nCluster \(c.name): cpus \(CPUSet(c.cpus).description), \(c.core_name ?? "unknown core")"
            if let r = c.revision { s += " \(r)" }
            if let m = c.midr { s += " (MIDR \(m))" }
            s += "\n  PMU: \(c.pmu.map { "\($0) (type \(c.pmu_type!))" } ?? "none")"
            s += c.event_table.map { ", events/\($0).json" } ?? ""
            s += c.counters.map { ", \($0.text)\n" } ?? "\n"
            for d in c.frequency_domains {
                s += "  cpufreq cpus \(CPUSet(d.cpus).description): \(Self.khz(d.min_freq_khz))–\(Self.khz(d.max_freq_khz)), now \(Self.khz(d.cur_freq_khz)), governor \(d.governor ?? "?")\n"
            }
            if let cap = c.capacity { s += "  capacity: \(cap)\n" }
            if let check = c.counter_check { s += "  \(check)\n" }
            if !c.caches.isEmpty {
                s += "  caches: " + c.caches.map { "\($0.level == 1 ? "L1\($0.type == "Data" ? "d" : "i")" : "L\($0.level)") \(Self.size($0.size_bytes))" +
                    ($0.line_bytes.map { " (\($0) B lines)" } ?? "") }.joined(separator: ", ") + "\n"
            }
            if let sheet = c.datasheet {
                var parts: [String] = []
                if let f = sheet.max_freq_khz?.value { parts.append("max \(Self.khz(f))") }
                if let f = sheet.fp32_flops_per_cycle?.value { parts.append("\(f) fp32 FLOP/cycle/core") }
                if let g = c.peak_gflops_fp32 { parts.append(String(format: "peak %.1f GFLOP/s", g)) }
                if let n = sheet.counters?.value { parts.append("\(n) counters") }
                s += "  board file: " + (parts.isEmpty ? "no figures" : parts.joined(separator: ", ")) + "\n"
            }
            s += "  metrics:\n"
            for name in p.metrics.metrics.map(\.name) {
                guard let m = c.metrics[name] else { continue }
                if m.available {
                    s += "    \(name.rightPad(17)) = \(m.formula!)" + (m.line_size.map { " (line_size \($0))" } ?? "") + (m.scope == "system" ? " [system-wide]" : "") + "\n"
                } else {
                    s += "    \(name.rightPad(17)) unavailable: \(m.reason ?? "")\n"
                }
            }
        }
        s += "\nPower sensors:" + (power_sensors.isEmpty ? " none\n" : "\n")
        for ps in power_sensors {
            s += "  \(ps.kind) \(ps.rail ?? "?")\(ps.cluster.map { " [cluster \($0)]" } ?? ""): \(ps.reading.map { String(format: "%.3f %@", $0, ps.reading_unit) } ?? "unreadable") (\(ps.path))\n"
        }
        s += "\nPermissions: \(permissions)\nUser-space counter reads: \(user_space_reads)\n"
        if !problems.isEmpty {
            s += "\nTo fix:\n"
            for pr in problems { s += "  - \(pr.problem)\n" + (pr.fix.map { "    fix: \($0)\n" } ?? "") }
        }
        return s
    }
}
