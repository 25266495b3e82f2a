/// How a network runs quantized: which layers compute in int8 and where tensors are converted.
///
/// `.int8`: every convolution and fully connected layer but the first and the last computes in
/// int8 (those two stay fp32 for accuracy unless `quantizeEnds`). Pooling, concatenation and element-wise adds compute in int8 when all their
/// inputs are int8, in fp32 otherwise; LRN, softmax and the input have no int8 kernel and stay
/// fp32. Where an int8 layer reads an fp32 tensor a quantize layer is inserted, and where an fp32
/// layer reads an int8 tensor a dequantize layer: one per tensor and direction, named after the
/// tensor ("conv1/quantize"), just before its first reader. These are layers like any other: they
/// are timed, counted and reported.
///
/// `.int8Weights`: the graph is unchanged; every convolution and fully connected layer keeps its
/// weights in int8 and expands them to fp32 as it runs.
extension Network {
    /// This network computing in `precision` (`self` for `.fp32`). The network must be as built
    /// (`precision == .fp32`). With `.int8`, `quantizeEnds` puts the first and the last weighted
    /// layers in int8 too (TFLite's full-integer quantization): then the image is quantized and
    /// the logits dequantized.
    public func quantized(_ precision: Precision, quantizeEnds: Bool = false) -> Network {
        precondition(self.precision == .fp32, "\(name) is already quantized (\(self.precision.rawValue))")
        switch precision {
        case .fp32:
            return self
        case .int8Weights:
            let ls = layers.map { l in l.with(precision: l.kind.hasWeights ? .int8Weights : .fp32, inputs: l.inputs) }
            return Network(name: name, layers: ls, precision: .int8Weights)
        case .int8:
            return Network(name: name, layers: int8Layers(quantizeEnds: quantizeEnds), precision: .int8)
        }
    }

    /// For each layer, the index of the same layer in the network as built (`fp32Form`); nil for
    /// a quantize or dequantize layer.
    public var fp32Indices: [Int?] {
        var k = 0
        return layers.map { l in
            if l.kind.isConversion { return nil }
            defer { k += 1 }
            return k
        }
    }

    /// The network as built: conversion layers removed (their readers read what they
    /// converted), every layer fp32.
    public var fp32Form: Network {
        guard precision != .fp32 else { return self }
        var newIndex = [Int](repeating: 0, count: layers.count)
        var out: [Layer] = []
        for (i, l) in layers.enumerated() {
            if l.kind.isConversion {
                newIndex[i] = newIndex[l.inputs[0]]
                continue
            }
            newIndex[i] = out.count
            out.append(l.with(precision: .fp32, inputs: l.inputs.map { newIndex[$0] }))
        }
        return Network(name: name, layers: out)
    }

    /// The layers of the int8 form (see the type's comment).
    private func int8Layers(quantizeEnds: Bool) -> [Layer] {
        let weighted = layers.indices.filter { layers[$0].kind.hasWeights }
        var compute = [Precision](repeating: .fp32, count: layers.count)
        for (i, l) in layers.enumerated() {
            switch l.kind {
            case .convolution, .fullyConnected:
                compute[i] = !quantizeEnds && (i == weighted.first || i == weighted.last) ? .fp32 : .int8
            case .pooling, .add, .concat:
                compute[i] = l.inputs.allSatisfy { compute[$0] == .int8 } ? .int8 : .fp32
            case .input, .lrn, .softmax, .quantize, .dequantize:
                compute[i] = .fp32
            }
        }
        var out: [Layer] = []
        var newIndex = [Int](repeating: 0, count: layers.count)
        // (old tensor, converted to int8?) -> index of its conversion layer in `out`.
        var converted: [Int: Int] = [:], dequantized: [Int: Int] = [:]
        for (i, l) in layers.enumerated() {
            var inputs: [Int] = []
            for j in l.inputs {
                let source = layers[j]
                if compute[i] == compute[j] {
                    inputs.append(newIndex[j])
                } else if compute[i] == .int8 {
                    if converted[j] == nil {
                        converted[j] = out.count
                        out.append(Layer(name: source.name + "/quantize", kind: .quantize, inputs: [newIndex[j]], activation: nil,
                                         output: source.output, precision: .int8))
                    }
                    inputs.append(converted[j]!)
                } else {
                    if dequantized[j] == nil {
                        dequantized[j] = out.count
                        out.append(Layer(name: source.name + "/dequantize", kind: .dequantize, inputs: [newIndex[j]], activation: nil,
                                         output: source.output, precision: .fp32))
                    }
                    inputs.append(dequantized[j]!)
                }
            }
            newIndex[i] = out.count
            out.append(l.with(precision: compute[i], inputs: inputs))
        }
        return out
    }
}

extension LayerKind {
    /// Whether the layer has weights (a convolution or a fully connected layer).
    public var hasWeights: Bool {
        switch self {
        case .convolution, .fullyConnected: true
        default: false
        }
    }
}
