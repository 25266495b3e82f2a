import ArgumentParser
import Counters
import Experiments
import Foundation
import Kernels
import LinuxSystem
import Networks
import Platform

/// The built-in network named `name` (any case), or a validation error naming the networks and
/// the nearest one.
func lookUpNetwork(_ name: String) throws -> Network {
    if let net = NetworkCatalog.network(named: name.lowercased()) { return net }
    let near = Suggestions.closest(to: name, in: NetworkCatalog.names)
    throw ValidationError("unknown network '\(name)'; the networks are \(NetworkCatalog.names.joined(separator: ", "))" +
                          (near.isEmpty ? "." : "; did you mean '\(near[0])'?"))
}

/// A pool of `threads` threads pinned to `cpus` (`ThreadPool.pinned`): a thread the system would
/// not start is a failure (1), CPUs it may not pin to are bad input (2).
func pinnedPool(threads: Int, cpus: [Int]) throws -> ThreadPool {
    do { return try ThreadPool.pinned(threads: threads, cpus: cpus) } catch {
        if case .couldNotStart = error { throw CLIError.failure(error.description) }
        throw CLIError.badInput(error.description)
    }
}

/// The cluster `--cluster NAME` names, or the biggest one when no name is given
/// (`Placement.cluster(named:in:root:)`); bad input naming the clusters there are.
func chooseCluster(_ name: String?, in platform: PlatformDescription) throws -> Cluster {
    do { return try Placement.cluster(named: name, in: platform.topology, root: platform.root) } catch { throw fail(error.description) }
}

/// A `--cpus` value as CPU numbers, parsed once by ArgumentParser (`transform:`), which puts
/// "The value 'TEXT' is invalid for '--cpus <list>': " before the reason thrown here.
func parseCPUOption(_ text: String) throws -> [Int] {
    let list: [Int]
    do { list = try CPUSet(parsing: text).cpus } catch { throw ValidationError("'\(error.part)' is not a CPU number or a range like 0-3") }
    if list.isEmpty { throw ValidationError("it names no CPU; give a cpulist such as 0-3 or 4,5") }
    return list
}

/// The units given by `--cpus` (repeated): each CPU group as a unit named "cpus LIST", with the
/// cluster it lies in (its policies, its sensors). An error when a CPU is not available to this
/// process.
func cpuGroupUnits(_ groups: [[Int]], platform: PlatformDescription, threads: Int?, sensors: [PowerSensor]) throws -> [ComputeUnit] {
    let allowed = Affinity.current()
    return try groups.map { list in
        let outside = list.filter { !allowed.contains($0) }
        if !outside.isEmpty { throw fail("--cpus \(CPUSet(list).description): cpu\(outside[0]) is not available to this process (allowed: \(allowed))") }
        let cluster = platform.topology.clusters.first { !Set($0.cpus.cpus).isDisjoint(with: list) }
        return .make(cluster: cluster, cpus: list, threads: threads, name: "cpus \(CPUSet(list).description)", sensors: sensors)
    }
}

/// `--cluster NAME | --cpus LIST` and `--threads N`: where a command runs (`Placement`).
struct PlacementOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run on this cluster (little, big, or a core name; `socprof info` lists them). Default: the biggest cluster.", valueName: "name"))
    var cluster: String?

    @Option(help: ArgumentHelp("Run on these CPUs (a cpulist such as 4-7) instead of a cluster.", valueName: "list"),
            transform: { try parseCPUOption($0) })
    var cpus: [Int]?

    @Option(help: ArgumentHelp("Threads (default: one per CPU of the cluster).", valueName: "n"))
    var threads: Int?

    func validate() throws {
        if cluster != nil && cpus != nil { throw ValidationError("--cluster and --cpus both choose the CPUs; give one.") }
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads \(threads) must be 1 to 1024.") }
    }

    /// The CPUs and how reports name them; bad input when this process may not run there.
    func resolve(root: SystemRoot) throws -> Placement {
        do {
            return try Placement.resolve(cpus.map { .cpus($0) } ?? .cluster(cluster), root: root, allowed: Affinity.current())
        } catch { throw CLIError.badInput(error.description) }
    }

    /// The board described (`--board` or the device tree), the CPUs chosen on it, and the
    /// cluster of the board's topology they belong to (nil when they span several).
    func resolve(root: SystemRoot, board: String?) throws -> (platform: PlatformDescription, place: Placement, cluster: Cluster?) {
        let platform: PlatformDescription
        do { platform = try PlatformDescription.load(root: root, board: board) } catch { throw fail(error.description) }
        let place = try resolve(root: root)
        return (platform, place, place.cluster(in: platform.topology))
    }
}

/// `socprof run`: images/s of a network, without counters.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a network on a cluster and report images/s (median and spread) and peak memory; no counters.",
        discussion: "Networks: \(NetworkCatalog.names.joined(separator: ", ")). Weights are deterministic (seeded); the input is a fixed pseudo-random image."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var placement: PlacementOptions
    @OptionGroup var numbers: PrecisionOptions

    @Argument(help: ArgumentHelp("The network.", valueName: "network"))
    var network: String

    @Option(help: "Timed images (the median and spread are over these).")
    var iterations: Int = 20

    @Option(help: "Untimed images first (caches, page faults, frequency).")
    var warmup: Int = 2

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Inside gem5 only: m5_reset_stats before each timed image and m5_dump_reset_stats after each layer, so that stats.txt has one dump per layer (aarch64 and 32-bit ARM builds; outside gem5 the CPU refuses the instruction and socprof stops with an error).")
    var m5ops = false

    @Option(help: ArgumentHelp("With --m5ops: where to write the order of the dumps (layers, MACs) for `socprof calibrate --manifest`.", valueName: "file.json"))
    var m5opsManifest: String = "socprof-m5ops.json"

    func validate() throws {
        try global.validateRoot()
        _ = try lookUpNetwork(network)
        if m5ops && !M5Ops.compiled {
            throw ValidationError("--m5ops needs an aarch64 or 32-bit ARM build of socprof (gem5's ARM m5op instructions); this build is for another architecture.")
        }
        guard (1...1_000_000).contains(iterations) else { throw ValidationError("--iterations \(iterations) must be 1 to 1000000.") }
        guard (0...1_000_000).contains(warmup) else { throw ValidationError("--warmup \(warmup) must be 0 to 1000000.") }
    }

    struct Result: Encodable {
        let network: String
        let precision: Precision
        let placement: String
        let threads: Int
        let iterations: Int
        let images_per_second: Double
        let median_ms: Double
        let min_ms: Double
        let max_ms: Double
        let p10_ms: Double
        let p90_ms: Double
        let gops_per_image: Double
        /// The weights as the layers keep them (`NetworkRunner.weightBytes`).
        let weights_bytes: Int64
        /// The int8 GEMM kernel (Int8Kernel) the int8 convolutions ran; nil without them.
        let int8_kernel: String?
        let packed_weights_bytes: Int64
        let activation_bytes: Int64
        let activation_bytes_without_reuse: Int64
        let workspace_bytes: Int64
        let peak_rss_bytes: Int64
        /// Stopped by Ctrl-C or SIGTERM before `--iterations` images: the figures cover `iterations`.
        let interrupted: Bool
        /// int8 or int8-weights: the logits against fp32's (`--accuracy-images`); nil otherwise.
        let accuracy: QuantizationAccuracy?
    }

    func run() throws {
        let net = numbers.apply(to: try lookUpNetwork(network))
        let place = try placement.resolve(root: global.systemRoot)
        let (cpus, label) = (place.cpus, place.label)
        let pool = try pinnedPool(threads: placement.threads ?? cpus.count, cpus: cpus)
        if net.precision == .int8 && !json { Terminal.stderr("socprof run: calibrating int8 activations on \(numbers.calibrationImages) seeded image(s)") }
        let runner = NetworkRunner(network: net, pool: pool, calibrationImages: numbers.calibrationImages)
        runner.setDeterministicInput()
        // Ctrl-C or SIGTERM stops after the image in progress; the images done are reported.
        Interrupts.catchInterrupts()
        for _ in 0..<warmup where !Interrupts.received { runner.run() }
        if m5ops {
            let manifest = try M5Ops.prepare(network: net, threads: pool.count, iterations: iterations, manifest: m5opsManifest)
            if !json { Terminal.stderr("socprof run: --m5ops: \(manifest.dumps.count) dumps (\(iterations) image(s) x \(net.layers.count - 1) layers); their order is in \(m5opsManifest)") }
        }
        let times = ImageTiming.times(iterations: iterations, shouldStop: { Interrupts.received }, progress: { done, last in
            if !json { Terminal.stderr("  \(done)/\(iterations) images, last \(String(format: "%.1f", last * 1e3)) ms") }
        }) {
            if m5ops {
                var first = true
                _ = runner.run(beforeLayer: { _ in if first { M5Ops.call(.resetStats); first = false } },
                               afterLayer: { _ in M5Ops.call(.dumpResetStats) })
            } else {
                runner.run()
            }
        }
        guard let summary = ImageTimeSummary(seconds: times) else {
            throw fail("interrupted before the first timed image: nothing was measured", code: 130)
        }
        let interrupted = times.count < iterations
        let accuracy = interrupted ? nil : numbers.accuracy(of: runner, progress: { done in
            if !json && (done % 20 == 0 || done == numbers.accuracyImages) { Terminal.stderr("  accuracy: \(done)/\(numbers.accuracyImages) images") }
        })
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let r = Result(network: net.name, precision: net.precision, placement: label, threads: pool.count, iterations: summary.images,
                       images_per_second: summary.imagesPerSecond, median_ms: summary.medianMs, min_ms: summary.minMs, max_ms: summary.maxMs,
                       p10_ms: summary.p10Ms, p90_ms: summary.p90Ms, gops_per_image: Double(net.totalOps) / 1e9,
                       weights_bytes: runner.weightBytes, int8_kernel: runner.int8Kernel?.rawValue, packed_weights_bytes: runner.packedWeightBytes, activation_bytes: runner.activationBytes,
                       activation_bytes_without_reuse: Int64(runner.plan.unplannedBytes), workspace_bytes: runner.workspaceBytes,
                       peak_rss_bytes: Int64(usage.ru_maxrss) * 1024, interrupted: interrupted, accuracy: accuracy)
        if json {
            let enc = ReportJSON.encoder()
            print(String(decoding: try enc.encode(r), as: UTF8.self))
            if interrupted { throw CLIError.interrupted }
            return
        }
        func mib(_ b: Int64) -> String { String(format: "%.1f MiB", Double(b) / 1048576) }
        print("\(r.network)\(net.precision == .fp32 ? "" : " (\(net.precision.rawValue))") on \(label), \(r.threads) thread(s), \(times.count) images" + (interrupted ? " (interrupted after \(times.count) of \(iterations))" : "") + ":")
        print(String(format: "  %.2f images/s (median %.2f ms; min %.2f, p10 %.2f, p90 %.2f, max %.2f ms); %.2f GOP/image = %.1f GOP/s",
                     r.images_per_second, r.median_ms, r.min_ms, r.p10_ms, r.p90_ms, r.max_ms, r.gops_per_image, r.gops_per_image * r.images_per_second))
        print("  memory: weights \(mib(r.weights_bytes)) (+ \(mib(r.packed_weights_bytes)) packed for the GEMM), activations \(mib(r.activation_bytes)) (\(mib(r.activation_bytes_without_reuse)) without reuse), GEMM workspaces \(mib(r.workspace_bytes)); peak RSS \(mib(r.peak_rss_bytes))")
        if let kernel = runner.int8Kernel { print("  \(kernel.weightsSummary)") }
        if let a = accuracy {
            print(String(format: "  accuracy against fp32 on %d seeded images: top-1 agreement %.1f %%, fp32's top-1 in the top 5 %.1f %%, logit cosine mean %.5f (least %.5f), max logit error %.2g of the largest logit",
                         a.images, a.top1_agreement * 100, a.top5_contains_top1 * 100, a.mean_cosine, a.min_cosine, a.max_relative_logit_error))
        }
        if interrupted { throw CLIError.interrupted }
    }
}

/// `socprof networks`: the built-in networks, their layers and costs.
struct NetworksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "networks",
        abstract: "List the built-in networks with each layer's shape and cost (MACs, ops, bytes, OI_t); docs/cost-model.md.",
        discussion: "Without a name, every network."
    )

    @Argument(help: ArgumentHelp("Only this network.", valueName: "network"))
    var network: String?

    @Flag(help: "Print JSON: {\"networks\": [{\"name\", \"macs\", \"params\", \"layers\": [...]}]}.")
    var json = false

    @Option(help: ArgumentHelp("Write the network's seeded weights, its deterministic input and the logits and output socprof computes from them (1 thread) into this directory: index.json and tensors.f32 (float32, little-endian; NetworkExport). scripts/bench/onnx-outputs checks them against onnxruntime.", valueName: "dir"))
    var export: String?

    @Option(help: ArgumentHelp("With --export, also write this many calibration images (role \"calibration\": the seeded inputs socprof's int8 calibration runs on, CalibrationImages.seed(i)); scripts/bench/onnx_quantize.py calibrates onnxruntime's quantization on them.", valueName: "n"))
    var calibrationImages = 0

    @Option(help: ArgumentHelp("With --export, also write this many accuracy images (role \"accuracy\", CalibrationImages.accuracySeed(i)).", valueName: "n"))
    var accuracyImages = 0

    func validate() throws {
        if let network { _ = try lookUpNetwork(network) }
        if export != nil && network == nil { throw ValidationError("--export needs a network name: socprof networks NAME --export DIR") }
        if export != nil && json { throw ValidationError("--export and --json: give one of them") }
        for (option, n) in [("--calibration-images", calibrationImages), ("--accuracy-images", accuracyImages)] {
            if n < 0 { throw ValidationError("\(option) \(n): give a count of 0 or more") }
            if n > 0 && export == nil { throw ValidationError("\(option) needs --export DIR: socprof networks NAME --export DIR \(option) \(n)") }
        }
    }

    struct LayerEntry: Encodable {
        let name: String
        let kind: String
        let inputs: [String]
        let output: TensorShape
        let activation: String?
        let cost: LayerCost
    }

    struct Entry: Encodable {
        let name: String
        let input: TensorShape
        let macs: Int64
        let ops: Int64
        let params: Int64
        let param_bytes: Int64
        let min_bytes: Int64
        let layers: [LayerEntry]
    }

    func run() throws {
        if let export, let network {
            let exported = NetworkExport(network: try lookUpNetwork(network), pool: ThreadPool(threads: 1),
                                         calibrationImages: calibrationImages, accuracyImages: accuracyImages)
            let directory = URL(fileURLWithPath: export, isDirectory: true)
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try exported.withLittleEndianBytes { try Data($0).write(to: directory.appendingPathComponent(NetworkExport.dataFileName)) }
                try ReportJSON.encoder().encode(exported.index).write(to: directory.appendingPathComponent("index.json"))
            } catch { throw CLIError.failure("\(export): cannot write the export: \(error.localizedDescription)") }
            print("\(exported.index.network): \(exported.index.tensors.count) tensors, \(exported.dataBytes) bytes, in \(export)/index.json and \(NetworkExport.dataFileName)")
            return
        }
        let names = network.map { [$0.lowercased()] } ?? NetworkCatalog.names
        let entries = try names.map { name throws -> Entry in
            let net = try lookUpNetwork(name)
            let costs = net.costs()
            return Entry(name: name, input: net.input, macs: costs.reduce(0) { $0 + $1.macs }, ops: costs.reduce(0) { $0 + $1.ops },
                         params: net.totalParams, param_bytes: costs.reduce(0) { $0 + $1.paramBytes },
                         min_bytes: costs.reduce(0) { $0 + $1.minBytes },
                         layers: zip(net.layers, costs).map { l, c in
                             LayerEntry(name: l.name, kind: l.kind.name, inputs: l.inputs.map { net.layers[$0].name }, output: l.output,
                                        activation: l.activation?.rawValue, cost: c)
                         })
        }
        if json {
            let enc = ReportJSON.encoder()
            print(String(decoding: try enc.encode(["networks": entries]), as: UTF8.self))
            return
        }
        for e in entries {
            print(String(format: "%@: input %@, %.3f GMAC, %.3f GOP, %.2f M params, %d layers", e.name, e.input.description,
                         Double(e.macs) / 1e9, Double(e.ops) / 1e9, Double(e.params) / 1e6, e.layers.count))
            if network != nil {
                print("  " + "layer".rightPad(34) + "kind".rightPad(9) + "output".rightPad(14) + "MMAC".leftPad(9) + "params KiB".leftPad(12) + "min KiB".leftPad(10) + "OI_t".leftPad(8))
                for l in e.layers {
                    print("  " + l.name.rightPad(34) + l.kind.rightPad(9) + l.output.description.rightPad(14) +
                          String(format: "%9.2f%12.1f%10.1f%8.2f", Double(l.cost.macs) / 1e6, Double(l.cost.paramBytes) / 1024,
                                 Double(l.cost.minBytes) / 1024, l.cost.oiTheoretical))
                }
            }
        }
    }
}
