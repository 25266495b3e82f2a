import Networks

/// Deterministic weights for a network: seeded, scaled so that activations neither explode nor
/// vanish (He-uniform for layers followed by ReLU, half gain on a residual branch before its
/// add), with batch normalisation parameters drawn too and folded into the convolution. A
/// quantized network (`Network.quantized`) gets the same values as its fp32 form, by layer.
// Sendable: written only in `init`, read-only afterwards.
public final class NetworkWeights: @unchecked Sendable {
    /// Per layer: weights and bias (nil for layers without parameters).
    public let weights: [UnsafeMutableBufferPointer<Float>?]
    public let biases: [UnsafeMutableBufferPointer<Float>?]
    /// Parameter bytes at fp32.
    public let bytes: Int64

    public init(network quantized: Network, seed: UInt64 = 1) {
        let network = quantized.fp32Form
        var rng = SplitMix64(seed: seed)
        var w: [UnsafeMutableBufferPointer<Float>?] = [], b: [UnsafeMutableBufferPointer<Float>?] = []
        var total: Int64 = 0
        // Layers whose output feeds an element-wise add (the last conv of a residual branch).
        var feedsAdd = Set<Int>()
        for l in network.layers { if case .add = l.kind { for i in l.inputs { feedsAdd.insert(i) } } }
        for (index, layer) in network.layers.enumerated() {
            switch layer.kind {
            case .convolution(let c):
                let x = network.layers[layer.inputs[0]].output
                let fanIn = (x.c / c.groups) * c.kernelH * c.kernelW
                let count = c.outputChannels * fanIn
                let gain: Float = (layer.activation != nil ? 2 : 1) * (feedsAdd.contains(index) ? 0.25 : 1)
                let bound = (3 * gain / Float(fanIn)).squareRoot()
                let weights = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
                for i in 0..<count { weights[i] = rng.uniform(-bound, bound) }
                let bias = UnsafeMutableBufferPointer<Float>.allocate(capacity: c.outputChannels)
                for o in 0..<c.outputChannels { bias[o] = c.bias ? rng.uniform(-0.01, 0.01) : 0 }
                if c.batchNormFolded {
                    // y = gamma (conv(x) + bias - mean) / sqrt(var + eps) + beta, folded.
                    for o in 0..<c.outputChannels {
                        let gamma = rng.uniform(0.9, 1.1), beta = rng.uniform(-0.05, 0.05)
                        let mean = rng.uniform(-0.05, 0.05), variance = rng.uniform(0.9, 1.1)
                        let scale = gamma / (variance + 1e-5).squareRoot()
                        for i in 0..<fanIn { weights[o * fanIn + i] *= scale }
                        bias[o] = (bias[o] - mean) * scale + beta
                    }
                }
                w.append(weights)
                b.append(bias)
                total += Int64(count + c.outputChannels) * 4
            case .fullyConnected(let outputs):
                let inputs = network.layers[layer.inputs[0]].output.count
                let gain: Float = layer.activation != nil ? 2 : 1
                let bound = (3 * gain / Float(inputs)).squareRoot()
                let weights = UnsafeMutableBufferPointer<Float>.allocate(capacity: outputs * inputs)
                for i in 0..<(outputs * inputs) { weights[i] = rng.uniform(-bound, bound) }
                let bias = UnsafeMutableBufferPointer<Float>.allocate(capacity: outputs)
                for o in 0..<outputs { bias[o] = rng.uniform(-0.01, 0.01) }
                w.append(weights)
                b.append(bias)
                total += Int64(outputs * inputs + outputs) * 4
            default:
                w.append(nil)
                b.append(nil)
            }
        }
        let index = quantized.fp32Indices
        weights = index.map { $0.flatMap { w[$0] } }
        biases = index.map { $0.flatMap { b[$0] } }
        bytes = total
    }

    deinit {
        for p in weights { p?.deallocate() }
        for p in biases { p?.deallocate() }
    }
}
