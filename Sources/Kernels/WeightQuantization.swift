import Networks

/// fp32 weights quantized per output channel, symmetric: channel o's scale is max |w| / L over
/// its weights (1 when they are all 0), each weight round(w / scale) half to even in -L...L, L
/// the limit (127; 64 for the layers that run the `maddubs` kernel: `Int8Kernel.weightLimit`);
/// the bias in int32 units of input scale x the channel's weight scale, as TFLite and ARM Compute
/// Library quantize convolution and fully connected weights.
public struct WeightQuantization: Sendable {
    /// The int8 weights, in the fp32 weights' layout.
    public let weights: [Int8]
    /// Per output channel, > 0.
    public let scales: [Float]

    /// The largest |weight|, L.
    public let limit: Int8

    /// Quantizes `channels` rows of `perChannel` weights each into -`limit`...`limit` (1 to 127).
    public init(_ w: UnsafePointer<Float>, channels: Int, perChannel: Int, limit: Int8 = 127) {
        precondition((1...127).contains(limit), "WeightQuantization: limit \(limit) must be 1 to 127")
        self.limit = limit
        let l = Float(limit)
        var q = [Int8](repeating: 0, count: channels * perChannel)
        var s = [Float](repeating: 1, count: channels)
        for o in 0..<channels {
            let row = w + o * perChannel
            var m: Float = 0
            for i in 0..<perChannel { m = max(m, abs(row[i])) }
            let scale: Float = m > 0 ? m / l : 1
            s[o] = scale
            for i in 0..<perChannel {
                let v = (row[i] / scale).rounded(.toNearestOrEven)
                q[o * perChannel + i] = Int8(min(max(v, -l), l))
            }
        }
        weights = q
        scales = s
    }

    /// The bias in int32 units of `inputScale` x each channel's weight scale, rounded half to
    /// even and clamped to Int32's range.
    public func bias(_ b: UnsafePointer<Float>, inputScale: Float) -> [Int32] {
        scales.indices.map { o in
            let v = (Double(b[o]) / (Double(inputScale) * Double(scales[o]))).rounded(.toNearestOrEven)
            return Int32(min(max(v, Double(Int32.min)), Double(Int32.max)))
        }
    }

    /// The weights as fp32 again: scale x q, what the quantized layer computes with.
    public func dequantized() -> [Float] {
        let perChannel = scales.isEmpty ? 0 : weights.count / scales.count
        return weights.indices.map { Float(weights[$0]) * scales[$0 / max(perChannel, 1)] }
    }
}

extension Int8ConvWeights {
    /// A convolution's (or, as a 1x1 convolution, a fully connected layer's) fp32 weights and
    /// bias quantized (`WeightQuantization`, into -L...L for L = `weightLimit`) for an input and
    /// an output quantized as given (`outputPixels` as the designated initializer takes it).
    public convenience init(quantizing conv: Convolution, inputChannels: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                            input: QuantParams, output: QuantParams, outputPixels: Int? = nil, kernel: Int8Kernel = .current) {
        let perChannel = inputChannels / conv.groups * conv.kernelH * conv.kernelW
        let limit = Int8ConvWeights.weightLimit(conv, inputChannels: inputChannels, outputPixels: outputPixels, kernel: kernel)
        let q = WeightQuantization(weights, channels: conv.outputChannels, perChannel: perChannel, limit: limit)
        if let bias {
            let b = q.bias(bias, inputScale: input.scale)
            self.init(conv, inputChannels: inputChannels, weights: q.weights, weightScales: q.scales, bias: b, input: input, output: output, outputPixels: outputPixels, kernel: kernel)
        } else {
            self.init(conv, inputChannels: inputChannels, weights: q.weights, weightScales: q.scales, bias: nil, input: input, output: output, outputPixels: outputPixels, kernel: kernel)
        }
    }
}
