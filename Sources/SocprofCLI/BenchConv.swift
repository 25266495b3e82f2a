import ArgumentParser
import Foundation
import Platform
import Kernels
import Networks

/// `socprof bench conv`: convolution layers of a network, beside the GEMM rate in the same run.
struct ConvBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "GFLOP/s of a network's GEMM convolution layers (depthwise left out), beside SGEMM's rate measured in the same run.",
        discussion: "Example: socprof bench conv --network resnet50 --kernel 3 (ResNet-50's 3x3 convolutions)."
    )

    @Option(help: "The network.") var network: String = "resnet50"
    @Option(help: ArgumentHelp("Only this layer.", valueName: "name")) var layer: String?
    @Option(help: ArgumentHelp("Only convolutions with this kernel size (e.g. 3).", valueName: "k")) var kernel: Int?
    @OptionGroup var options: KernelBenchOptions

    func validate() throws {
        let net = try lookUpNetwork(network)
        if let layer, !net.layers.contains(where: { $0.name == layer }) { throw ValidationError("\(network) has no layer '\(layer)'.") }
    }

    struct Row: Encodable {
        let layer: String
        let shape: String
        let gflop: Double
        let ms: Double
        let gflops: Double
    }

    func run() throws {
        let net = NetworkCatalog.network(named: network.lowercased())!
        let pool = try options.makePool()
        let runner = NetworkRunner(network: net, pool: pool)
        runner.setDeterministicInput()
        let costs = net.costs()
        // The reference: SGEMM 1024^3 on the same threads, timed before and after the layers.
        let ws = (0..<pool.count).map { _ in GEMM.Workspace() }
        let n = 1024
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var cm = [Float](repeating: 0, count: n * n)
        func gemmSeconds() -> Double {
            a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in cm.withUnsafeMutableBufferPointer { c in
                options.median { GEMM.multiply(m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, c: c.baseAddress!, ldc: n, pool: pool, workspaces: ws) }
            } } }
        }
        let gemmBefore = gemmSeconds()
        var rows: [Row] = []
        var totalFlop = 0.0, totalSeconds = 0.0
        var done = 0 // layers run so far on the current image
        for (i, l) in net.layers.enumerated() {
            guard case .convolution(let c) = l.kind else { continue }
            if let layer, l.name != layer { continue }
            if let kernel, c.kernelH != kernel { continue }
            // Depthwise convolutions use a direct kernel, not the GEMM: left out of the comparison.
            if c.groups > 1 && c.groups == c.outputChannels && layer == nil { continue }
            // The layer's input must be what the network computed: run the layers before it (a
            // layer's output slot never overlaps its inputs, so repeating it keeps them intact).
            for j in (done + 1)..<i { runner.runLayer(j) }
            done = i
            let seconds = options.median { runner.runLayer(i) }
            let flop = 2 * Double(costs[i].macs)
            totalFlop += flop
            totalSeconds += seconds
            let x = net.layers[l.inputs[0]].output
            rows.append(Row(layer: l.name, shape: "\(x) -> \(l.output) k\(c.kernelH) s\(c.strideH) g\(c.groups)",
                            gflop: flop / 1e9, ms: seconds * 1e3, gflops: flop / seconds / 1e9))
        }
        let gemmAfter = gemmSeconds()
        let gemmRate = 2 * Double(n * n * n) / ((gemmBefore + gemmAfter) / 2) / 1e9
        let convRate = totalSeconds > 0 ? totalFlop / totalSeconds / 1e9 : 0
        if options.json {
            let enc = ReportJSON.encoder()
            struct Doc: Encodable { let layers: [Row]; let conv_gflops: Double; let gemm_gflops: Double; let ratio: Double; let threads: Int }
            print(String(decoding: try enc.encode(Doc(layers: rows, conv_gflops: convRate, gemm_gflops: gemmRate, ratio: convRate / gemmRate, threads: pool.count)), as: UTF8.self))
            return
        }
        for r in rows { print("  " + r.layer.rightPad(28) + r.shape.rightPad(44) + String(format: "%8.3f ms %8.1f GFLOP/s", r.ms, r.gflops)) }
        print(String(format: "%@ convolutions%@, %d thread(s): %.1f GFLOP/s over %.2f GFLOP; SGEMM 1024^3 in the same run: %.1f GFLOP/s; ratio %.2f",
                     network, kernel.map { " \($0)x\($0)" } ?? "", pool.count, convRate, totalFlop / 1e9, gemmRate, convRate / gemmRate))
    }
}
