import ArgumentParser
import Experiments
import Foundation
import LinuxSystem
import Platform
import Kernels
import Networks

/// `socprof bench conv`: convolution layers of a network, beside the GEMM rate in the same run;
/// or, with `--depthwise`, its depthwise layers as GB/s beside the bandwidths measured in the same run.
struct ConvBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "GFLOP/s of a network's GEMM convolution layers (depthwise left out), with the GEMM, with Winograd F(4x4,3x3) and with the direct kernel where they apply, beside SGEMM's rate measured in the same run; or its depthwise layers' GB/s beside the DRAM and L2 bandwidth (--depthwise).",
        discussion: """
            Each layer is timed on the input the network computed for it, with the GEMM, for 3x3 \
            stride-1 ungrouped layers with Winograd, and for layers with at most 4 input channels \
            with the direct kernel (AVX-512 CPUs), one after the other; Winograd's GFLOP/s are \
            effective: the direct convolution's 2 x MACs over its time. 'used' is the algorithm a \
            network run picks (SOCPROF_CONV_ALGORITHM=auto|gemm|winograd). --precision int8 times \
            each layer a second time as int8 (weights quantized per output channel, input and output \
            quantized per tensor over the fp32 layer's actual values; the input is quantized before \
            the timing) and prints GOP/s beside the fp32 GFLOP/s of the algorithm used. --depthwise times the depthwise \
            layers (fp32) and prints their GB/s: the cost model's least bytes (input + output + \
            weights and bias at fp32, each once) over the median time, beside the DRAM read and copy \
            bandwidth and the L2 (and L3) read bandwidth measured in the same run on the same threads \
            by the kernels of `socprof ceilings`. \
            Examples: socprof bench conv --network resnet50 --kernel 3 (ResNet-50's 3x3 convolutions); \
            socprof bench conv --network mobilenet --kernel 1 --precision int8; socprof bench conv --network mobilenet --depthwise.
            """
    )

    @Option(help: "The network.") var network: String = "resnet50"
    @Option(help: ArgumentHelp("Only this layer.", valueName: "name")) var layer: String?
    @Option(help: ArgumentHelp("Only convolutions with this kernel size (e.g. 3).", valueName: "k")) var kernel: Int?
    @Flag(help: "Time the depthwise convolutions (fp32) and print GB/s beside the DRAM and L2 bandwidth measured in the same run.")
    var depthwise = false
    @Option(help: "Arithmetic: fp32, or int8 beside fp32 (int8-weights is not measured here).")
    var precision: Precision = .fp32
    @Option(help: ArgumentHelp("With --depthwise: the DRAM working set per thread, MiB (as `socprof ceilings --max-mib`; less where the threads' sets would pass a quarter of memory).", valueName: "mib"))
    var maxMib: Int?
    @OptionGroup var options: KernelBenchOptions

    func validate() throws {
        let net = try lookUpNetwork(network)
        if let layer, !net.layers.contains(where: { $0.name == layer }) { throw ValidationError("\(network) has no layer '\(layer)'.") }
        guard ConvBenchmark.precisions.contains(precision) else {
            throw ValidationError("bench conv measures --precision \(ConvBenchmark.precisions.map(\.rawValue).joined(separator: " or ")), not \(precision.rawValue) (8-bit weights expanded to fp32 have no kernel here yet).")
        }
        if let maxMib {
            guard depthwise else { throw ValidationError("--max-mib sets the DRAM working set of --depthwise; add --depthwise or leave it out.") }
            // Bytes per thread are an Int: at most 1 GiB where Int has 32 bits (armv7).
            let limit = MemoryLayout<Int>.size == 8 ? 8192 : 1024
            guard (8...limit).contains(maxMib) else { throw ValidationError("--max-mib \(maxMib) must be 8 to \(limit).") }
        }
        // No layer timed would print 0 GFLOP/s or 0 GB/s: refuse instead.
        let what = (layer.map { " named '\($0)'" } ?? "") + (kernel.map { " with a \($0)x\($0) kernel" } ?? "")
        if depthwise {
            if precision != .fp32 {
                throw ValidationError("--depthwise times the fp32 depthwise kernel; --precision \(precision.rawValue) is for the GEMM convolutions (leave out --depthwise).")
            }
            if DepthwiseBenchmark.selected(network: net, layer: layer, kernel: kernel).isEmpty {
                throw ValidationError("\(network) has no depthwise convolution" + what + ".")
            }
        } else if ConvBenchmark.selected(network: net, layer: layer, kernel: kernel).isEmpty {
            throw ValidationError("\(network) has no GEMM convolution" + what + " (depthwise layers run a direct kernel; --depthwise times them).")
        }
    }

    func run() throws {
        let net = try lookUpNetwork(network)
        let pool = try options.makePool()
        if depthwise {
            let platform = try? PlatformDescription.load(root: SystemRoot.resolve(explicit: nil))
            let sets = BandwidthRoof.WorkingSets(platform: platform, cpus: pool.cpus, threads: pool.count, dramRequested: (maxMib ?? 256) << 20)
            let result = DepthwiseBenchmark.run(network: net, pool: pool, layer: layer, kernel: kernel, sets: sets, timing: options.timing)
            if options.json { return print(String(decoding: try ReportJSON.encoder().encode(result), as: UTF8.self)) }
            printDepthwise(result)
            return
        }
        let result = ConvBenchmark.run(network: net, pool: pool, layer: layer, kernel: kernel, precision: precision, timing: options.timing)
        if options.json { return print(String(decoding: try ReportJSON.encoder().encode(result), as: UTF8.self)) }
        print("  " + "layer".rightPad(28) + "shape".rightPad(44) + "gemm ms".leftPad(9) + "GFLOP/s".leftPad(9)
              + "wino ms".leftPad(9) + "GFLOP/s*".leftPad(9) + "direct ms".leftPad(10) + "GFLOP/s".leftPad(9)
              + "blocked ms".leftPad(11) + "GFLOP/s".leftPad(9) + "  used"
              + (precision == .int8 ? "          int8 ms    GOP/s  /fp32" : ""))
        func cell(_ x: Double?, _ format: String, _ width: Int) -> String { x.map { String(format: format, $0) } ?? "-".leftPad(width) }
        for r in result.layers {
            var line = "  " + r.layer.rightPad(28) + r.shape.rightPad(44) + String(format: "%9.3f%9.1f", r.gemm_ms, r.gemm_gflops)
                + cell(r.winograd_ms, "%9.3f", 9) + cell(r.winograd_gflops, "%9.1f", 9)
                + cell(r.direct_ms, "%10.3f", 10) + cell(r.direct_gflops, "%9.1f", 9)
                + cell(r.blocked_ms, "%11.3f", 11) + cell(r.blocked_gflops, "%9.1f", 9) + "  " + r.algorithm.rightPad(14)
            if let ms = r.int8_ms, let gops = r.int8_gops, let ratio = r.int8_over_fp32 {
                line += String(format: "%9.3f %8.1f  x%.2f", ms, gops, ratio)
            }
            print(line)
        }
        print("  (* Winograd: effective GFLOP/s, the direct convolution's 2 x MACs over its time)")
        print(String(format: "%@ convolutions%@, %d thread(s): %.1f GFLOP/s over %.2f GFLOP with the algorithms used, %.1f with the GEMM only (%.2fx); SGEMM 1024^3 in the same run: %.1f GFLOP/s; ratio %.2f",
                     network, kernel.map { " \($0)x\($0)" } ?? "", result.threads, result.conv_gflops, result.totalGFLOP, result.conv_gemm_gflops,
                     result.conv_gemm_gflops > 0 ? result.conv_gflops / result.conv_gemm_gflops : 0, result.gemm_gflops, result.ratio))
        if let gops = result.int8_conv_gops, let ratio = result.int8_over_fp32, let gemm = result.int8_gemm_gops {
            print(String(format: "%@ convolutions%@ in int8, %d thread(s): %.1f GOP/s, x%.2f fp32's (algorithms used); int8 GEMM 1024^3 in the same run: %.1f GOP/s",
                         network, kernel.map { " \($0)x\($0)" } ?? "", result.threads, gops, ratio, gemm))
        }
    }

    func printDepthwise(_ result: DepthwiseBenchmark) {
        func share(_ x: Double?) -> String { x.map { String(format: "%5.2f", $0) } ?? "    -" }
        print("  " + "layer".rightPad(40) + "shape".rightPad(36) + "    MB       ms     GB/s  GFLOP/s  /DRAM    /L2")
        for r in result.layers {
            print("  " + r.layer.rightPad(40) + r.shape.rightPad(36) +
                  String(format: "%6.2f %8.3f %8.1f %8.1f  ", Double(r.min_bytes) / 1e6, r.ms, r.gbs, r.gflops) + share(r.of_dram_read) + "  " + share(r.of_l2_read))
        }
        let roof = result.roof
        func level(_ name: String, _ gbs: Double?, _ bytes: Int64?) -> String {
            guard let gbs, let bytes else { return "\(name): no size known for this cache" }
            return String(format: "%@ read %.1f GB/s (%lld KiB per thread)", name, gbs, bytes >> 10)
        }
        print(String(format: "%@ depthwise%@, %d thread(s): %.1f GB/s over %.2f MB (the cost model's least bytes: input + output + weights and bias at fp32, each once)",
                     network, kernel.map { " \($0)x\($0)" } ?? "", result.threads, result.depthwise_gbs, Double(result.totalBytes) / 1e6))
        print(String(format: "  in the same run, %d thread(s): DRAM read %.1f GB/s, copy %.1f GB/s (%lld MiB per thread); ", roof.threads, roof.dram_read_gbs,
                     roof.dram_copy_gbs, roof.dram_bytes_per_thread >> 20) +
              level("L2", roof.l2_read_gbs, roof.l2_bytes_per_thread) + (roof.l3_read_gbs == nil ? "" : "; " + level("L3", roof.l3_read_gbs, roof.l3_bytes_per_thread)))
    }
}
