import Kernels
import Networks

/// `socprof bench conv`'s measurement: a network's GEMM convolution layers, each timed on the
/// input the network computed for it with the GEMM and, for 3x3 stride-1 ungrouped layers, with
/// Winograd F(4x4, 3x3), beside SGEMM 1024^3 timed on the same threads before and after them. The
/// JSON form is this value (keys as named).
public struct ConvBenchmark: Codable, Sendable {
    /// One convolution layer.
    public struct Layer: Codable, Sendable {
        public let layer: String
        /// "CxHxW -> CxHxW kK sS gG".
        public let shape: String
        /// 2 x MACs of the direct convolution, GFLOP.
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
    }

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

    /// Times the layers `selected` gives on `pool`, each with the GEMM and (where it applies)
    /// with Winograd, one after the other.
    public static func run(network net: Network, pool: ThreadPool, layer: String? = nil, kernel: Int? = nil,
                           timing: KernelTiming) -> ConvBenchmark {
        let chosen = selected(network: net, layer: layer, kernel: kernel)
        let applies = { (i: Int) -> Bool in
            if case .convolution(let c) = net.layers[i].kind { return ConvAlgorithm.winogradApplies(c) } else { return false }
        }
        // One runner per algorithm, on the same weights; Winograd's only when a layer can use it.
        let gemmRunner = NetworkRunner(network: net, pool: pool, policy: .gemm)
        let winogradRunner = chosen.contains(where: applies) ? NetworkRunner(network: net, pool: pool, policy: .winograd) : nil
        let runners = [gemmRunner] + (winogradRunner.map { [$0] } ?? [])
        for r in runners { r.setDeterministicInput() }
        let costs = net.costs()
        let ws = (0..<pool.count).map { _ in GEMM.Workspace() }
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
        var totalFlop = 0.0, totalSeconds = 0.0, totalGEMMSeconds = 0.0
        var done = 0 // layers run so far on the current image
        for i in chosen {
            let l = net.layers[i]
            guard case .convolution(let c) = l.kind else { continue }
            // The layer's input must be what the network computed: run the layers before it (a
            // layer's output slot never overlaps its inputs, so repeating it keeps them intact).
            for j in (done + 1)..<i { for r in runners { r.runLayer(j) } }
            done = i
            let gemm = timing.medianSeconds { gemmRunner.runLayer(i) }
            let winograd = applies(i) ? winogradRunner.map { r in timing.medianSeconds { r.runLayer(i) } } : nil
            let x = net.layers[l.inputs[0]].output
            let algorithm = ConvAlgorithm.choose(c, input: x, output: l.output)
            let seconds = algorithm == .winograd ? winograd ?? gemm : gemm
            let flop = 2 * Double(costs[i].macs)
            totalFlop += flop
            totalSeconds += seconds
            totalGEMMSeconds += gemm
            rows.append(Layer(layer: l.name, shape: "\(x) -> \(l.output) k\(c.kernelH) s\(c.strideH) g\(c.groups)",
                              gflop: flop / 1e9, algorithm: algorithm.rawValue, ms: seconds * 1e3, gflops: flop / seconds / 1e9,
                              gemm_ms: gemm * 1e3, gemm_gflops: flop / gemm / 1e9,
                              winograd_ms: winograd.map { $0 * 1e3 }, winograd_gflops: winograd.map { flop / $0 / 1e9 }))
        }
        let gemmAfter = gemmSeconds()
        let gemmRate = 2 * Double(n * n * n) / ((gemmBefore + gemmAfter) / 2) / 1e9
        let convRate = totalSeconds > 0 ? totalFlop / totalSeconds / 1e9 : 0
        let convGEMMRate = totalGEMMSeconds > 0 ? totalFlop / totalGEMMSeconds / 1e9 : 0
        return ConvBenchmark(layers: rows, conv_gflops: convRate, conv_gemm_gflops: convGEMMRate, gemm_gflops: gemmRate,
                             ratio: convRate / gemmRate, threads: pool.count)
    }
}
