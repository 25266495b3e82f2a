import ArgumentParser
import Counters
import Experiments
import Foundation
import Kernels
import LinuxSystem
import Networks
import Platform

/// `socprof powermodel collect`: the samples `powermodel fit` needs, measured on this board.
struct PowerModelCollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Run workloads on a cluster at each of its frequencies with counters and its power sensor; write the samples CSV for `powermodel fit`.",
        discussion: """
            Each workload runs for --seconds at each frequency, the cluster's cpufreq policy pinned to it (scaling_min_freq and \
            scaling_max_freq, as root) and restored afterwards, also on Ctrl-C or an error. Each row is written as soon as it is \
            measured. Power comes from the sensor on the cluster's rail (the board file names it; --sensor picks another); \
            voltage from the sensor's own voltage reading (INA231 sensor_V), else --voltage-table, else the board file's table. \
            Workloads: idle, fma, read-l1, read-l2, read-dram (or kernels for all five), a network name, or networks for every \
            built-in network. Event rates are per second per core. See docs/powermodel.md.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Board file (name or path) instead of matching the device tree.", valueName: "name|file")) var board: String?
    @Option(help: ArgumentHelp("The cluster (little, big, or a core name). Default: the biggest.", valueName: "name")) var cluster: String?
    @Option(help: ArgumentHelp("Frequencies in MHz (comma-separated), or all the policy offers.", valueName: "list|all"))
    var frequencies: String = "all"
    @Option(help: ArgumentHelp("Workloads (comma-separated).", valueName: "list")) var workloads: String = "kernels,squeezenet-1.1,mobilenet"
    @Option(name: [.short, .customLong("events")], help: ArgumentHelp("Events to count (as stat -e; default: the core's cycles, instructions, cache and bus events, as many as its counters hold).", valueName: "list"))
    var events: String?
    @Option(help: ArgumentHelp("Counting window per workload and frequency, s (whole images; at least one).", valueName: "s")) var seconds: Double = 2
    @Option(help: ArgumentHelp("Wait after changing the frequency, s.", valueName: "s")) var settle: Double = 0.5
    @Option(help: ArgumentHelp("The power sensor: part of its path or rail name (`socprof info` lists them).", valueName: "name")) var sensor: String?
    @Option(name: .customLong("voltage-table"), help: ArgumentHelp("CSV of MHz,volts for the cluster (instead of a voltage sensor or the board file's table).", valueName: "file.csv"))
    var voltageTable: String?
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The samples CSV (written row by row).", valueName: "file.csv"))
    var output: String = "powermodel-samples.csv"
    @Flag(help: "A line on stderr per row, also when stderr is not a terminal.") var progress = false

    func validate() throws {
        try global.validateRoot()
        guard seconds > 0 && seconds <= 3600 else { throw ValidationError("--seconds \(seconds) must be above 0 and at most 3600.") }
        guard settle >= 0 && settle <= 60 else { throw ValidationError("--settle \(settle) must be 0 to 60 seconds.") }
        _ = try frequencyList()
        _ = try workloadNames()
    }

    /// --frequencies as kHz, or nil for all.
    func frequencyList() throws -> [Int64]? {
        if frequencies == "all" { return nil }
        var out: [Int64] = []
        for part in frequencies.split(separator: ",", omittingEmptySubsequences: false) {
            let t = part.trimmingCharacters(in: .whitespaces)
            guard let mhz = Double(t), mhz > 0, mhz < 100_000 else {
                throw ValidationError("--frequencies: '\(t)' is not a frequency in MHz (e.g. 1400,1800), and the list is not 'all'.")
            }
            out.append(Int64((mhz * 1000).rounded()))
        }
        return out
    }

    /// --workloads expanded (kernels, networks), in order, without repeats.
    func workloadNames() throws -> [String] {
        let kernels = ["idle", "fma", "read-l1", "read-l2", "read-dram"]
        var out: [String] = []
        for part in workloads.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            let expanded: [String]
            if name == "kernels" { expanded = kernels } else if name == "networks" { expanded = NetworkCatalog.names } else if kernels.contains(name) {
                expanded = [name]
            } else if NetworkCatalog.network(named: name) != nil {
                expanded = [name]
            } else {
                let near = Suggestions.closest(to: name, in: kernels + NetworkCatalog.names + ["kernels", "networks"])
                throw ValidationError("--workloads: unknown workload '\(name)'; the workloads are kernels (\(kernels.joined(separator: ", "))), networks (\(NetworkCatalog.names.joined(separator: ", ")))" + (near.isEmpty ? "." : "; did you mean '\(near[0])'?"))
            }
            for e in expanded where !out.contains(e) { out.append(e) }
        }
        return out
    }

    func run() throws {
        let root = global.systemRoot
        let platform: PlatformDescription
        do { platform = try PlatformDescription.load(root: root, board: board) } catch { throw fail(error.description) }
        let command = "socprof powermodel collect"

        // The cluster, its frequencies, and the CPUs this process may run on.
        let chosen = try chooseCluster(cluster, in: platform)
        guard let domain = chosen.frequencyDomains.first else {
            throw fail("cluster \(chosen.name) (cpus \(chosen.cpus)) has no cpufreq policy under \(root.absolute("sys/devices/system/cpu")): its frequency cannot be set, and a power model needs several")
        }
        let offered = domain.availableKHz.isEmpty ? [domain.minKHz, domain.maxKHz].compactMap { $0 } : domain.availableKHz
        let khz = try frequencyList() ?? offered
        for f in khz where !domain.availableKHz.isEmpty && !domain.availableKHz.contains(f) {
            throw fail("--frequencies: \(FrequencyPin.mhz(f)) is not offered by cpus \(domain.cpus); they offer \(domain.availableKHz.map(FrequencyPin.mhz).joined(separator: ", "))")
        }

        // The power sensor on the cluster's rail, and the voltage.
        let sensors = PowerSensors.discover(root: root, board: platform.board)
        if sensors.isEmpty {
            throw fail("no power sensor under \(root) (INA231, INA3221, hwmon power/energy, powercap): a power model needs measured power, so \(command) stops here", code: 1)
        }
        let candidates: [PowerSensor]
        if let sensor {
            candidates = sensors.filter { $0.path.contains(sensor) || ($0.rail?.localizedCaseInsensitiveContains(sensor) ?? false) }
        } else {
            candidates = sensors.filter { $0.cluster == chosen.name }
        }
        guard let power = candidates.first else {
            let list = sensors.map { "\($0.label)\($0.cluster.map { " [\($0)]" } ?? "")" }.joined(separator: "; ")
            throw fail(sensor == nil
                       ? "no power sensor is known to measure cluster \(chosen.name) (the board file names none for it); the sensors are: \(list). Pick one with --sensor"
                       : "no power sensor matches --sensor '\(sensor!)'; the sensors are: \(list)", code: 1)
        }
        let sheet = platform.boardCluster(for: chosen)
        let voltage: VoltageSource
        if let voltageTable {
            guard let data = FileManager.default.contents(atPath: voltageTable) else { throw fail("\(voltageTable): cannot read the file") }
            do { voltage = .table(try VoltageSource.parseTable(csv: String(decoding: data, as: UTF8.self), file: voltageTable), source: voltageTable) } catch {
                throw fail(error.description)
            }
        } else if let v = VoltageSource.sensor(besides: power, root: root) {
            voltage = v
        } else if let table = sheet?.voltage_table, let points = table.value {
            voltage = .table(points, source: "boards/\(platform.board?.name ?? "?").json: \(table.source)")
        } else {
            throw fail("no voltage for cluster \(chosen.name): the power sensor (\(power.label)) does not measure it and the board file has no voltage_table; give --voltage-table FILE (MHz,volts per line)")
        }
        for f in khz {
            do { _ = try voltage.volts(atMHz: Double(f) / 1000, root: root) } catch { throw fail(error.description) }
        }

        let allowed = Affinity.current()
        let cpus = chosen.cpus.cpus.filter { allowed.contains($0) }
        if cpus.isEmpty { throw fail("cluster \(chosen.name) (cpus \(chosen.cpus)) has no CPU available to this process") }

        // The events, one column each.
        let specs = events.map { [$0] } ?? [PowerModelEvents.defaults(table: platform.eventTable(for: chosen), counters: sheet?.counters?.value).joined(separator: ",")]
        var resolved: [ResolvedEvent] = []
        var columns: [String] = []
        do {
            let resolver = EventResolver(registry: platform.registry)
            for list in specs {
                for spec in try EventSpec.parseList(list) {
                    for e in try resolver.resolve(spec, corePMU: chosen.pmu) where !resolved.contains(where: { $0.name == e.name }) {
                        resolved.append(e)
                        var name = PowerSamplesCSV.columnName(for: spec.description)
                        if columns.contains(name) { name = PowerSamplesCSV.columnName(for: e.name) }
                        columns.append(name)
                    }
                }
            }
        } catch let e as EventSpecError { throw fail(e.description) } catch let e as EventResolutionError { throw fail(e.description) }

        // The workloads, on a pool pinned to the cluster's CPUs.
        let pool = try pinnedPool(threads: cpus.count, cpus: cpus)
        let shares = CacheShares(cluster: chosen, board: sheet, cpus: cpus, threads: cpus.count)
        let kernels = Workload.kernels(l1Bytes: Int(shares.bytesPerThread["L1"] ?? 16 << 10), l2Bytes: Int(shares.bytesPerThread["L2"] ?? 256 << 10))
        let plan = PowerCollectPlan(
            frequenciesKHz: khz,
            workloads: try workloadNames().map { name in kernels.first { $0.description == name } ?? .network(name) },
            seconds: seconds, settleSeconds: settle)
        let collector: PowerSampleCollector
        do {
            collector = try PowerSampleCollector(root: root, domains: chosen.frequencyDomains, pool: pool, cores: cpus.count, events: resolved,
                                                 sensor: power, voltage: voltage, registry: platform.registry, permissions: platform.permissions)
        } catch { throw fail(error.description, code: 1) }

        // The file: where every figure came from, then a row per measurement as it is made.
        let eventLines = zip(columns, resolved).map { "  \($0) = \($1.name)" }
        var comments = [
            "\(command), socprof \(socprofVersion), \(ISO8601DateFormatter().string(from: Date()))",
            "board \(platform.board?.name ?? "unknown") (\(platform.boardSelection)); cluster \(chosen.name) (\(chosen.core?.name ?? "unknown core")), cpus \(CPUSet(cpus).description), \(pool.count) threads",
            "power: \(power.label); voltage: \(voltage.provenance)",
            "rates: events per second per core (summed over the threads, divided by the window and by \(cpus.count) cores)",
            "events:",
        ] + eventLines
        if collector.passes.count > 1 {
            comments.append("the events did not fit on the counters at once: each row ran \(collector.passes.count) passes, power averaged over them")
        }
        if !shares.fromBoard.isEmpty { comments.append("read-l1/read-l2 sizes from the board file (\(shares.fromBoard.joined(separator: ", ")))") }
        guard let out = FileHandle(forWritingAtPath: output) ?? (FileManager.default.createFile(atPath: output, contents: nil) ? FileHandle(forWritingAtPath: output) : nil) else {
            throw fail("-o \(output): cannot create the file", code: 1)
        }
        defer { try? out.close() }
        try out.truncate(atOffset: 0)
        out.write(Data(PowerSamplesCSV.header(comments: comments, eventColumns: columns).utf8))

        Interrupts.catchInterrupts()
        let interactive = progress || isatty(2) != 0
        let total = plan.workloads.count * khz.count
        let started = Date()
        Terminal.stderr("\(command): \(plan.workloads.count) workloads x \(khz.count) frequencies on cluster \(chosen.name) (cpus \(CPUSet(cpus).description)), \(String(format: "%g", seconds)) s each; writing \(output)")
        let result: (rows: [PowerCollectRow], stopped: Bool)
        do {
            result = try collector.collect(plan, row: { r in
                out.write(Data(PowerSamplesCSV.line(r).utf8))
                if r.frequencyMoved {
                    Terminal.stderr("\(command): warning: \(r.workload) at \(String(format: "%g", r.freqMHz)) MHz: the policy reported \(String(format: "%.0f", r.freqReadMHz ?? 0)) MHz (throttled, or the driver ignores the limits)")
                }
            }, progress: { done, total, workload, mhz in
                guard interactive else { return }
                let elapsed = Date().timeIntervalSince(started)
                let left = done > 0 ? String(format: ", about %.0f s left", elapsed / Double(done) * Double(total - done)) : ""
                Terminal.stderr("  [\(done + 1)/\(total)] \(workload) at \(String(format: "%g", mhz)) MHz\(left)")
            }, shouldStop: { Interrupts.received })
        } catch {
            throw fail("\(error); the rows measured so far are in \(output)", code: 1)
        }
        if result.stopped {
            out.write(Data("# stopped (interrupted) after \(result.rows.count) of \(total) rows\n".utf8))
            Terminal.stderr("\(command): interrupted; frequencies restored; \(result.rows.count) of \(total) rows in \(output)")
            throw CLIError.interrupted
        }
        Terminal.stderr("\(command): \(result.rows.count) rows in \(output); fit them with `socprof powermodel fit \(output)`")
    }
}
