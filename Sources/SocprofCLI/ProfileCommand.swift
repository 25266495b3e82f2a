import ArgumentParser
import Counters
import Experiments
import Foundation
import LinuxSystem
import Networks
import Platform
import Profiler
import Reports
import Kernels

/// `socprof profile NETWORK`: layer-by-layer counters on a cluster.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Run a network layer by layer on a cluster, counting each layer on every worker thread.",
        discussion: """
            Per layer: time (median over repeats), GOP/s, OI_t from the cost model, the counted events \
            (software events always; the hardware events of the metrics the cluster can measure), the \
            metrics computed from them (cycles, IPC, cache refills, DRAM bytes, OI_e) with their provenance, \
            energy from the board's power sensors, and, once `socprof ceilings` has measured the cluster, \
            attainable performance and the bound. Events beyond the PMU's counters run in several passes \
            (or multiplexed with --allow-multiplexing). Formats: docs/profile.md.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var placement: PlacementOptions
    @OptionGroup var numbers: PrecisionOptions

    @Argument(help: ArgumentHelp("The network: \(NetworkCatalog.names.joined(separator: ", ")).", valueName: "network"))
    var network: String

    @Option(help: "Untimed runs first.") var warmup: Int = 2
    @Option(name: .customLong("repeat"), help: "Timed runs; figures are medians over them.") var repetitions: Int = 5
    @Option(help: ArgumentHelp("Board file (name or path) instead of matching the device tree.", valueName: "name|file")) var board: String?
    @Option(help: ArgumentHelp("Metrics to compute (default: every metric the cluster can measure).", valueName: "list")) var metrics: String?
    @Option(name: [.short, .customLong("event")], help: ArgumentHelp("More events to count per layer (as stat -e).", valueName: "list"))
    var events: [String] = []
    @Flag(help: "Count nothing: time only.") var noCounters = false
    @Flag(help: "Do not read the power sensors.") var noEnergy = false
    @Flag(help: "A line on stderr after each run, also when stderr is not a terminal (logs, scripts).") var progress = false
    @Flag(help: "Inside gem5 only: m5_reset_stats before each timed run and m5_dump_reset_stats after each layer (first pass), for `socprof calibrate` (aarch64 and 32-bit ARM builds).")
    var m5ops = false
    @Option(help: ArgumentHelp("With --m5ops: where to write the order of the dumps.", valueName: "file.json"))
    var m5opsManifest: String = "socprof-m5ops.json"
    @Flag(help: "When the events exceed the PMU's counters, multiplex them in one pass (scaled estimates) instead of running the network once per group of events.")
    var allowMultiplexing = false
    @Option(name: .customLong("idle-baseline"), help: ArgumentHelp("Seconds of idle power measured before the runs (0: none).", valueName: "s"))
    var idleSeconds: Double = 1

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, json }
    @Option(help: "Output format.") var format: Format = .table
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the report to this file (atomically).", valueName: "file"))
    var output: String?
    @Option(help: ArgumentHelp("Also draw the layers under the roofline into this SVG file.", valueName: "file.svg"))
    var roofline: String?
    @Option(help: ArgumentHelp("Also write the last repeat as a Perfetto/Chrome trace (layers as slices per thread, events as counter tracks).", valueName: "file.json"))
    var trace: String?

    func validate() throws {
        try global.validateRoot()
        _ = try lookUpNetwork(network)
        if m5ops && !M5Ops.compiled {
            throw ValidationError("--m5ops needs an aarch64 or 32-bit ARM build of socprof (gem5's ARM m5op instructions); this build is for another architecture.")
        }
        guard (0...10_000).contains(warmup) else { throw ValidationError("--warmup \(warmup) must be 0 to 10000.") }
        guard (1...10_000).contains(repetitions) else { throw ValidationError("--repeat \(repetitions) must be 1 to 10000.") }
        guard (0...600).contains(idleSeconds) else { throw ValidationError("--idle-baseline \(idleSeconds) must be 0 to 600 seconds.") }
        if let metrics, metrics.split(separator: ",", omittingEmptySubsequences: false).contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) || metrics.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--metrics '\(metrics)' has an empty name; give metric names separated by commas (`socprof events` lists them).")
        }
    }

    func run() throws {
        let net = numbers.apply(to: try lookUpNetwork(network))
        let root = global.systemRoot
        let (platform, place, cluster) = try placement.resolve(root: root, board: board)
        let (cpus, label) = (place.cpus, place.label)
        var notes: [String] = []

        var resolvedMetrics: [ResolvedMetric] = []
        var counted: [ResolvedEvent] = []
        var systemWide: [ResolvedEvent] = []
        let registry = platform.registry
        if !noCounters {
            let wanted = metrics.map { Set($0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }) }
            let plan: ProfilePlan
            do { plan = try ProfilePlan.make(platform: platform, cluster: cluster, metricNames: wanted, events: events) } catch { throw fail(error.description) }
            (resolvedMetrics, counted, systemWide) = (plan.metrics, plan.counted, plan.systemWide)
            notes += plan.notes
        } else {
            notes.append("--no-counters: times only")
        }

        let pool = try pinnedPool(threads: placement.threads ?? cpus.count, cpus: cpus)
        let profiler = LayerProfiler(network: net, pool: pool, events: counted, metrics: resolvedMetrics, registry: registry,
                                     permissions: PerfPermissions.current(root: .live), systemEvents: systemWide,
                                     calibrationImages: numbers.calibrationImages)
        Interrupts.catchInterrupts()
        let interactive = progress || isatty(2) != 0
        var energy: (sampler: EnergySampler, idle: [SensorEnergy])? = nil
        if !noEnergy {
            let sensors = PowerSensors.discover(root: root, board: platform.board)
            if sensors.isEmpty {
                notes.append("no power sensor found (hwmon, INA231, INA3221, powercap): no energy figures")
            } else {
                let sampler = EnergySampler(root: root, sensors: sensors)
                var idle: [SensorEnergy] = []
                if idleSeconds > 0 {
                    Terminal.stderr("socprof profile: measuring idle power for \(idleSeconds) s ...")
                    idle = sampler.idleBaseline(seconds: idleSeconds)
                }
                energy = (sampler, idle)
            }
        }
        if m5ops {
            _ = try M5Ops.prepare(network: net, threads: pool.count, iterations: repetitions, manifest: m5opsManifest)
            notes.append("--m5ops: one gem5 stats dump per layer of each timed run of the first pass; their order is in \(m5opsManifest)")
        }
        let boundary: ((Int) -> Void)? = m5ops ? { i in M5Ops.call(i == 0 ? .resetStats : .dumpResetStats) } : nil
        if interactive && net.precision == .int8 {
            Terminal.stderr("socprof profile: \(net.name) int8: calibrating the activations on \(numbers.calibrationImages) seeded image(s)")
        }
        if interactive && warmup > 0 { Terminal.stderr("socprof profile: \(net.name) warm-up, \(warmup) untimed run(s)") }
        var result = profiler.profile(placement: label, warmup: warmup, repeats: repetitions, energy: energy, allowMultiplexing: allowMultiplexing,
                                      progress: { r in
            if interactive { Terminal.stderr("socprof profile: \(net.name) run \(r)") }
        }, shouldStop: { Interrupts.received }, boundary: boundary)
        result.notes = notes + result.notes
        if net.precision != .fp32 && numbers.accuracyImages > 0 && !Interrupts.received {
            // A runner of its own: the profiled one was the profiler's, pinned to the same pool.
            let quantized = NetworkRunner(network: net, pool: pool, calibrationImages: numbers.calibrationImages)
            result.accuracy = numbers.accuracy(of: quantized, progress: { done in
                if interactive && (done % 20 == 0 || done == numbers.accuracyImages) {
                    Terminal.stderr("socprof profile: accuracy against fp32, \(done)/\(numbers.accuracyImages) images")
                }
            })
        }
        // The measured ceilings of this board, cluster, frequency and thread count, if kept.
        let key = CeilingsReport.key(board: platform.board?.name ?? "unknown", cluster: cluster?.name ?? "cpus-\(CPUSet(cpus).description)",
                                     maxKHz: cluster?.maxKHz, threads: pool.count, cpus: cpus)
        switch CeilingsStore.lookup(key: key) {
        case .found(let roofline): result.place(under: roofline)
        case .unusable(let path):
            result.notes.append("the ceilings kept in \(path) are not usable (another schema or version, or a peak or DRAM bandwidth that is not a measurement): run `socprof ceilings` again")
        case .missing:
            result.notes.append("no measured ceilings for \(key): run `socprof ceilings` with the same cluster and threads to place the layers under the roofline")
        }
        // What `socprof check` found about this cluster's counters, when it has run.
        if let cluster, let check = CounterCheckReport.summary(board: platform.board?.name ?? "unknown", cluster: cluster.name) {
            result.notes.append(check)
        }
        let text: String
        switch format {
        case .json:
            let enc = ReportJSON.encoder()
            text = String(decoding: try enc.encode(result), as: UTF8.self) + "\n"
        case .csv: text = ProfileReport.csv(result)
        case .table: text = ProfileReport.table(result)
        }
        try Terminal.emit(text, to: output)
        if let roofline {
            let svg = RooflineSVG.render([.init(label: result.network, profile: result)], title: "\(result.network) on \(result.placement)")
            try Terminal.emit(svg, to: roofline, option: "--roofline")
        }
        if let trace {
            try Terminal.emit(try ChromeTrace.render(result), to: trace, option: "--trace")
        }
        if Interrupts.received { throw CLIError.interrupted }
    }
}
