import Networks

/// Which element-wise adds a network runs inside the convolution before them, as onnxruntime
/// fuses Conv + Add (+ Relu): the convolution's GEMM adds the add's other input (the residual)
/// to each output tile after its bias and applies the add's activation while the tile is in L1
/// (`GEMMEpilogue.Residual`), and the add itself does nothing. This saves a pass over two
/// tensors and a write of a third per add (ResNet-50 has 16).
///
/// An add is fused into one of its two inputs when that input is
/// - a convolution running a GEMM (`gemm-1x1` or `gemm-im2col`) on fp32 activations (fp32 or
///   int8-weights), with no activation of its own;
/// - read by the add alone, with the add's shape;
/// - the later of the two (the residual must exist when the convolution runs), and the add
///   stores fp32.
/// The convolution writes the add's result into its own output slot, which the add's output
/// shares (`ActivationPlan`): after a run, the convolution's output holds the add's, not the
/// convolution's alone. Runners that read every layer's own output (calibration, per-layer
/// benchmarks) run without fusion.
public struct ResidualFusion: Sendable, Equatable {
    /// By layer: for a convolution that does the add after it, that add's index.
    public let add: [Int?]
    /// By layer: for such a convolution, the add's other input (the residual).
    public let residual: [Int?]
    /// By layer: for an add a convolution does, that convolution's index.
    public let doneBy: [Int?]

    /// No add fused, for a network of `layers` layers.
    public init(none layers: Int) {
        add = Array(repeating: nil, count: layers)
        residual = add
        doneBy = add
    }

    /// The adds of `network` that can be fused, given each layer's algorithm (`ConvAlgorithm.of`).
    public init(network: Network, algorithms: [ConvAlgorithm?]) {
        let layers = network.layers
        precondition(algorithms.count == layers.count, "one algorithm (or nil) per layer")
        var readers = [Int](repeating: 0, count: layers.count)
        for l in layers { for j in l.inputs { readers[j] += 1 } }
        var add = [Int?](repeating: nil, count: layers.count), residual = add, doneBy = add
        for (i, l) in layers.enumerated() {
            guard case .add = l.kind, l.precision == .fp32, l.outputElementBytes == 4, l.inputs.count == 2, l.inputs[0] != l.inputs[1] else { continue }
            let j = max(l.inputs[0], l.inputs[1]), r = min(l.inputs[0], l.inputs[1])
            let conv = layers[j]
            guard case .convolution = conv.kind, conv.precision != .int8, conv.activation == nil,
                  algorithms[j] == .gemm1x1 || algorithms[j] == .im2col || algorithms[j] == .blocked,
                  readers[j] == 1, conv.output == l.output, layers[r].output == l.output, layers[r].outputElementBytes == 4,
                  j > 0, j < layers.count - 1 else { continue }
            add[j] = i
            residual[j] = r
            doneBy[i] = j
        }
        self.add = add
        self.residual = residual
        self.doneBy = doneBy
    }

    /// The adds fused.
    public var count: Int { doneBy.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
}
