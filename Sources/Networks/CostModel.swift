/// What one layer costs for one image, from its shape and precision alone (no measurement): the
/// work it does and the least data it must move. docs/cost-model.md defines every field.
///
/// All counts are Int64: a network's totals pass 2^31 (ResNet-50 has ~4e9 MACs), and Int is 32
/// bits on armv7 boards.
public struct LayerCost: Hashable, Sendable, Codable {
    /// Multiply-accumulates of a convolution or fully connected layer, as papers count them;
    /// 0 for every other layer.
    public var macs: Int64
    /// Arithmetic operations: 2 per MAC, plus bias adds, plus the element-wise operations of
    /// pooling, LRN, add, softmax and fused activations (docs/cost-model.md lists each).
    public var ops: Int64
    /// Number of weights and biases (folded batch norm included in the bias).
    public var params: Int64
    /// Bytes of weights and biases as stored: 4 per parameter at fp32; in int8 (and int8-weights)
    /// layers 1 per weight, 4 per bias (int32) and 4 per output channel for its scale.
    public var paramBytes: Int64
    /// Bytes of all input activations as stored (4 per element at fp32, 1 at int8; each input once).
    public var inputBytes: Int64
    /// Bytes of the output activations as stored.
    public var outputBytes: Int64
    /// The least bytes the layer must move: inputs + output + parameters, each once
    /// (0 for the network's input layer, which runs no code).
    public var minBytes: Int64
    /// Theoretical operational intensity: `ops / minBytes` (ops per byte); 0 when minBytes is 0.
    public var oiTheoretical: Double

    /// `paramBytes` nil: 4 per parameter (fp32).
    public init(macs: Int64, ops: Int64, params: Int64, inputBytes: Int64, outputBytes: Int64, paramBytes: Int64? = nil) {
        self.macs = macs
        self.ops = ops
        self.params = params
        self.paramBytes = paramBytes ?? params * 4
        self.inputBytes = inputBytes
        self.outputBytes = outputBytes
        self.minBytes = inputBytes + outputBytes + self.paramBytes
        self.oiTheoretical = minBytes > 0 ? Double(ops) / Double(minBytes) : 0
    }

    /// The cost of `layer` given the shapes of its inputs (in the order of `layer.inputs`) and the
    /// bytes of one element of each as stored (nil: 4 each, fp32).
    public init(layer: Layer, inputs: [TensorShape], inputElementBytes: [Int64]? = nil) {
        let out = layer.output
        let outCount = Int64(out.count)
        let inBytes = inputs.indices.reduce(Int64(0)) { $0 + Int64(inputs[$1].count) * (inputElementBytes?[$1] ?? 4) }
        var macs: Int64 = 0
        var ops: Int64 = 0
        var params: Int64 = 0
        // int8 and int8-weights layers: weights at 1 byte, the bias and each channel's scale at 4.
        var quantizedParamBytes: Int64? = nil
        var weightCount: Int64 = 0

        switch layer.kind {
        case .input:
            // Runs no code: nothing read, computed or stored. Only the image's size is kept.
            self.init(macs: 0, ops: 0, params: 0, inputBytes: 0, outputBytes: 0)
            self.outputBytes = out.bytes
            return
        case .convolution(let c):
            let inC = Int64(inputs[0].c)
            let perOutput = (inC / Int64(c.groups)) * Int64(c.kernelH) * Int64(c.kernelW)
            macs = outCount * perOutput
            let weights = Int64(c.outputChannels) * perOutput
            params = weights + (c.bias ? Int64(c.outputChannels) : 0)
            ops = 2 * macs + (c.bias ? outCount : 0)
            weightCount = weights
            if layer.precision != .fp32 {
                quantizedParamBytes = weights + (params - weights) * 4 + Int64(c.outputChannels) * 4
            }
        case .fullyConnected(let n):
            let inCount = Int64(inputs[0].count)
            macs = inCount * Int64(n)
            params = macs + Int64(n)              // ACL's fully connected layers always have a bias
            ops = 2 * macs + Int64(n)
            weightCount = macs
            if layer.precision != .fp32 { quantizedParamBytes = macs + Int64(n) * 4 + Int64(n) * 4 }
        case .pooling(let p):
            let window = p.global ? Int64(inputs[0].h) * Int64(inputs[0].w) : Int64(p.kernel) * Int64(p.kernel)
            switch p.kind {
            case .max: ops = outCount * (window - 1)       // comparisons
            case .average: ops = outCount * window         // window - 1 adds and 1 multiply by 1/n
            }
        case .lrn(let n):
            // Per element: square, (size - 1) adds over the channel window, * alpha/size, + k,
            // pow(., beta) counted as 1, and the division of x: size + 4.
            ops = outCount * (Int64(n.size) + 4)
        case .concat:
            ops = 0                                        // a copy
        case .add:
            ops = outCount * Int64(max(inputs.count - 1, 0))
        case .softmax:
            // Per element: max, subtract, exp, sum, multiply by 1/sum.
            ops = outCount * 5
        case .quantize:
            ops = outCount * 2                             // x / scale (a multiply), + zero point
        case .dequantize:
            ops = outCount * 2                             // q - zero point, x scale
        }
        // int8-weights layers expand every weight to fp32 as they run: one multiply each.
        if layer.precision == .int8Weights { ops += weightCount }
        if let a = layer.activation {
            ops += outCount * Self.activationOps(a)
        }
        self.init(macs: macs, ops: ops, params: params, inputBytes: inBytes, outputBytes: outCount * layer.outputElementBytes,
                  paramBytes: quantizedParamBytes)
    }

    /// Operations per element of a fused activation: ReLU is max(x, 0), ReLU6 min(max(x, 0), 6).
    public static func activationOps(_ a: Activation) -> Int64 {
        switch a {
        case .relu: 1
        case .relu6: 2
        }
    }
}

extension Network {
    /// The cost of the layer at `index`.
    public func cost(ofLayer index: Int) -> LayerCost {
        let layer = layers[index]
        return LayerCost(layer: layer, inputs: layer.inputs.map { layers[$0].output },
                         inputElementBytes: layer.inputs.map { layers[$0].outputElementBytes })
    }

    /// Every layer's cost, in the order of `layers` (the input layer first).
    public func costs() -> [LayerCost] {
        layers.indices.map { cost(ofLayer: $0) }
    }

    /// Multiply-accumulates of all convolutions and fully connected layers.
    public var totalMACs: Int64 { costs().reduce(0) { $0 + $1.macs } }
    /// Operations of all layers (`LayerCost.ops`).
    public var totalOps: Int64 { costs().reduce(0) { $0 + $1.ops } }
    /// Number of weights and biases (a count, not bytes).
    public var totalParams: Int64 { costs().reduce(0) { $0 + $1.params } }
    /// Bytes of all weights and biases as stored (`LayerCost.paramBytes`).
    public var totalParamBytes: Int64 { costs().reduce(0) { $0 + $1.paramBytes } }
    /// Sum of the layers' `minBytes`: what the whole network moves if every layer reads its
    /// inputs and parameters and writes its output once and nothing stays in cache between layers.
    public var totalMinBytes: Int64 { costs().reduce(0) { $0 + $1.minBytes } }
}
