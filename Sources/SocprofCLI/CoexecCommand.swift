import ArgumentParser
import Counters
import Experiments
import Foundation
import LinuxSystem
import Networks
import Platform

extension CoExecutionMode: ExpressibleByArgument {}

/// `socprof coexec`: one network on several clusters at once (the study's Table II).
struct CoexecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coexec",
        abstract: "Run one network on several clusters at once (data-parallel or pipelined) and report the gain over the best single cluster.",
        discussion: """
            Each unit (a cluster, or a group of CPUs given with --cpus) gets its own thread pool and its own copy of the \
            weights. In one run, each unit first runs --images images alone, then all run together: in data mode each unit \
            takes whole images from one queue; in pipeline mode the layers are split into consecutive stages, one per unit, \
            chosen from per-layer times measured on each unit so that the slowest stage is as fast as it can be (the \
            split is printed), and images stream through the stages. The gain is the together images/s over the best \
            single unit's; the ideal is the sum of the single rates. Every co-executed image's output is compared, bit \
            for bit, with the same image's output on a unit alone. See docs/study.md.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The network.", valueName: "network")) var network: String
    @Option(help: "data: whole images from a shared queue; pipeline: consecutive layer stages, one per unit.") var mode: CoExecutionMode = .data
    @Option(help: ArgumentHelp("Clusters to use together (comma-separated; `socprof info` lists them).", valueName: "a,b")) var clusters: String?
    @Option(help: ArgumentHelp("A group of CPUs as one unit (a cpulist; repeat for each unit).", valueName: "list"),
            transform: { try parseCPUOption($0) }) var cpus: [[Int]] = []
    @Option(help: ArgumentHelp("Threads per unit (default: one per CPU of the unit).", valueName: "n")) var threads: Int?
    @Option(help: ArgumentHelp("Timed images per run (each unit alone, then together).", valueName: "n")) var images: Int = 20
    @Option(help: ArgumentHelp("Untimed images before each run.", valueName: "n")) var warmup: Int = 2
    @Option(help: ArgumentHelp("Board file (name or path) instead of matching the device tree.", valueName: "name|file")) var board: String?
    @Option(help: ArgumentHelp("max: pin each unit's cpufreq policy to its highest frequency for the run (as root; restored afterwards, also on Ctrl-C); current: leave it.", valueName: "max|current"))
    var frequency: String = "current"
    @Option(help: "Output format.") var format: Format = .table

    func validate() throws {
        try global.validateRoot()
        _ = try lookUpNetwork(network)
        if clusters != nil && !cpus.isEmpty { throw ValidationError("--clusters and --cpus both choose the units; give one.") }
        if clusters == nil && cpus.count < 2 { throw ValidationError("give two or more units: --clusters A,B or --cpus LIST --cpus LIST.") }
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads \(threads) must be 1 to 1024.") }
        guard (1...100_000).contains(images) else { throw ValidationError("--images \(images) must be 1 to 100000.") }
        guard (0...10_000).contains(warmup) else { throw ValidationError("--warmup \(warmup) must be 0 to 10000.") }
        guard frequency == "max" || frequency == "current" else { throw ValidationError("--frequency '\(frequency)' must be max or current.") }
    }

    func run() throws {
        let net = try lookUpNetwork(network)
        let root = global.systemRoot
        let platform: PlatformDescription
        do { platform = try PlatformDescription.load(root: root, board: board) } catch { throw fail(error.description) }
        let sensors = PowerSensors.discover(root: root, board: platform.board)
        let allowed = Affinity.current()
        var units: [ComputeUnit] = []
        if let clusters {
            let names = clusters.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if names.count < 2 { throw fail("--clusters \(clusters): co-execution needs two or more clusters") }
            for name in names {
                guard let c = platform.topology.cluster(named: name) else {
                    throw fail("no cluster '\(name)'; this machine has \(platform.topology.clusters.map(\.name).joined(separator: ", "))")
                }
                let list = c.cpus.cpus.filter { allowed.contains($0) }
                if list.isEmpty { throw fail("cluster \(c.name) (cpus \(c.cpus)) has no CPU available to this process") }
                units.append(.make(cluster: c, cpus: list, threads: threads, name: c.name, sensors: sensors))
            }
        } else {
            units = try cpuGroupUnits(cpus, platform: platform, threads: threads, sensors: sensors)
        }
        var seen = Set<Int>()
        for u in units {
            for c in u.cpus where !seen.insert(c).inserted { throw fail("cpu\(c) is in two units; co-executing units need their own CPUs") }
        }
        if mode == .pipeline && net.layers.count - 1 < units.count {
            throw fail("\(net.name) has \(net.layers.count - 1) layers, fewer than the \(units.count) pipeline stages")
        }
        Terminal.stderr("socprof coexec: \(net.name) on \(units.map(\.name).joined(separator: " + ")), \(mode.rawValue) mode: each unit alone, then together (\(images) images each)")
        let experiment = CoExecution(network: net, units: units, root: root, sensors: Self.boardSensors(sensors))
        if let (name, why) = experiment.startFailures.first {
            throw fail("\(name): \(why); ask for fewer with --threads", code: 1)
        }
        if let (name, n) = experiment.unpinned.first {
            throw fail("could not pin \(n) thread(s) of \(name) to its CPUs: sched_setaffinity refused (is a CPU offline or outside this process's cpuset?)")
        }
        var pins: [FrequencyPin] = []
        defer { for p in pins.reversed() { try? p.restore() } }
        if frequency == "max" {
            for u in units {
                guard let d = u.domains.first, let top = d.availableKHz.last ?? d.maxKHz else {
                    throw fail("\(u.name) has no cpufreq policy under \(root.absolute("sys/devices/system/cpu")): --frequency max cannot pin it; use --frequency current")
                }
                for d in u.domains where !pins.contains(where: { $0.directory == FrequencyPin.directory(of: d) }) {
                    do { pins.append(try FrequencyPin(root: root, domain: d, targetKHz: top)) } catch { throw fail(error.description) }
                }
            }
            usleep(200_000) // let the clocks settle
        }
        Interrupts.catchInterrupts()
        experiment.shouldStop = { Interrupts.received }
        guard let report = experiment.run(mode: mode, images: images, warmup: warmup) else {
            Terminal.stderr("socprof coexec: interrupted" + (pins.isEmpty ? "" : "; frequencies restored"))
            throw CLIError.interrupted
        }
        switch format {
        case .json:
            let enc = ReportJSON.encoder()
            print(String(decoding: try enc.encode(report), as: UTF8.self))
        case .table:
            print(Self.table(report), terminator: "")
        }
        if !report.outputsIdentical {
            Terminal.stderr("socprof coexec: error: co-executed outputs differ from the single-unit outputs")
            throw CLIError.status(1)
        }
    }

    /// For energy over several clusters: every sensor but those known to measure one other rail only
    /// would be guesswork, so all the sensors found, summed (the board's).
    static func boardSensors(_ all: [PowerSensor]) -> [PowerSensor] { all }

    static func table(_ r: CoExecutionReport) -> String {
        func g(_ x: Double) -> String { x >= 100 ? String(format: "%.0f", x) : x >= 10 ? String(format: "%.1f", x) : String(format: "%.2f", x) }
        func j(_ x: Double?) -> String { x.map { String(format: "%.4g J", $0) } ?? "n/a (no power sensor)" }
        var out = "socprof coexec: \(r.network), \(r.mode.rawValue) mode, \(r.images) timed images per run after \(r.warmup) warm-up\n\n"
        out += "run".padding(toLength: 22, withPad: " ", startingAt: 0) + "images/s".padding(toLength: 12, withPad: " ", startingAt: 0) + "energy/image\n"
        for s in r.single {
            let u = r.units.first { $0.name == s.label }
            let label = "\(s.label) alone" + (u.map { " (\($0.threads)t)" } ?? "")
            out += label.padding(toLength: 22, withPad: " ", startingAt: 0) + g(s.imagesPerSecond).padding(toLength: 12, withPad: " ", startingAt: 0) + j(s.joulesPerImage) + "\n"
        }
        out += "together (\(r.mode.rawValue))".padding(toLength: 22, withPad: " ", startingAt: 0) + g(r.together.imagesPerSecond).padding(toLength: 12, withPad: " ", startingAt: 0) + j(r.together.joulesPerImage) + "\n"
        if r.mode == .data {
            out += "  images taken: " + r.units.map { "\($0.name) \(r.together.imagesPerUnit[$0.name] ?? 0)" }.joined(separator: ", ") + "\n"
        }
        out += String(format: "\ngain over the best single unit (%@): %+.1f %%; ideal (the sum of the single rates) %@ images/s, %.0f %% of it reached\n",
                      r.bestSingle.label, r.gainPercent, g(r.idealImagesPerSecond), r.together.imagesPerSecond / r.idealImagesPerSecond * 100)
        if let stages = r.stages {
            out += "\npipeline stages (from per-layer times on each unit):\n"
            for (k, s) in stages.enumerated() {
                out += "  \(k + 1). \(s.unit): layers \(s.first)-\(s.last) (\(s.firstName) … \(s.lastName)), \(String(format: "%.2f", s.predictedMs)) ms per image predicted\n"
            }
        }
        out += r.outputsIdentical
            ? "\noutputs: all \(r.outputsCompared) co-executed images equal their single-unit outputs, bit for bit\n"
            : "\noutputs: co-executed images DIFFER from their single-unit outputs\n"
        for n in r.notes { out += "note: \(n)\n" }
        return out
    }
}
