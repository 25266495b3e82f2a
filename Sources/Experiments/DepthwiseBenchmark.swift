import Kernels
import Networks

/// `socprof bench conv --depthwise`'s measurement: a network's depthwise convolutions (fp32),
/// each timed on the input the network computed for it, as bandwidth: the cost model's least
/// bytes (`LayerCost.minBytes`: input + output + weights and bias at fp32, each once) over the
/// median time, beside the DRAM, L2 and L3 bandwidths measured in the same run on the same
/// threads (`BandwidthRoof`). The JSON form is this value (keys as named).
public struct DepthwiseBenchmark: Codable, Sendable {
    /// One depthwise layer.
    public struct Layer: Codable, Sendable, Equatable {
        public let layer: String
        /// "CxHxW -> CxHxW kK sS gG".
        public let shape: String
        /// The cost model's least bytes (`LayerCost.minBytes`), bytes.
        public let min_bytes: Int64
        /// 2 x MACs, GFLOP.
        public let gflop: Double
        /// Median time, ms.
        public let ms: Double
        /// `min_bytes` over the median time, GB/s (10^9 bytes/s).
        public let gbs: Double
        /// GFLOP/s.
        public let gflops: Double
        /// `gbs` over the roof's DRAM read bandwidth.
        public let of_dram_read: Double
        /// `gbs` over the roof's L2 read bandwidth; nil without one.
        public let of_l2_read: Double?

        /// The row of a layer of `cost` (the cost model's) that took `seconds` (median), set against `roof`.
        public init(layer: String, shape: String, cost: LayerCost, seconds: Double, roof: BandwidthRoof) {
            self.layer = layer
            self.shape = shape
            min_bytes = cost.minBytes
            gflop = 2 * Double(cost.macs) / 1e9
            ms = seconds * 1e3
            let gbs = DepthwiseBenchmark.gigabytesPerSecond(bytes: cost.minBytes, seconds: seconds)
            self.gbs = gbs
            gflops = gflop / seconds
            of_dram_read = gbs / roof.dram_read_gbs
            of_l2_read = roof.l2_read_gbs.map { gbs / $0 }
        }
    }

    public let layers: [Layer]
    /// All the layers' least bytes over all their median times, GB/s (0 when no layer was timed).
    public let depthwise_gbs: Double
    /// The bandwidths measured in the same run (before the layers).
    public let roof: BandwidthRoof
    public let threads: Int

    /// The layers' least bytes, bytes.
    public var totalBytes: Int64 { layers.reduce(0) { $0 + $1.min_bytes } }

    /// `bytes` moved in `seconds`, GB/s (10^9 bytes/s); 0 when no time passed.
    public static func gigabytesPerSecond(bytes: Int64, seconds: Double) -> Double {
        seconds > 0 ? Double(bytes) / seconds / 1e9 : 0
    }

    /// The indices of the layers `run` times: the depthwise convolutions of `net` (one filter per
    /// channel, groups == input channels == output channels > 1), only `layer` when given, only
    /// kernels of size `kernel` when given.
    public static func selected(network net: Network, layer: String? = nil, kernel: Int? = nil) -> [Int] {
        net.layers.indices.filter { i in
            let l = net.layers[i]
            guard case .convolution(let c) = l.kind, Int8LayerKernels.isDepthwise(c, inputChannels: net.layers[l.inputs[0]].output.c) else { return false }
            if let layer, l.name != layer { return false }
            if let kernel, c.kernelH != kernel { return false }
            return true
        }
    }

    /// Measures the roof at `sets` on `pool`, then times the layers `selected` gives.
    public static func run(network net: Network, pool: ThreadPool, layer: String? = nil, kernel: Int? = nil,
                           sets: BandwidthRoof.WorkingSets, timing: KernelTiming) -> DepthwiseBenchmark {
        let roof = BandwidthRoof.measure(pool: pool, sets: sets)
        let runner = NetworkRunner(network: net, pool: pool, layout: .nchw)
        runner.setDeterministicInput()
        let costs = net.costs()
        var rows: [Layer] = []
        var totalSeconds = 0.0
        ComputedInputs.forEach(selected(network: net, layer: layer, kernel: kernel), runner: runner) { i in
            let l = net.layers[i]
            guard case .convolution(let c) = l.kind else { return }
            let seconds = timing.medianSeconds { runner.runLayer(i) }
            totalSeconds += seconds
            let x = net.layers[l.inputs[0]].output
            rows.append(Layer(layer: l.name, shape: "\(x) -> \(l.output) k\(c.kernelH) s\(c.strideH) g\(c.groups)", cost: costs[i],
                              seconds: seconds, roof: roof))
        }
        let bytes = rows.reduce(Int64(0)) { $0 + $1.min_bytes }
        return DepthwiseBenchmark(layers: rows, depthwise_gbs: gigabytesPerSecond(bytes: bytes, seconds: totalSeconds), roof: roof,
                                  threads: pool.count)
    }
}
