import Counters
import Foundation
import LinuxSystem

/// Everything socprof knows about the machine under a root: topology, board file, PMUs, event
/// tables, metrics per cluster, power sensors, permissions, and what to fix.
public struct PlatformDescription: Sendable {
    /// Something that limits what socprof can measure, and what to do about it.
    public struct Problem: Sendable, Codable, Hashable {
        public let problem: String
        public let fix: String?
    }

    public let root: SystemRoot
    public let registry: PMURegistry
    public var topology: Topology
    /// The board file in use, if any.
    public let board: Board?
    /// How the board file was chosen, or why there is none.
    public let boardSelection: String
    public let permissions: PerfPermissions
    public let sensors: [PowerSensor]
    public let metrics: MetricCatalog
    public let mapfile: EventMapfile
    /// Event tables by name ("arm/cortex-a53"), for the cores present.
    public let tables: [String: EventTable]
    public private(set) var problems: [Problem] = []

    /// Reads the machine under `root`. `board` is `--board NAME|FILE`; `data` the directory with
    /// `events/` and `boards/` (default: `DataDirectory.locate()`). Throws for malformed data files.
    public static func load(root: SystemRoot, board boardOverride: String? = nil, data: URL? = nil) throws(DataFileError) -> PlatformDescription {
        guard let data = data ?? DataDirectory.locate() else {
            throw DataFileError(file: "events/mapfile.csv", problem: "socprof's data directory (events/, boards/) was not found; set SOCPROF_DATA to the directory that holds them")
        }
        let catalog = try CoreCatalog(contentsOf: data.appendingPathComponent("events/cores.csv"))
        let mapfile = try EventMapfile.load(data: data)
        let metrics = try MetricCatalog.load(data: data)
        let boards = try BoardCatalog(directory: data.appendingPathComponent("boards"))
        let registry = PMURegistry(root: root)
        var topology = Topology(root: root, catalog: catalog, registry: registry)

        let board: Board?
        let selection: String
        if let o = boardOverride {
            board = try boards.select(o)
            selection = "selected with --board \(o)"
        } else if let b = boards.match(root: root) {
            board = b
            let dt = BoardCatalog.deviceTree(root: root)
            let hit = dt.compatible.first { b.match?.compatible?.contains($0) ?? false }
            selection = hit.map { "matched by device-tree compatible '\($0)'" } ?? "matched by device-tree model '\(dt.model ?? "")'"
        } else {
            board = nil
            let dt = BoardCatalog.deviceTree(root: root)
            selection = dt.compatible.isEmpty && dt.model == nil
                ? "no device tree (not an ARM board?): described from sysfs alone"
                : "no board file matches compatible '\(dt.compatible.joined(separator: "', '"))': described from sysfs alone"
        }
        if let board {
            for i in topology.clusters.indices {
                if let bc = board.cluster(for: topology.clusters[i].cpus) { topology.clusters[i].name = bc.name }
            }
        }
        var tables: [String: EventTable] = [:]
        for c in topology.clusters {
            if let midr = c.midr, let name = mapfile.table(for: midr), tables[name] == nil {
                tables[name] = try EventTable.load(name, data: data)
            }
        }
        var p = PlatformDescription(root: root, registry: registry, topology: topology, board: board, boardSelection: selection,
                                    permissions: .current(root: root), sensors: PowerSensors.discover(root: root, board: board),
                                    metrics: metrics, mapfile: mapfile, tables: tables)
        p.problems = p.findProblems()
        return p
    }

    /// The event table of a cluster's core, if one is mapped.
    public func eventTable(for cluster: Cluster) -> EventTable? {
        cluster.midr.flatMap { mapfile.table(for: $0) }.flatMap { tables[$0] }
    }

    /// The board file's entry for a cluster.
    public func boardCluster(for cluster: Cluster) -> Board.Cluster? { board?.cluster(for: cluster.cpus) }

    /// What metric resolution needs for a cluster.
    public func metricContext(for cluster: Cluster) -> MetricContext {
        MetricContext(core: cluster.core, isX86: topology.architecture == "x86_64", table: eventTable(for: cluster),
                      corePMU: cluster.pmu, registry: registry, permissions: permissions,
                      lineSize: cluster.lineBytes ?? boardCluster(for: cluster)?.line_bytes?.value ?? metrics.lineSizeDefault)
    }

    /// Every metric resolved for a cluster.
    public func resolvedMetrics(for cluster: Cluster) -> [ResolvedMetric] {
        metrics.resolveAll(in: metricContext(for: cluster))
    }

    func findProblems() -> [Problem] {
        var out: [Problem] = []
        let devices = root.absolute(PMURegistry.devicesPath)
        if registry.corePMUs.isEmpty {
            out.append(Problem(problem: "no core PMU is registered under \(devices): cycles, instructions and cache events cannot be counted",
                               fix: topology.architecture == "x86_64"
                                   ? "run on bare metal or enable PMU passthrough in the hypervisor (e.g. QEMU -cpu host, vPMU on); software events still work"
                                   : "boot a kernel whose device tree has the arm-pmu node (mainline HiKey970 and Raspberry Pi 5 trees lack it) with CONFIG_HW_PERF_EVENTS"))
        } else {
            for c in topology.clusters where c.pmu == nil {
                out.append(Problem(problem: "cluster \(c.name) (cpus \(c.cpus)) has no PMU whose cpus file covers it: its hardware events cannot be counted",
                                   fix: "check the device tree's PMU node for these CPUs (interrupt-affinity)"))
            }
        }
        if permissions.forbidsAll {
            out.append(Problem(problem: permissions.summary, fix: PerfPermissions.fix))
        } else if !permissions.allowsPerCPU && registry.pmus.contains(where: \.isUncore) {
            out.append(Problem(problem: "\(permissions.summary); uncore PMUs (\(registry.pmus.filter(\.isUncore).map(\.name).joined(separator: ", "))) count system-wide only, so DRAM formulas fall back to core events",
                               fix: "run `sudo sysctl kernel.perf_event_paranoid=0` or grant CAP_PERFMON to use them"))
        }
        for c in topology.clusters {
            if topology.architecture != "x86_64" {
                if let core = c.core {
                    if eventTable(for: c) == nil {
                        out.append(Problem(problem: "cluster \(c.name): no event table for \(core.name); metrics use generic events only",
                                           fix: "add events/arm/\(core.id).json and a line in events/mapfile.csv"))
                    }
                } else {
                    out.append(Problem(problem: "cluster \(c.name): MIDR \(c.midr?.description ?? "unknown") is not in events/cores.csv",
                                       fix: "add a line implementer,part,core,name to events/cores.csv"))
                }
            }
            for d in c.frequencyDomains {
                guard let governor = d.governor, governor != "performance", governor != "userspace" else { continue }
                out.append(Problem(problem: "cpus \(d.cpus) use the \(governor) cpufreq governor: the frequency may change during a run",
                                   fix: "for repeatable figures: `sudo cpupower -c \(d.cpus) frequency-set -g performance`"))
            }
        }
        if sensors.isEmpty {
            out.append(Problem(problem: "no power sensor found (hwmon, INA231, INA3221, powercap): energy figures are unavailable",
                               fix: "log an external meter to a CSV (timestamp,watts) and pass it to socprof"))
        }
        for s in sensors {
            guard let enable = s.enablePath, root.readTrimmed(enable) != "1" else { continue }
            out.append(Problem(problem: "\(s.label) is disabled", fix: "socprof enables it when run as root, or `echo 1 | sudo tee \(root.absolute(enable))`"))
        }
        for p in registry.problems + topology.problems { out.append(Problem(problem: p, fix: nil)) }
        return out
    }
}
