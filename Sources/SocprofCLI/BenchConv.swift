import ArgumentParser
import Experiments
import Foundation
import Platform
import Kernels
import Networks

/// `socprof bench conv`: convolution layers of a network, beside the GEMM rate in the same run.
struct ConvBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "GFLOP/s of a network's GEMM convolution layers (depthwise left out), with the GEMM and with Winograd F(4x4,3x3) where it applies, beside SGEMM's rate measured in the same run.",
        discussion: """
            Each layer is timed with the GEMM and, for 3x3 stride-1 ungrouped layers, with Winograd, one after the other;             Winograd's GFLOP/s are effective: the direct convolution's 2 x MACs over its time. 'used' is the algorithm a             network run picks (SOCPROF_CONV_ALGORITHM=auto|gemm|winograd).             Example: socprof bench conv --network resnet50 --kernel 3 (ResNet-50's 3x3 convolutions).
            """
    )

    @Option(help: "The network.") var network: String = "resnet50"
    @Option(help: ArgumentHelp("Only this layer.", valueName: "name")) var layer: String?
    @Option(help: ArgumentHelp("Only convolutions with this kernel size (e.g. 3).", valueName: "k")) var kernel: Int?
    @OptionGroup var options: KernelBenchOptions

    func validate() throws {
        let net = try lookUpNetwork(network)
        if let layer, !net.layers.contains(where: { $0.name == layer }) { throw ValidationError("\(network) has no layer '\(layer)'.") }
        // No layer timed would print 0 GFLOP/s: refuse instead.
        if ConvBenchmark.selected(network: net, layer: layer, kernel: kernel).isEmpty {
            throw ValidationError("\(network) has no GEMM convolution" + (layer.map { " named '\($0)'" } ?? "") +
                                  (kernel.map { " with a \($0)x\($0) kernel" } ?? "") + " (depthwise layers run a direct kernel).")
        }
    }

    func run() throws {
        let net = try lookUpNetwork(network)
        let result = ConvBenchmark.run(network: net, pool: try options.makePool(), layer: layer, kernel: kernel,
                                       timing: options.timing)
        if options.json {
            print(String(decoding: try ReportJSON.encoder().encode(result), as: UTF8.self))
            return
        }
        print("  " + "layer".rightPad(28) + "shape".rightPad(44) + "gemm ms".leftPad(9) + "GFLOP/s".leftPad(9)
              + "wino ms".leftPad(9) + "GFLOP/s*".leftPad(9) + "  used")
        for r in result.layers {
            let winograd = r.winograd_ms.map { String(format: "%9.3f", $0) } ?? "-".leftPad(9)
            let winogradRate = r.winograd_gflops.map { String(format: "%9.1f", $0) } ?? "-".leftPad(9)
            print("  " + r.layer.rightPad(28) + r.shape.rightPad(44) + String(format: "%9.3f%9.1f", r.gemm_ms, r.gemm_gflops)
                  + winograd + winogradRate + "  " + r.algorithm)
        }
        print("  (* Winograd: effective GFLOP/s, the direct convolution's 2 x MACs over its time)")
        print(String(format: "%@ convolutions%@, %d thread(s): %.1f GFLOP/s over %.2f GFLOP with the algorithms used, %.1f with the GEMM only (%.2fx); SGEMM 1024^3 in the same run: %.1f GFLOP/s; ratio %.2f",
                     network, kernel.map { " \($0)x\($0)" } ?? "", result.threads, result.conv_gflops, result.totalGFLOP, result.conv_gemm_gflops,
                     result.conv_gemm_gflops > 0 ? result.conv_gflops / result.conv_gemm_gflops : 0, result.gemm_gflops, result.ratio))
    }
}
