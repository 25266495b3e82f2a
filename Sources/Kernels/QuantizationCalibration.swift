import Networks

/// The range of each layer's output over calibration images: what per-tensor activation
/// quantization is chosen from.
public struct ActivationRanges: Sendable, Equatable {
    /// By layer of the fp32 network: the least and the greatest value of its output over every
    /// image (after the fused activation).
    public var min: [Float]
    public var max: [Float]
    /// Images they were taken over.
    public var images: Int

    public init(min: [Float], max: [Float], images: Int) {
        precondition(min.count == max.count, "a least and a greatest value per layer")
        self.min = min
        self.max = max
        self.images = images
    }
}

/// Calibration of an int8 network's activations (min/max, as TFLite's and ARM Compute Library's
/// post-training quantization by default): the network's fp32 form runs on the seeded calibration
/// images (`CalibrationImages`); each tensor an int8 layer writes is quantized per tensor,
/// asymmetric uint8, to cover the least and the greatest value it took (and 0, which must be
/// exact: it is the convolutions' padding).
public enum QuantizationCalibration {
    /// Runs `runner` (an fp32 network) on `images` calibration images and records each layer's
    /// output range. The runner's input holds the last image afterwards.
    public static func ranges(runner: NetworkRunner, images: Int) -> ActivationRanges {
        precondition(runner.network.precision == .fp32, "calibration runs the fp32 network")
        precondition(runner.fusion.count == 0, "calibration reads every layer's own output: a runner without fused adds")
        precondition(images > 0, "calibration needs at least one image")
        let n = runner.network.layers.count
        var lo = [Float](repeating: .infinity, count: n), hi = [Float](repeating: -.infinity, count: n)
        for image in 0..<images {
            runner.setDeterministicInput(seed: CalibrationImages.seed(image))
            let record = { (i: Int) in
                // The values, not a blocked layout's padding channels (0).
                let (a, b) = runner.layout.blocked[i] ? extent(runner.values(of: i), lo[i], hi[i]) : extent(runner.output(of: i), lo[i], hi[i])
                lo[i] = a
                hi[i] = b
            }
            record(0)
            runner.run(afterLayer: record)
        }
        return ActivationRanges(min: lo, max: hi, images: images)
    }

    /// The least and greatest of `lo`, `hi` and `values`.
    static func extent<C: Collection<Float>>(_ values: C, _ lo: Float, _ hi: Float) -> (Float, Float) {
        var a = lo, b = hi
        for v in values {
            a = Swift.min(a, v)
            b = Swift.max(b, v)
        }
        return (a, b)
    }

    /// The quantization of each layer's output of `network` (int8), by layer: for an int8 layer
    /// and a quantize layer, `QuantParams.covering` the range of the fp32 tensor it stands for,
    /// except pooling, whose output keeps its input's (the int8 kernels require it); nil for
    /// layers that store fp32. `ranges` are by layer of `network.fp32Form`.
    public static func parameters(for network: Network, ranges: ActivationRanges) -> [QuantParams?] {
        let index = network.fp32Indices
        var out = [QuantParams?](repeating: nil, count: network.layers.count)
        for (i, l) in network.layers.enumerated() where l.precision == .int8 {
            if case .pooling = l.kind, let input = out[l.inputs[0]] {
                out[i] = input
                continue
            }
            // A quantize layer stands for the tensor it converts.
            let tensor = l.kind == .quantize ? l.inputs[0] : i
            guard let k = index[tensor] else { preconditionFailure("\(l.name) converts a converted tensor") }
            out[i] = QuantParams.covering(min: ranges.min[k], max: ranges.max[k])
        }
        return out
    }
}
