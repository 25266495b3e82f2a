import ArgumentParser
import Counters
import Experiments
import Foundation
import LinuxSystem
import Networks
import Platform
import Reports

/// `socprof sweep`: every network on every cluster (the study's Table I and Fig. 2).
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Images/s (and with power sensors, images/s per watt) of every network on every cluster: the study's Table I and Fig. 2.",
        discussion: """
            Each cell runs one network on all of one cluster's CPUs (or --threads of them): --warmup untimed images, then \
            --repeat timed ones; images/s is 1 / the median image time, with the slowest and fastest image beside it. \
            --frequency max pins each cluster's cpufreq policy to its highest frequency for its cells (scaling_min_freq and \
            scaling_max_freq, as root) and restores it afterwards, also on Ctrl-C or an error; current leaves it; a list of MHz \
            makes one column per cluster and frequency. The frequency is read back after each image and flagged when it moved. \
            With power sensors (the cluster's rail where the board file names one, else every sensor), each cell also has watts, \
            joules per image and images/s per watt, with and without the idle power measured before the cluster's cells. \
            With -o DIR every finished cell is written at once, and --resume runs only the cells missing there. \
            See docs/study.md.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, json }

    static let studyNetworks = ["alexnet", "googlenet", "mobilenet", "resnet50", "squeezenet"]

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Board file (name or path) instead of matching the device tree.", valueName: "name|file")) var board: String?
    @Option(help: ArgumentHelp("Networks (comma-separated), or all. Default: the study's five (\(studyNetworks.joined(separator: ", "))).", valueName: "list|all"))
    var networks: String?
    @Option(help: ArgumentHelp("Clusters (comma-separated names; `socprof info` lists them), or all.", valueName: "list|all")) var clusters: String = "all"
    @Option(help: ArgumentHelp("A group of CPUs as a column instead of clusters (a cpulist; repeat for more columns).", valueName: "list"),
            transform: { try parseCPUOption($0) })
    var cpus: [[Int]] = []
    @Option(help: ArgumentHelp("Threads per cell: all (one per CPU of the column) or a number.", valueName: "all|n")) var threads: String = "all"
    @Option(help: ArgumentHelp("max (pin each cluster to its highest frequency), current (leave it), or MHz values (a column per frequency).", valueName: "max|current|list"))
    var frequency: String = "current"
    @Option(name: .customLong("repeat"), help: ArgumentHelp("Timed images per cell.", valueName: "n")) var repeats: Int = 5
    @Option(help: ArgumentHelp("Untimed images per cell first.", valueName: "n")) var warmup: Int = 1
    @Option(name: .customLong("idle-seconds"), help: ArgumentHelp("Idle power measured before each column's cells when sensors exist, s (0: none).", valueName: "s"))
    var idleSeconds: Double = 2

    @Option(help: ArgumentHelp("The precision every network runs in: fp32, int8 (activations calibrated on 8 seeded images) or int8-weights.", valueName: "precision"))
    var precision: Precision = .fp32
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Keep the sweep in this directory: a file per finished cell, and at the end sweep.json, .csv, .txt and .svg.", valueName: "dir"))
    var output: String?
    @Flag(help: "Continue the sweep kept in -o DIR: run only the cells missing there (the settings must be the same).") var resume = false
    @Option(help: "Output format on stdout.") var format: Format = .table
    @Option(help: ArgumentHelp("Also write the bar chart here.", valueName: "file.svg")) var svg: String?
    @Flag(help: "A progress line per image on stderr, also when stderr is not a terminal.") var progress = false

    func validate() throws {
        try global.validateRoot()
        _ = try networkList()
        if !cpus.isEmpty && clusters != "all" { throw ValidationError("--clusters and --cpus both choose the columns; give one.") }
        if threads != "all" { guard let n = Int(threads), (1...1024).contains(n) else { throw ValidationError("--threads '\(threads)' must be all or 1 to 1024.") } }
        if frequency != "max" && frequency != "current" { _ = try frequencyList() }
        guard (1...100_000).contains(repeats) else { throw ValidationError("--repeat \(repeats) must be 1 to 100000.") }
        guard (0...10_000).contains(warmup) else { throw ValidationError("--warmup \(warmup) must be 0 to 10000.") }
        guard idleSeconds >= 0 && idleSeconds <= 600 else { throw ValidationError("--idle-seconds \(idleSeconds) must be 0 to 600.") }
        if resume && output == nil { throw ValidationError("--resume continues the sweep kept in -o DIR; give -o.") }
    }

    func networkList() throws -> [String] {
        guard let networks else { return Self.studyNetworks }
        if networks == "all" { return NetworkCatalog.names }
        var out: [String] = []
        for part in networks.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces)
            _ = try lookUpNetwork(name)
            if !out.contains(name.lowercased()) { out.append(name.lowercased()) }
        }
        return out
    }

    func frequencyList() throws -> [Int64] {
        try frequency.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let t = part.trimmingCharacters(in: .whitespaces)
            guard let mhz = Double(t), mhz > 0, mhz < 100_000 else {
                throw ValidationError("--frequency: '\(t)' is not max, current or a frequency in MHz (e.g. 1400,1800).")
            }
            return Int64((mhz * 1000).rounded())
        }
    }

    /// The columns: clusters (or CPU groups), at the frequency asked.
    func columns(platform: PlatformDescription) throws -> (plans: [SweepColumnPlan], notes: [String]) {
        let sensors = PowerSensors.discover(root: platform.root, board: platform.board)
        let allowed = Affinity.current()
        let threadCount = threads == "all" ? nil : Int(threads)
        var units: [ComputeUnit] = []
        if !cpus.isEmpty {
            units = try cpuGroupUnits(cpus, platform: platform, threads: threadCount, sensors: sensors)
        } else {
            var chosen = platform.topology.clusters
            if clusters != "all" {
                chosen = try clusters.split(separator: ",").map { part in
                    let name = part.trimmingCharacters(in: .whitespaces)
                    guard let c = platform.topology.cluster(named: name) else {
                        throw fail("no cluster '\(name)'; this machine has \(platform.topology.clusters.map(\.name).joined(separator: ", "))")
                    }
                    return c
                }
            }
            for c in chosen {
                units.append(.make(cluster: c, cpus: c.cpus.cpus.filter { allowed.contains($0) }, threads: threadCount, name: c.name, sensors: sensors))
            }
        }
        var notes: [String] = []
        switch frequency {
        case "current":
            return (units.map { SweepColumnPlan(unit: $0, pinKHz: nil) }, notes)
        case "max":
            return (try units.map { u in
                if u.cpus.isEmpty { return SweepColumnPlan(unit: u, pinKHz: nil) } // its cells fail: no CPU to run on
                guard let d = u.domains.first, let top = d.availableKHz.last ?? d.maxKHz else {
                    throw fail("\(u.name) has no cpufreq policy under \(platform.root.absolute("sys/devices/system/cpu")): --frequency max cannot pin it; use --frequency current")
                }
                return SweepColumnPlan(unit: u, pinKHz: top)
            }, notes)
        default:
            let wanted = try frequencyList()
            var plans: [SweepColumnPlan] = []
            for u in units {
                if u.cpus.isEmpty {
                    plans.append(SweepColumnPlan(unit: u, pinKHz: nil)) // its cells fail: no CPU to run on
                    continue
                }
                guard let d = u.domains.first else {
                    throw fail("\(u.name) has no cpufreq policy: its frequency cannot be set; use --frequency current")
                }
                let offered = wanted.filter { d.availableKHz.isEmpty ? ($0 >= (d.minKHz ?? 0) && $0 <= (d.maxKHz ?? .max)) : d.availableKHz.contains($0) }
                for k in wanted where !offered.contains(k) { notes.append("\(u.name) does not offer \(FrequencyPin.mhz(k)): no column for it") }
                plans += offered.map { SweepColumnPlan(unit: u, pinKHz: $0, name: "\(u.name)@\($0 / 1000)") }
            }
            if plans.isEmpty { throw fail("--frequency \(frequency): no column offers any of these frequencies (`socprof info` lists them)") }
            return (plans, notes)
        }
    }

    func run() throws {
        let root = global.systemRoot
        let platform: PlatformDescription
        do { platform = try PlatformDescription.load(root: root, board: board) } catch { throw fail(error.description) }
        let (plans, notes) = try columns(platform: platform)
        let settings = SweepSettings(networks: try networkList(), columns: plans.map(\.name), frequency: frequency, threads: threads,
                                     repeats: repeats, warmup: warmup, idleSeconds: idleSeconds, precision: precision)
        let now = ISO8601DateFormatter().string(from: Date())
        var store: SweepStore? = nil
        if let output {
            let s = SweepStore(directory: URL(fileURLWithPath: output))
            let previous: SweepSettings?
            do { previous = try s.settings() } catch { throw fail("\(error)") }
            if previous != nil, !resume {
                throw fail("\(output) already holds a sweep (started \(s.started ?? "?")): --resume continues it, or choose another -o")
            }
            if resume {
                guard let previous else { throw fail("--resume: \(output) holds no sweep (no settings.json) to continue") }
                if previous != settings {
                    throw fail("--resume: the sweep in \(output) was started with other settings (networks \(previous.networks.joined(separator: ",")), columns \(previous.columns.joined(separator: ",")), frequency \(previous.frequency), threads \(previous.threads), --repeat \(previous.repeats), --warmup \(previous.warmup), --idle-seconds \(previous.idleSeconds), --precision \(previous.networkPrecision.rawValue)); give the same options")
                }
            }
            do { try s.begin(settings, started: now) } catch { throw fail("-o \(output): \(error.localizedDescription)", code: 1) }
            store = s
        }
        let sweep = Sweep(root: root, columns: plans, settings: settings, store: store)
        do { try sweep.checkPinning() } catch { throw fail(error.description) }
        let pending = sweep.pending()
        Terminal.stderr("socprof sweep: \(pending.count) cell(s) to run (\(settings.networks.count) network(s) x \(plans.count) column(s)\(resume ? ", resumed" : ""))")
        Interrupts.catchInterrupts()
        let interactive = progress || isatty(2) != 0
        var lastLine = DispatchTime.now().uptimeNanoseconds
        let result: (cells: [SweepCell], columns: [SweepColumn], stopped: Bool)
        do {
            result = try sweep.run(progress: { p in
                guard interactive else { return }
                let t = DispatchTime.now().uptimeNanoseconds
                guard progress || p.image == 0 || p.image == p.images || t - lastLine > 1_000_000_000 else { return }
                lastLine = t
                let left = p.secondsLeft.map { String(format: ", about %.0f s left", $0) } ?? ""
                Terminal.stderr("  [\(p.cell)/\(p.cells)] \(p.network) on \(p.column): image \(p.image)/\(p.images)\(left)")
            }, shouldStop: { Interrupts.received })
        } catch {
            throw fail("\(error)" + (output.map { "; the finished cells are in \($0) (--resume continues)" } ?? ""), code: 1)
        }
        for c in result.cells where !c.ok { Terminal.stderr("socprof sweep: \(c.network) on \(c.column) failed: \(c.error ?? "?")") }

        let cells = store?.cells() ?? result.cells
        let known = Dictionary((store?.columns() ?? result.columns).map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
        let columns = plans.map { p in
            known[p.name] ?? SweepColumn(name: p.name, cpus: p.unit.cpus.isEmpty ? "none available" : CPUSet(p.unit.cpus).description, threads: p.unit.threads, core: p.unit.core,
                                         pinned_mhz: p.pinKHz.map { Double($0) / 1000 }, governor: nil, sensors: p.unit.sensors.map(\.label),
                                         sensors_are_own: p.unit.sensorsAreOwn, idle_watts: nil)
        }
        var allNotes = notes
        if plans.allSatisfy({ $0.unit.sensors.isEmpty }) { allNotes.append("no power sensor found (hwmon, INA231, INA3221, powercap): images/s only") }
        let boardName = platform.board?.name ?? (platform.topology.clusters.compactMap { $0.core?.name }.first.map { "unknown board (\($0))" } ?? "unknown board")
        let report = SweepReport(board: boardName, started: store?.started ?? now, settings: settings, columns: columns, cells: cells, notes: allNotes)
        let json = String(decoding: try ReportJSON.encoder().encode(report), as: UTF8.self) + "\n"
        let chart = SweepTable.svg(report)
        if let output {
            let dir = URL(fileURLWithPath: output)
            do {
                try Terminal.writeAtomically(json, to: dir.appendingPathComponent("sweep.json").path)
                try Terminal.writeAtomically(SweepTable.csv(report), to: dir.appendingPathComponent("sweep.csv").path)
                try Terminal.writeAtomically(SweepTable.text(report), to: dir.appendingPathComponent("sweep.txt").path)
                try Terminal.writeAtomically(chart, to: dir.appendingPathComponent("sweep.svg").path)
            } catch { throw fail("-o \(output): \(error.localizedDescription)", code: 1) }
        }
        if let svg {
            do { try Terminal.writeAtomically(chart, to: svg) } catch { throw fail("--svg \(svg): \(error.localizedDescription)", code: 1) }
        }
        switch format {
        case .table: print(SweepTable.text(report), terminator: "")
        case .csv: print(SweepTable.csv(report), terminator: "")
        case .json: print(json, terminator: "")
        }
        if result.stopped {
            Terminal.stderr("socprof sweep: interrupted; frequencies restored" + (output.map { "; the finished cells are in \($0): `--resume` with the same options continues" } ?? ""))
            throw CLIError.interrupted
        }
    }
}
