import Kernels
import Networks

/// `socprof bench conv`'s measurement: a network's GEMM convolution layers, each timed on the
/// input the network computed for it with the GEMM and, for 3x3 stride-1 ungrouped layers, with
/// Winograd F(4x4, 3x3), for layers with few input channels with the direct kernel (where this
/// CPU runs it), beside SGEMM 1024^3 timed on the same threads before and after them.
/// With int8 (`Precision.int8`), each layer is also timed as `QuantizedConvLayer` runs it (the
/// int8 kernel on the input quantized beforehand, untimed), right after its fp32 timing, and the
/// int8 GEMM 1024^3 is timed after the layers. The JSON form is this value (keys as named; the
/// int8 keys only with int8).
public struct ConvBenchmark: Codable, Sendable {
    /// One convolution layer.
    public struct Layer: Codable, Sendable {
        public let layer: String
        /// "CxHxW -> CxHxW kK sS gG".
        public let shape: String
        /// 2 x MACs of the direct convolution, GFLOP (the int8 layer does as many operations, GOP).
        public let gflop: Double
        /// The algorithm a network run uses for it (`ConvAlgorithm`'s name, under
        /// SOCPROF_CONV_ALGORITHM), and its median time (one of the two below), ms.
        public let algorithm: String
        public let ms: Double
        public let gflops: Double
        /// The GEMM (im2col, or the input as is for 1x1): median time, ms, and GFLOP/s.
        public let gemm_ms: Double
        public let gemm_gflops: Double
        /// Winograd F(4x4, 3x3), for 3x3 stride-1 ungrouped layers (else absent): median time, ms,
        /// and effective GFLOP/s (the direct convolution's 2 x MACs over the time).
        public let winograd_ms: Double?
        public let winograd_gflops: Double?
        /// The direct kernel (`ConvAlgorithm.direct`), where it applies on this CPU (else
        /// absent): median time, ms, and GFLOP/s.
        public var direct_ms: Double? = nil
        public var direct_gflops: Double? = nil
        /// The blocked kernel (`BlockedConvolution`, NCHW8c in and out; the network's input layer
        /// NCHW in), where it applies: median time, ms, and GFLOP/s.
        public var blocked_ms: Double? = nil
        public var blocked_gflops: Double? = nil
        /// int8: median time of the int8 kernel, ms.
        public var int8_ms: Double? = nil
        /// int8: 2 x MACs over `int8_ms`, GOP/s.
        public var int8_gops: Double? = nil
        /// int8: `int8_gops / gflops` (the same operations: the speed-up of int8 over fp32 as a
        /// network run computes the layer).
        public var int8_over_fp32: Double? = nil
    }

    /// The layers' arithmetic: fp32 or int8 (fp32 and int8 side by side).
    public let precision: Precision
    public let layers: [Layer]
    /// All the layers' FLOP over all their median times with the algorithm each uses, GFLOP/s
    /// (0 when no layer was timed).
    public let conv_gflops: Double
    /// The same with the GEMM for every layer, GFLOP/s.
    public let conv_gemm_gflops: Double
    /// SGEMM 1024^3, the mean of its median times before and after the layers, GFLOP/s.
    public let gemm_gflops: Double
    /// conv_gflops / gemm_gflops.
    public let ratio: Double
    public let threads: Int

    /// int8: all the layers' operations over all their int8 median times, GOP/s.
    public var int8_conv_gops: Double? = nil
    /// int8: `int8_conv_gops / conv_gflops`.
    public var int8_over_fp32: Double? = nil
    /// int8: the int8 GEMM 1024^3 (`Int8GEMMBenchmark`) on the same threads after the layers, GOP/s.
    public var int8_gemm_gops: Double? = nil

    /// The precisions `run` measures: fp32, and int8 beside fp32 (not int8-weights).
    public static let precisions: [Precision] = [.fp32, .int8]

    /// The layers' FLOP, GFLOP.
    public var totalGFLOP: Double { layers.reduce(0) { $0 + $1.gflop } }

    /// The indices of the layers `run` times: the convolutions of `net`, only `layer` when given,
    /// only kernels of size `kernel` when given; depthwise layers (a direct kernel, not the GEMM)
    /// are left out unless `layer` names one.
    public static func selected(network net: Network, layer: String? = nil, kernel: Int? = nil) -> [Int] {
        net.layers.indices.filter { i in
            let l = net.layers[i]
            guard case .convolution(let c) = l.kind else { return false }
            if let layer, l.name != layer { return false }
            if let kernel, c.kernelH != kernel { return false }
            return !(c.groups > 1 && c.groups == c.outputChannels && layer == nil)
        }
    }

    /// Times the layers `selected` gives on `pool`, each with the GEMM and (where they apply)
    /// with Winograd and with the direct kernel, one after the other.
    /// In fp32 and, with `.int8`, in int8 too.
    public static func run(network net: Network, pool: ThreadPool, layer: String? = nil, kernel: Int? = nil,
                           precision: Precision = .fp32, timing: KernelTiming) -> ConvBenchmark {
        precondition(precisions.contains(precision), "bench conv measures \(precisions.map(\.rawValue)), not \(precision.rawValue)")
        let chosen = selected(network: net, layer: layer, kernel: kernel)
        let applies = { (i: Int) -> Bool in
            if case .convolution(let c) = net.layers[i].kind { return ConvAlgorithm.winogradApplies(c) } else { return false }
        }
        let direct = { (i: Int) -> Bool in
            guard case .convolution(let c) = net.layers[i].kind else { return false }
            return ConvAlgorithm.directApplies(c, input: net.layers[net.layers[i].inputs[0]].output, output: net.layers[i].output)
        }
        // One runner per algorithm, on the same weights, NCHW; Winograd's and the direct kernel's
        // only when a layer can use them (the direct kernel runs under `auto` where it applies).
        // No add is fused: a layer's time is its convolution's alone. The blocked kernel is timed
        // on its own (`blockedSeconds`).
        let gemmRunner = NetworkRunner(network: net, pool: pool, policy: .gemm, layout: .nchw, fuseResidualAdds: false)
        let winogradRunner = chosen.contains(where: applies) ? NetworkRunner(network: net, pool: pool, policy: .winograd, layout: .nchw, fuseResidualAdds: false) : nil
        let directRunner = chosen.contains(where: direct) ? NetworkRunner(network: net, pool: pool, policy: .auto, layout: .nchw, fuseResidualAdds: false) : nil
        let runners = [gemmRunner] + (winogradRunner.map { [$0] } ?? []) + (directRunner.map { [$0] } ?? [])
        for r in runners { r.setDeterministicInput() }
        let costs = net.costs()
        let ws = (0..<pool.count).map { _ in GEMM.Workspace() }
        let int8Workspaces = (0..<pool.count).map { _ in Int8GEMM.Workspace() }
        let n = 1024
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var cm = [Float](repeating: 0, count: n * n)
        func gemmSeconds() -> Double {
            a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in cm.withUnsafeMutableBufferPointer { c in
                timing.medianSeconds {
                    GEMM.multiply(m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, c: c.baseAddress!, ldc: n,
                                  pool: pool, workspaces: ws)
                }
            } } }
        }
        let gemmBefore = gemmSeconds()
        var rows: [Layer] = []
        var totalFlop = 0.0, totalSeconds = 0.0, totalGEMMSeconds = 0.0, totalInt8Seconds = 0.0
        ComputedInputs.forEach(chosen, runners: runners) { i in
            let l = net.layers[i]
            guard case .convolution(let c) = l.kind else { return }
            let gemm = timing.medianSeconds { gemmRunner.runLayer(i) }
            let winograd = applies(i) ? winogradRunner.map { r in timing.medianSeconds { r.runLayer(i) } } : nil
            let directSeconds = direct(i) ? directRunner.map { r in timing.medianSeconds { r.runLayer(i) } } : nil
            let x = net.layers[l.inputs[0]].output
            let algorithm = ConvAlgorithm.choose(c, input: x, output: l.output)
            let seconds = algorithm == .winograd ? winograd ?? gemm : algorithm == .direct ? directSeconds ?? gemm : gemm
            let flop = 2 * Double(costs[i].macs)
            totalFlop += flop
            totalSeconds += seconds
            totalGEMMSeconds += gemm
            var row = Layer(layer: l.name, shape: "\(x) -> \(l.output) k\(c.kernelH) s\(c.strideH) g\(c.groups)",
                            gflop: flop / 1e9, algorithm: algorithm.rawValue, ms: seconds * 1e3, gflops: flop / seconds / 1e9,
                            gemm_ms: gemm * 1e3, gemm_gflops: flop / gemm / 1e9,
                            winograd_ms: winograd.map { $0 * 1e3 }, winograd_gflops: winograd.map { flop / $0 / 1e9 })
            row.direct_ms = directSeconds.map { $0 * 1e3 }
            row.direct_gflops = directSeconds.map { flop / $0 / 1e9 }
            if BlockedConvolution.applies(c, inputChannels: x.c) {
                let blocked = blockedSeconds(gemmRunner, layer: i, pool: pool, timing: timing)
                row.blocked_ms = blocked * 1e3
                row.blocked_gflops = flop / blocked / 1e9
            }
            if precision == .int8 {
                let q = QuantizedConvLayer(runner: gemmRunner, layer: i, workspaces: int8Workspaces) // quantizes the input: not timed
                let int8Seconds = timing.medianSeconds { q.run() }
                totalInt8Seconds += int8Seconds
                row.int8_ms = int8Seconds * 1e3
                row.int8_gops = flop / int8Seconds / 1e9
                row.int8_over_fp32 = seconds / int8Seconds
            }
            rows.append(row)
        }
        let gemmAfter = gemmSeconds()
        let gemmRate = 2 * Double(n * n * n) / ((gemmBefore + gemmAfter) / 2) / 1e9
        let convRate = totalSeconds > 0 ? totalFlop / totalSeconds / 1e9 : 0
        let convGEMMRate = totalGEMMSeconds > 0 ? totalFlop / totalGEMMSeconds / 1e9 : 0
        var result = ConvBenchmark(precision: precision, layers: rows, conv_gflops: convRate, conv_gemm_gflops: convGEMMRate,
                                   gemm_gflops: gemmRate, ratio: convRate / gemmRate, threads: pool.count)
        if precision == .int8 {
            let int8Rate = totalInt8Seconds > 0 ? totalFlop / totalInt8Seconds / 1e9 : 0
            result.int8_conv_gops = int8Rate
            result.int8_over_fp32 = convRate > 0 ? int8Rate / convRate : 0
            result.int8_gemm_gops = Int8GEMMBenchmark.run(m: n, n: n, k: n, pool: pool, timing: timing).gops
        }
        return result
    }

    /// Layer `i` on the blocked kernel: its input (as `runner` computed it) blocked beforehand,
    /// unless it is the network's input (NCHW, as a network run reads it), the output blocked.
    static func blockedSeconds(_ runner: NetworkRunner, layer i: Int, pool: ThreadPool, timing: KernelTiming) -> Double {
        let net = runner.network, l = net.layers[i]
        guard case .convolution(let c) = l.kind else { return 0 }
        let from = l.inputs[0], x = net.layers[from].output, y = l.output
        let fromImage = net.layers[from].kind == .input
        let input = UnsafeMutablePointer<Float>.allocate(capacity: BlockedLayout.count(x))
        let output = UnsafeMutablePointer<Float>.allocate(capacity: BlockedLayout.count(y))
        defer { input.deallocate(); output.deallocate() }
        let source = runner.output(of: from)
        if fromImage {
            input.update(from: source.baseAddress!, count: x.count)
        } else {
            BlockedLayout.block(source.baseAddress!, x, into: input, pool: pool)
        }
        let w = BlockedConvWeights(c, inputChannels: x.c, weights: runner.weights.weights[i]!.baseAddress!, bias: runner.weights.biases[i]?.baseAddress)
        return timing.medianSeconds {
            BlockedConvolution.run(w, input: input, x: x, inputBlocked: !fromImage, output: output, y: y, outputBlocked: true,
                                   activation: l.activation, pool: pool)
        }
    }
}
