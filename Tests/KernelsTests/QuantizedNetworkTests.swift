import Kernels
import Networks
import Testing

@Suite("int8 networks: weights, calibration, the runner, accuracy", .serialized)
struct QuantizedNetworkTests {
    static func net(_ name: String) -> Network { NetworkCatalog.network(named: name)! }

    @Test("weights per output channel: scale max|w| / 127, round half to even, -127...127; an all-zero channel has scale 1")
    func weightQuantization() {
        let w: [Float] = [0.5, -1.27, 0.005, 0.015,   0, 0, 0, 0,   2.54, -2.54, 0.01, 0.03]
        let q = w.withUnsafeBufferPointer { WeightQuantization($0.baseAddress!, channels: 3, perChannel: 4) }
        #expect(q.scales == [Float(1.27) / 127, 1, Float(2.54) / 127])
        // 0.5 / 0.01 = 50; 0.005 / 0.01 = 0.5 -> 0 (even); 0.015 / 0.01 = 1.5 -> 2; 0.01 / 0.02 = 0.5 -> 0; 0.03 / 0.02 = 1.5 -> 2.
        #expect(q.weights == [50, -127, 0, 2,   0, 0, 0, 0,   127, -127, 0, 2])
        let back = q.dequantized()
        for i in w.indices { #expect(abs(back[i] - w[i]) <= q.scales[i / 4] / 2 * 1.0001, "\(i)") }
        let bias: [Float] = [0.1, -0.2, 1e30]
        // In units of input scale (0.5) x the channel's weight scale; far out of range clamps.
        let b = bias.withUnsafeBufferPointer { q.bias($0.baseAddress!, inputScale: 0.5) }
        #expect(b[0] == Int32((0.1 / (0.5 * Double(q.scales[0]))).rounded(.toNearestOrEven)))
        #expect(b[1] == -Int32((0.2 / 0.5).rounded(.toNearestOrEven)) && b[2] == Int32.max)
    }

    @Test("weights for the maddubs kernel: scale max|w| / 64, -64...64, where the layer runs the GEMM; 127 for depthwise and one-pixel layers")
    func weightLimit() {
        let w: [Float] = [0.64, -0.32, 0.005, 0.015,   -1.28, 0.5, 0, 0.03]
        let q = w.withUnsafeBufferPointer { WeightQuantization($0.baseAddress!, channels: 2, perChannel: 4, limit: 64) }
        #expect(q.limit == 64 && q.scales == [Float(0.64) / 64, Float(1.28) / 64])
        // 0.005 / 0.01 = 0.5 -> 0; 0.015 / 0.01 = 1.5 -> 2; 0.5 / 0.02 = 25; 0.03 / 0.02 = 1.5 -> 2.
        #expect(q.weights == [64, -32, 0, 2,   -64, 25, 0, 2])
        let pointwise = Convolution(outputChannels: 32, kernel: 1), im2col = Convolution(outputChannels: 32, kernel: 3, padding: .same(1))
        let depthwise = Convolution(outputChannels: 32, kernel: 3, padding: .same(1), groups: 32)
        for kernel in Int8Kernel.allCases {
            #expect(Int8ConvWeights.weightLimit(pointwise, inputChannels: 16, outputPixels: 49, kernel: kernel) == kernel.weightLimit)
            #expect(Int8ConvWeights.weightLimit(im2col, inputChannels: 16, outputPixels: 49, kernel: kernel) == kernel.weightLimit)
            #expect(Int8ConvWeights.weightLimit(pointwise, inputChannels: 16, outputPixels: nil, kernel: kernel) == kernel.weightLimit)
            #expect(Int8ConvWeights.weightLimit(pointwise, inputChannels: 16, outputPixels: 1, kernel: kernel) == 127)
            #expect(Int8ConvWeights.weightLimit(depthwise, inputChannels: 32, outputPixels: 49, kernel: kernel) == 127)
        }
    }

    @Test("calibration records each layer's least and greatest value over the images; the parameters cover them, pooling keeps its input's")
    func calibration() throws {
        let net = Self.net("squeezenet-1.1")
        let pool = ThreadPool(threads: 2)
        let runner = NetworkRunner(network: net, pool: pool, seed: 4)
        let ranges = QuantizationCalibration.ranges(runner: runner, images: 2)
        // By hand: the same images, every output scanned after its layer.
        var lo = [Float](repeating: .infinity, count: net.layers.count), hi = [Float](repeating: -.infinity, count: net.layers.count)
        for image in 0..<2 {
            runner.setDeterministicInput(seed: CalibrationImages.seed(image))
            for v in runner.output(of: 0) { lo[0] = min(lo[0], v); hi[0] = max(hi[0], v) }
            runner.run(afterLayer: { i in for v in runner.output(of: i) { lo[i] = min(lo[i], v); hi[i] = max(hi[i], v) } })
        }
        #expect(ranges.min == lo && ranges.max == hi && ranges.images == 2)
        let q = net.quantized(.int8)
        let params = QuantizationCalibration.parameters(for: q, ranges: ranges)
        let index = q.fp32Indices
        for (i, l) in q.layers.enumerated() {
            guard l.precision == .int8 else { #expect(params[i] == nil, "\(l.name)"); continue }
            let p = try #require(params[i], "\(l.name)")
            if case .pooling = l.kind {
                #expect(p == params[l.inputs[0]], "\(l.name)")
                continue
            }
            let k = try #require(index[l.kind == .quantize ? l.inputs[0] : i])
            #expect(p == QuantParams.covering(min: lo[k], max: hi[k]), "\(l.name)")
            // The range is covered: the extremes quantize within half a step.
            #expect(abs(p.dequantize(p.quantize(hi[k])) - hi[k]) <= p.scale * 0.5001 && abs(p.dequantize(p.quantize(lo[k])) - lo[k]) <= p.scale * 0.5001)
        }
    }

    @Test("an int8 network computes the same bytes on 1 and 2 threads, and every layer follows its fp32 counterpart",
          arguments: ["squeezenet-1.1", "mobilenet", "googlenet", "resnet50", "alexnet"])
    func runner(name: String) throws {
        let fp32 = Self.net(name), q = fp32.quantized(.int8)
        let one = NetworkRunner(network: q, pool: ThreadPool(threads: 1), seed: 2, calibrationImages: 2)
        let two = NetworkRunner(network: q, pool: ThreadPool(threads: 2), seed: 2, quantization: one.quantization)
        // Every layer's own output: no add done by a convolution.
        let reference = NetworkRunner(network: fp32, pool: ThreadPool(threads: 2), seed: 2, fuseResidualAdds: false)
        var expected: [[Float]] = Array(repeating: [], count: fp32.layers.count)
        reference.setDeterministicInput(seed: 50)
        reference.run(afterLayer: { i in expected[i] = Array(reference.output(of: i)) })
        var bytes: [[UInt8]] = Array(repeating: [], count: q.layers.count)
        one.setDeterministicInput(seed: 50)
        let index = q.fp32Indices
        var worst = (layer: "", error: 0.0)
        one.run(afterLayer: { i in
            if q.layers[i].precision == .int8 { bytes[i] = Array(one.int8Output(of: i)) }
            guard let k = index[i] else { return }
            // Relative RMS error of the layer's output (dequantized) against fp32's.
            let got = one.values(of: i), want = expected[k]
            var e = 0.0, n = 0.0
            for j in got.indices { e += Double(got[j] - want[j]) * Double(got[j] - want[j]); n += Double(want[j]) * Double(want[j]) }
            let r = (e / max(n, 1e-30)).squareRoot()
            if r > worst.error { worst = (q.layers[i].name, r) }
        })
        // int8 noise grows through the network, to a few percent; a wrong scale, zero point or
        // wiring gives errors of order 1.
        #expect(worst.error < 0.1, "\(name): \(worst.layer) is \(worst.error) away from fp32")
        two.setDeterministicInput(seed: 50)
        two.run(afterLayer: { i in
            if q.layers[i].precision == .int8 { #expect(Array(two.int8Output(of: i)) == bytes[i], "\(name) \(q.layers[i].name): 1 and 2 threads differ") }
        })
        #expect(Array(one.output(of: q.layers.count - 1)) == Array(two.output(of: q.layers.count - 1)))
        // The weights are fp32's: int8 layers' weights are a quarter of theirs (plus int32 bias and scale).
        #expect(one.weightBytes < reference.weightBytes)
    }

    @Test("int8 against fp32 on 100 seeded images: MobileNet (see the comment for its floor), and the thresholds catch coarser quantization")
    func mobilenetAccuracy() {
        let fp32 = Self.net("mobilenet"), q = fp32.quantized(.int8)
        let pool = ThreadPool(threads: 2)
        let reference = NetworkRunner(network: fp32, pool: pool)
        let int8 = NetworkRunner(network: q, pool: pool)
        let a = QuantizationAccuracy.measure(reference: reference, quantized: int8, images: 100)
        // Measured: top-1 agreement 0.81, fp32's top-1 always in the top 5, cosine 0.9998,
        // logits within 2.5 % of the largest. With seeded random weights MobileNet's outputs
        // hardly depend on the image: two classes take every top-1 and half of the images have
        // them within 1 % of the logits' spread, so a 2 % logit error flips about one in five.
        // The floor is below what is measured, above what a broken quantization gives (below).
        #expect(a.images == 100)
        #expect(a.top1_agreement >= 0.7, "\(a)")
        #expect(a.top5_contains_top1 >= 0.95, "\(a)")
        #expect(a.mean_cosine >= 0.9995 && a.min_cosine >= 0.999, "\(a)")
        #expect(a.max_relative_logit_error < 0.05, "\(a)")
        // The control: activations quantized 8x more coarsely (ranges 8x wider) fail the same floors.
        let ranges = QuantizationCalibration.ranges(runner: reference, images: CalibrationImages.defaultCount)
        let wide = ActivationRanges(min: ranges.min.map { $0 * 8 }, max: ranges.max.map { $0 * 8 }, images: ranges.images)
        let coarse = NetworkRunner(network: q, pool: pool, quantization: QuantizationCalibration.parameters(for: q, ranges: wide))
        let c = QuantizationAccuracy.measure(reference: reference, quantized: coarse, images: 100)
        #expect(!(c.top1_agreement >= 0.7 && c.mean_cosine >= 0.9995 && c.min_cosine >= 0.999 && c.max_relative_logit_error < 0.05), "\(c)")
    }

    @Test("int8 against fp32: the other networks agree on top-1 for at least 95 % of the images", arguments: ["squeezenet-1.1", "googlenet", "resnet50"])
    func otherNetworksAccuracy(name: String) {
        let fp32 = Self.net(name), q = fp32.quantized(.int8)
        let pool = ThreadPool(threads: 2)
        let a = QuantizationAccuracy.measure(reference: NetworkRunner(network: fp32, pool: pool), quantized: NetworkRunner(network: q, pool: pool), images: 20)
        // Measured (100 images): 100 % top-1 agreement, cosine >= 0.9999, logits within 1.6 %.
        #expect(a.top1_agreement >= 0.95 && a.mean_cosine >= 0.9995 && a.max_relative_logit_error < 0.05, "\(name): \(a)")
    }

    @Test("int8-weights: fp32 arithmetic on weights rounded to 8 bits stays within 2 % of fp32's logits")
    func int8Weights() {
        let fp32 = Self.net("mobilenet"), q = fp32.quantized(.int8Weights)
        let pool = ThreadPool(threads: 2)
        let reference = NetworkRunner(network: fp32, pool: pool), runner = NetworkRunner(network: q, pool: pool)
        let a = QuantizationAccuracy.measure(reference: reference, quantized: runner, images: 10)
        // Measured: cosine 0.99996, logits within 1.05 % (10 images).
        #expect(a.mean_cosine >= 0.9999 && a.max_relative_logit_error < 0.02, "\(a)")
        // Not fp32 itself: the weights were rounded.
        #expect(a.max_relative_logit_error > 0)
        #expect(runner.weightBytes < reference.weightBytes / 3)
    }

    @Test("accuracy figures from hand-made logits")
    func accuracyArithmetic() {
        let a = QuantizationAccuracy(pairs: [
            ([1, 2, 3, 0, 0, 0], [1, 2, 3, 0, 0, 0]),       // same: top-1 2, cosine 1
            ([3, 0, 0, 0, 0, 0], [0, 3, 0, 0, 0, 0]),       // different top-1 (0 vs 1), 0 in the top 5, cosine 0
        ])
        #expect(a.images == 2 && a.top1_agreement == 0.5 && a.top5_contains_top1 == 1)
        #expect(abs(a.mean_cosine - 0.5) < 1e-12 && a.min_cosine == 0)
        #expect(abs(a.max_relative_logit_error - 1) < 1e-12)
    }
}
