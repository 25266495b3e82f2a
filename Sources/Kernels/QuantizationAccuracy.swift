import Networks

extension QuantizationAccuracy {
    /// Runs `reference` (fp32) and `quantized` (the same network and weight seed, quantized) on
    /// `images` seeded accuracy images (`CalibrationImages.accuracySeed`, never the calibration
    /// images) and compares their logits. `progress` gets the images done.
    public static func measure(reference: NetworkRunner, quantized: NetworkRunner, images: Int,
                               progress: ((Int) -> Void)? = nil) -> QuantizationAccuracy {
        precondition(reference.network.precision == .fp32 && reference.network.name == quantized.network.name,
                     "compare a network with its own quantized form")
        var pairs: [(reference: [Float], quantized: [Float])] = []
        for image in 0..<images {
            let seed = CalibrationImages.accuracySeed(image)
            pairs.append((logits(reference, seed: seed), logits(quantized, seed: seed)))
            progress?(image + 1)
        }
        return QuantizationAccuracy(pairs: pairs)
    }

    /// The network's logits for the image of `seed`: the input of a final softmax, or the output.
    static func logits(_ runner: NetworkRunner, seed: UInt64) -> [Float] {
        runner.setDeterministicInput(seed: seed)
        let layers = runner.network.layers
        let last = layers.count - 1
        let at = if case .softmax = layers[last].kind { layers[last].inputs[0] } else { last }
        var out: [Float] = []
        runner.run(afterLayer: { i in if i == at { out = runner.values(of: i) } })
        return out
    }
}
