import Networks

/// A network's seeded weights, its deterministic input and the output socprof computes from them,
/// as one run of float32 values with an index: what another runtime (onnxruntime, through
/// scripts/bench/onnx_outputs.py) needs to compute the same network on the same numbers and check
/// socprof's output. On request also the calibration images (`CalibrationImages.seed(i)`), for
/// another runtime to calibrate its quantization on socprof's data (scripts/bench/onnx_quantize.py),
/// and the accuracy images (`CalibrationImages.accuracySeed(i)`).
///
/// Layouts, in the order ONNX wants them: a convolution's weights are OIHW
/// `[outputChannels][inputChannels / groups][kernelH][kernelW]` (depthwise: `[c][1][kh][kw]`),
/// its bias `[outputChannels]`; a fully connected layer's weights are `[outputs][inputs]`, the
/// input flattened in c, h, w order (ONNX `Gemm` with `transB = 1` after `Flatten`). Batch
/// normalisation is already folded into every convolution's weights and bias, so every
/// convolution has a bias, even one whose cost model counts none (`Convolution.bias == false`).
/// The input and the activations are CHW, batch 1.
public struct NetworkExport: Sendable {
    /// One tensor: where its values lie in `values` and its shape.
    public struct Tensor: Sendable, Encodable, Equatable {
        /// "weights" or "bias" of a layer, or "input", "logits" (the input of a final softmax),
        /// "output" (the network's last layer), "calibration" or "accuracy" (an image of
        /// `CalibrationImages`, in the input layer's shape).
        public let role: String
        /// The socprof layer it belongs to (the input layer for "input", the last layer for "output").
        public let layer: String
        /// Dimensions, outermost first (OIHW for convolution weights, [outputs, inputs] for fully
        /// connected ones, [c, h, w] for activations).
        public let shape: [Int]
        /// Offset of the first value in the data file, in bytes.
        public let offset: Int64
        /// Number of float32 values.
        public let count: Int
        /// The `setDeterministicInput` seed of a "calibration" or "accuracy" image; absent (nil,
        /// not written to index.json) for every other tensor.
        public var seed: UInt64? = nil
    }

    /// The index written beside the data (index.json).
    public struct Index: Sendable, Encodable {
        /// The network's name (`NetworkCatalog`).
        public let network: String
        /// `NetworkWeights`'s seed and `NetworkRunner.setDeterministicInput`'s.
        public let weight_seed: UInt64
        public let input_seed: UInt64
        /// Threads the output was computed on.
        public let threads: Int
        /// The data file's name, next to index.json.
        public let data: String
        /// The values' encoding in the data file.
        public let dtype: String
        /// The tensors' layouts, in words.
        public let layout: String
        /// Every tensor, in the data file's order: weights and bias of each weighted layer in
        /// network order, then the input, the logits (when the last layer is a softmax), the output,
        /// then the calibration images and the accuracy images, each in seed order.
        public let tensors: [Tensor]
    }

    /// What the data holds and where.
    public let index: Index
    /// Every tensor's values, one after another in `index.tensors` order.
    public let values: [Float]

    /// Bytes of the data file.
    public var dataBytes: Int64 { Int64(values.count) * 4 }

    /// The data file's name next to index.json.
    public static let dataFileName = "tensors.f32"

    /// Builds a runner for `network` (weights from `weightSeed`), sets the deterministic input
    /// from `inputSeed`, runs one image on `pool` and collects the weights the runner used, the
    /// input, the logits (when the last layer is a softmax) and the output; then the first
    /// `calibrationImages` calibration images and `accuracyImages` accuracy images, each as the
    /// runner's `setDeterministicInput(seed:)` writes it (`CalibrationImages.seed(i)`,
    /// `CalibrationImages.accuracySeed(i)`), 600 KiB per 224x224 image.
    public init(network: Network, pool: ThreadPool, weightSeed: UInt64 = 1, inputSeed: UInt64 = 7,
                calibrationImages: Int = 0, accuracyImages: Int = 0) {
        precondition(calibrationImages >= 0 && accuracyImages >= 0, "negative image counts")
        let runner = NetworkRunner(network: network, pool: pool, seed: weightSeed)
        runner.setDeterministicInput(seed: inputSeed)
        var tensors: [Tensor] = []
        var values: [Float] = []
        func append(_ role: String, _ layer: String, _ shape: [Int], _ buffer: UnsafeBufferPointer<Float>, seed: UInt64? = nil) {
            precondition(shape.reduce(1, *) == buffer.count, "\(layer) \(role): shape \(shape) is not \(buffer.count) values")
            tensors.append(Tensor(role: role, layer: layer, shape: shape, offset: Int64(values.count) * 4, count: buffer.count, seed: seed))
            values.append(contentsOf: buffer)
        }
        let weights = runner.weights
        for (i, layer) in network.layers.enumerated() {
            guard let w = weights.weights[i], let b = weights.biases[i] else { continue }
            let x = network.layers[layer.inputs[0]].output
            switch layer.kind {
            case .convolution(let c):
                append("weights", layer.name, [c.outputChannels, x.c / c.groups, c.kernelH, c.kernelW], UnsafeBufferPointer(w))
                append("bias", layer.name, [c.outputChannels], UnsafeBufferPointer(b))
            case .fullyConnected(let outputs):
                append("weights", layer.name, [outputs, x.count], UnsafeBufferPointer(w))
                append("bias", layer.name, [outputs], UnsafeBufferPointer(b))
            default:
                preconditionFailure("\(layer.name): weights for a layer without parameters")
            }
        }
        let input = network.layers[0]
        append("input", input.name, [input.output.c, input.output.h, input.output.w], UnsafeBufferPointer(runner.output(of: 0)))
        let last = network.layers.count - 1
        // The logits live in the arena only until a later layer reuses their slot: copied as the
        // layer before the softmax finishes.
        let logitsLayer: Int? = if case .softmax = network.layers[last].kind { network.layers[last].inputs[0] } else { nil }
        var logits: [Float] = []
        runner.run(afterLayer: { i in if i == logitsLayer { logits = runner.values(of: i) } })
        if let logitsLayer {
            let s = network.layers[logitsLayer].output
            logits.withUnsafeBufferPointer { append("logits", network.layers[logitsLayer].name, [s.c, s.h, s.w], $0) }
        }
        let s = network.layers[last].output
        append("output", network.layers[last].name, [s.c, s.h, s.w], UnsafeBufferPointer(runner.output(of: last)))
        // The images last: each overwrites the runner's input, which the tensors above no longer need.
        let images = (0..<calibrationImages).map { ("calibration", CalibrationImages.seed($0)) } +
                     (0..<accuracyImages).map { ("accuracy", CalibrationImages.accuracySeed($0)) }
        for (role, seed) in images {
            runner.setDeterministicInput(seed: seed)
            append(role, input.name, [input.output.c, input.output.h, input.output.w], UnsafeBufferPointer(runner.output(of: 0)), seed: seed)
        }
        index = Index(network: network.name, weight_seed: weightSeed, input_seed: inputSeed, threads: pool.count,
                      data: Self.dataFileName, dtype: "float32, little-endian (numpy '<f4')",
                      layout: "convolution weights OIHW [out, in/groups, kh, kw]; fully connected [outputs, inputs]; " +
                              "activations CHW, batch 1; batch norm folded into the convolutions' weights and bias",
                      tensors: tensors)
        self.values = values
    }

    /// The tensor of `role` for `layer`, if exported.
    public func tensor(_ role: String, of layer: String) -> Tensor? {
        index.tensors.first { $0.role == role && $0.layer == layer }
    }

    /// The values of `tensor`.
    public func values(of tensor: Tensor) -> ArraySlice<Float> {
        let start = Int(tensor.offset / 4)
        return values[start..<(start + tensor.count)]
    }

    /// Calls `body` with the data file's bytes: every value as float32, little-endian.
    public func withLittleEndianBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        #if _endian(little)
        return try values.withUnsafeBytes(body)
        #else
        return try values.map { $0.bitPattern.littleEndian }.withUnsafeBytes(body)
        #endif
    }
}
