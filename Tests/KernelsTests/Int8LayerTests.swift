import Kernels
import Networks
import Testing

/// One quantized convolution case: the layer, the input's shape and the input's quantization.
struct Int8ConvCase: CustomStringConvertible, Sendable {
    let label: String
    let inC: Int, h: Int, w: Int
    let conv: Convolution
    let input: QuantParams
    var description: String { "\(label): \(inC)x\(h)x\(w) -> \(conv.outputChannels) k\(conv.kernelH)x\(conv.kernelW) s\(conv.strideH) g\(conv.groups) zx \(input.zeroPoint)\(input.signed ? " int8" : "")" }
}

let u0 = QuantParams(scale: 0.02, zeroPoint: 0), u128 = QuantParams(scale: 0.03, zeroPoint: 128)
let u37 = QuantParams(scale: 0.01, zeroPoint: 37), s3 = QuantParams(scale: 0.02, zeroPoint: -3, signed: true)

@Suite("Int8 layer kernels against reference loops, every kernel this CPU runs")
struct Int8LayerTests {

    static let convCases: [Int8ConvCase] = [
        .init(label: "1x1, K = 1", inC: 1, h: 5, w: 7, conv: Convolution(outputChannels: 3, kernel: 1), input: u128),
        .init(label: "1x1, K = 2", inC: 2, h: 3, w: 3, conv: Convolution(outputChannels: 5, kernel: 1), input: u0),
        .init(label: "1x1, K = 3", inC: 3, h: 4, w: 5, conv: Convolution(outputChannels: 9, kernel: 1), input: s3),
        .init(label: "1x1, K = 4", inC: 4, h: 6, w: 1, conv: Convolution(outputChannels: 7, kernel: 1), input: u37),
        .init(label: "1x1, K = 5", inC: 5, h: 1, w: 9, conv: Convolution(outputChannels: 13, kernel: 1), input: u128),
        .init(label: "1x1 on one pixel (matrix-vector)", inC: 67, h: 1, w: 1, conv: Convolution(outputChannels: 29, kernel: 1), input: s3),
        .init(label: "1x1 odd channels", inC: 17, h: 9, w: 7, conv: Convolution(outputChannels: 33, kernel: 1), input: u37),
        .init(label: "1x1 MobileNet-like", inC: 64, h: 14, w: 14, conv: Convolution(outputChannels: 67, kernel: 1), input: u128),
        .init(label: "1x1 stride 2 (im2col)", inC: 8, h: 7, w: 7, conv: Convolution(outputChannels: 12, kernel: 1, stride: 2), input: u37),
        .init(label: "3x3 pad 1", inC: 3, h: 11, w: 13, conv: Convolution(outputChannels: 5, kernel: 3, stride: 1, padding: .same(1)), input: u128),
        .init(label: "3x3 stride 2 pad 1", inC: 4, h: 12, w: 11, conv: Convolution(outputChannels: 7, kernel: 3, stride: 2, padding: .same(1)), input: s3),
        .init(label: "3x3 stride 2 asymmetric pad", inC: 5, h: 9, w: 10,
              conv: Convolution(outputChannels: 7, kernel: 3, stride: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1)), input: u37),
        .init(label: "3x3 pad 1, 1-wide plane", inC: 3, h: 9, w: 1, conv: Convolution(outputChannels: 4, kernel: 3, stride: 1, padding: .same(1)), input: u128),
        .init(label: "3x3 pad 1, 1-high plane", inC: 2, h: 1, w: 9, conv: Convolution(outputChannels: 5, kernel: 3, stride: 1, padding: .same(1)), input: u128),
        // Padding wider than the plane (windows wholly outside it), on strides 1, 2 and 3: the
        // three ways the im2col rows find the columns inside the plane.
        .init(label: "5x5 pad 4, 3-wide plane", inC: 2, h: 4, w: 3, conv: Convolution(outputChannels: 3, kernel: 5, stride: 1, padding: .same(4)), input: u37),
        .init(label: "5x5 stride 2 pad 4, 3-wide plane", inC: 2, h: 5, w: 3, conv: Convolution(outputChannels: 3, kernel: 5, stride: 2, padding: .same(4)), input: s3),
        .init(label: "7x7 stride 3 pad 3", inC: 3, h: 11, w: 5, conv: Convolution(outputChannels: 4, kernel: 7, stride: 3, padding: .same(3)), input: u128),
        .init(label: "5x5 stride 2 grouped", inC: 6, h: 15, w: 15, conv: Convolution(outputChannels: 10, kernel: 5, stride: 2, padding: .same(2), groups: 2), input: u0),
        .init(label: "3x3 grouped", inC: 12, h: 6, w: 8, conv: Convolution(outputChannels: 9, kernel: 3, stride: 1, padding: .same(1), groups: 3), input: u37),
        .init(label: "3x3 wide", inC: 32, h: 14, w: 14, conv: Convolution(outputChannels: 50, kernel: 3, stride: 1, padding: .same(1)), input: u128),
        .init(label: "depthwise 3x3", inC: 13, h: 10, w: 9, conv: Convolution(outputChannels: 13, kernel: 3, stride: 1, padding: .same(1), groups: 13), input: u128),
        .init(label: "depthwise 3x3 stride 2", inC: 19, h: 12, w: 11,
              conv: Convolution(outputChannels: 19, kernel: 3, stride: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 19), input: u37),
        .init(label: "depthwise 3x3 stride 2 pad 1", inC: 7, h: 9, w: 8, conv: Convolution(outputChannels: 7, kernel: 3, stride: 2, padding: .same(1), groups: 7), input: s3),
        .init(label: "depthwise 3x3, 1-wide plane", inC: 5, h: 7, w: 1, conv: Convolution(outputChannels: 5, kernel: 3, stride: 1, padding: .same(1), groups: 5), input: u0),
        .init(label: "depthwise 3x3 stride 2, 1x1 plane", inC: 3, h: 1, w: 1, conv: Convolution(outputChannels: 3, kernel: 3, stride: 2, padding: .same(1), groups: 3), input: u128),
        // Wider than one 16-column vector, with a remainder; odd left padding split into even and odd columns.
        .init(label: "depthwise 5x5 pad 2, 37 wide", inC: 6, h: 9, w: 37, conv: Convolution(outputChannels: 6, kernel: 5, stride: 1, padding: .same(2), groups: 6), input: u37),
        .init(label: "depthwise 3x3 stride 2 pad 1, 40 wide", inC: 5, h: 8, w: 40, conv: Convolution(outputChannels: 5, kernel: 3, stride: 2, padding: .same(1), groups: 5), input: s3),
        .init(label: "depthwise 4x4 stride 2 pad 0, 35 wide", inC: 3, h: 7, w: 35, conv: Convolution(outputChannels: 3, kernel: 4, stride: 2, groups: 3), input: u128),
        // On AVX-512: outputs at most 32 wide and strided layers run 16 channels a vector, over
        // groups with a partial one (37 channels); stride 1 with and without padding, stride 2 with
        // MobileNet's right-and-bottom padding and 35 outputs wide. Wider at stride 1: four-row
        // blocks on planes (rows past the plane in the last block).
        .init(label: "depthwise 3x3 pad 1, 45 wide, 9 rows", inC: 3, h: 9, w: 45, conv: Convolution(outputChannels: 3, kernel: 3, stride: 1, padding: .same(1), groups: 3), input: u128),
        .init(label: "depthwise 3x3 stride 2 pad 1, 70 wide", inC: 2, h: 11, w: 70, conv: Convolution(outputChannels: 2, kernel: 3, stride: 2, padding: .same(1), groups: 2), input: s3),
        .init(label: "depthwise 3x3 pad 1, 37 channels, 14 wide", inC: 37, h: 6, w: 14, conv: Convolution(outputChannels: 37, kernel: 3, stride: 1, padding: .same(1), groups: 37), input: u37),
        .init(label: "depthwise 3x3 pad 1, 30 wide, 11 rows", inC: 5, h: 11, w: 30, conv: Convolution(outputChannels: 5, kernel: 3, stride: 1, padding: .same(1), groups: 5), input: u37),
        .init(label: "depthwise 3x3 no padding, 33 wide", inC: 3, h: 9, w: 33, conv: Convolution(outputChannels: 3, kernel: 3, groups: 3), input: s3),
        .init(label: "depthwise 3x3 stride 2 asymmetric pad, 27 wide", inC: 4, h: 13, w: 27,
              conv: Convolution(outputChannels: 4, kernel: 3, stride: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 4), input: u128),
        // Stride 3: the row-by-row kernel, or 16 channels a vector where the VNNI kernel runs.
        .init(label: "depthwise 3x3 stride 3 pad 1", inC: 4, h: 10, w: 20, conv: Convolution(outputChannels: 4, kernel: 3, stride: 3, padding: .same(1), groups: 4), input: u37),
        // Filters wider than 4 (two groups of 4 taps a row) at strides 2 and 3, and a plane
        // wider than 64 at stride 1 (the plane kernel where the VNNI kernel runs).
        .init(label: "depthwise 5x5 stride 2 pad 2, 21 channels", inC: 21, h: 11, w: 23, conv: Convolution(outputChannels: 21, kernel: 5, stride: 2, padding: .same(2), groups: 21), input: s3),
        .init(label: "depthwise 7x7 stride 3 pad 3", inC: 5, h: 16, w: 19, conv: Convolution(outputChannels: 5, kernel: 7, stride: 3, padding: .same(3), groups: 5), input: u128),
        .init(label: "depthwise 3x3 pad 1, 67 wide", inC: 3, h: 5, w: 67, conv: Convolution(outputChannels: 3, kernel: 3, stride: 1, padding: .same(1), groups: 3), input: u37),
        // The AVX2 kernel's edges: rows of exactly 16 and 32 pixels and one past them (its
        // 32-pixel blocks, read and written in 16-byte halves), filters of 2 taps a row (one pair,
        // stride 3 stepping windows by 3) and 1 (a pair with a zero tap).
        .init(label: "depthwise 3x3 pad 1, 16 wide, 17 channels", inC: 17, h: 4, w: 16, conv: Convolution(outputChannels: 17, kernel: 3, stride: 1, padding: .same(1), groups: 17), input: u37),
        .init(label: "depthwise 3x3 pad 1, 32 wide", inC: 3, h: 4, w: 32, conv: Convolution(outputChannels: 3, kernel: 3, stride: 1, padding: .same(1), groups: 3), input: s3),
        // Read in place (VNNI): rows of 12 and 14 outputs (each row's store running into the next
        // row's first columns, but the plane's last rows'), padding 2 before the plane and none
        // after it, 28 wide at stride 2 (14 out).
        .init(label: "depthwise 3x3 pad 1, 12 wide, 13 rows", inC: 6, h: 13, w: 12, conv: Convolution(outputChannels: 6, kernel: 3, stride: 1, padding: .same(1), groups: 6), input: u128),
        .init(label: "depthwise 3x3 pad 2 top and left, 15 wide (16 out)", inC: 4, h: 5, w: 15,
              conv: Convolution(outputChannels: 4, kernel: 3, stride: 1, padding: Padding(top: 2, left: 2, bottom: 0, right: 1), groups: 4), input: s3),
        .init(label: "depthwise 3x3 stride 2 pad 1, 28 wide (14 out), 18 channels", inC: 18, h: 10, w: 28, conv: Convolution(outputChannels: 18, kernel: 3, stride: 2, padding: .same(1), groups: 18), input: u37),
        .init(label: "depthwise 3x3 stride 2, 66 wide (33 out)", inC: 2, h: 5, w: 66,
              conv: Convolution(outputChannels: 2, kernel: 3, stride: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 2), input: u128),
        .init(label: "depthwise 2x2 stride 3", inC: 5, h: 11, w: 17, conv: Convolution(outputChannels: 5, kernel: 2, stride: 3, groups: 5), input: u37),
        .init(label: "depthwise 1x1 stride 2", inC: 18, h: 5, w: 9, conv: Convolution(outputChannels: 18, kernel: 1, stride: 2, groups: 18), input: s3),
    ]

    static func outputShape(_ c: Int8ConvCase) -> TensorShape {
        var builder = GraphBuilder(name: "t", input: TensorShape(c: c.inC, h: c.h, w: c.w))
        return builder.conv("c", builder.input, c.conv).shape
    }

    @Test("convolution: 1x1, im2col, grouped, depthwise; K 1 to 5, odd channels, strides 1 and 2, padding (the zero point), 1-wide planes; uint8 and int8 in and out; clamps hit at both ends", arguments: int8Kernels, convCases)
    func convolution(kernel: Int8Kernel, c: Int8ConvCase) {
        let x = TensorShape(c: c.inC, h: c.h, w: c.w), y = Self.outputShape(c)
        var rng = Int8Random(UInt64(c.inC * 7919 + c.conv.outputChannels * 31 + c.conv.kernelH + c.h * 3))
        let k = c.inC / c.conv.groups * c.conv.kernelH * c.conv.kernelW
        // Within what the layer's kernels take, packed or not (`maddubs`: 64 where the GEMM runs).
        let limit = Int8ConvWeights.weightLimit(c.conv, inputChannels: x.c, outputPixels: nil, kernel: kernel)
        let input = rng.bytes(x.count), weights = rng.weights(y.c * k, limit: limit), bias = rng.ints(y.c, -3000...3000)
        let weightScales = rng.floats(y.c, 0.002...0.02)
        let sums = Int8Reference.conv(c.conv, input, x, zx: c.input.zeroPoint, signed: c.input.signed, weights, bias, y)
        // An output scale that puts the sums' spread over about 1.5x the output range: the clamps are hit.
        let spread = Float(k).squareRoot() * 64 * Float(limit) / 127 * 100
        var lowHits = 0, highHits = 0
        for (out, act) in [(QuantParams(scale: 0.8 * spread / 255 * c.input.scale * 0.01, zeroPoint: 100), Activation?.none),
                           (QuantParams(scale: spread / 200 * c.input.scale * 0.01, zeroPoint: 20, signed: true), .relu),
                           (QuantParams(scale: spread / 300 * c.input.scale * 0.01, zeroPoint: 5), .relu6),
                           // int8 out without an activation: negative bytes (-128 clamps) come out.
                           (QuantParams(scale: 0.8 * spread / 255 * c.input.scale * 0.01, zeroPoint: -5, signed: true), nil)] {
            let range = out.clampRange(act)
            let multipliers = (0..<y.c).map { Float(Double(c.input.scale) * Double(weightScales[$0]) / Double(out.scale)) }
            let expected = (0..<y.count).map { Int8Reference.requantize(sums[$0], multipliers[$0 / (y.h * y.w)], zp: out.zeroPoint, range: range) }
            lowHits += expected.filter { Int8Reference.value($0, signed: out.signed) == range.lowerBound }.count
            highHits += expected.filter { Int8Reference.value($0, signed: out.signed) == range.upperBound }.count
            // Made as the runner makes them (the output's pixels known: a 1-pixel 1x1 layer keeps
            // its weights unpacked) and, for the linear case, without the pixels (packed anyway).
            let w = weights.withUnsafeBufferPointer { wp in weightScales.withUnsafeBufferPointer { sp in bias.withUnsafeBufferPointer { bp in
                Int8ConvWeights(c.conv, inputChannels: x.c, weights: wp.baseAddress!, weightScales: sp.baseAddress!, bias: bp.baseAddress!,
                                input: c.input, output: out, outputPixels: act == nil ? nil : y.h * y.w, kernel: kernel)
            } } }
            // Two threads as a runner has them (B packed by both together where the GEMM's rows are split), and without the shared B.
            for (threads, shared) in [(1, nil), (2, GEMM.SharedB()), (2, nil)] {
                let pool = ThreadPool(threads: threads)
                let ws = (0..<threads).map { _ in Int8GEMM.Workspace() }
                var got = [UInt8](repeating: 0xEE, count: y.count)
                input.withUnsafeBufferPointer { i in got.withUnsafeMutableBufferPointer { o in
                    Int8LayerKernels.convolution(w, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y, activation: act, pool: pool,
                                                 workspaces: ws, shared: shared)
                } }
                let wrong = zip(got, expected).filter { $0 != $1 }.count
                #expect(wrong == 0, "\(kernel) \(c) out \(out) \(act?.rawValue ?? "linear") \(threads) thread(s), shared B \(shared != nil): \(wrong) of \(y.count) differ")
            }
        }
        if y.count >= 20 { #expect(lowHits > 0 && highHits > 0, "the data must reach both clamps (low \(lowHits), high \(highHits))") }
    }

    @Test("fully connected: odd sizes, zero points 0 and not, int8 input", arguments: int8Kernels,
          [(1, 1, u128), (5, 3, u0), (37, 11, u37), (1024, 25, u128), (300, 1000, s3)])
    func fullyConnected(kernel: Int8Kernel, shape: (Int, Int, QuantParams)) {
        let (inputs, outputs, inParams) = shape
        var rng = Int8Random(UInt64(inputs * 131 + outputs))
        let conv = Convolution(outputChannels: outputs, kernel: 1)
        // The weights are packed for the GEMM too (made without the output's pixels).
        let limit = Int8ConvWeights.weightLimit(conv, inputChannels: inputs, outputPixels: nil, kernel: kernel)
        let input = rng.bytes(inputs), weights = rng.weights(inputs * outputs, limit: limit), bias = rng.ints(outputs, -5000...5000)
        let weightScales = rng.floats(outputs, 0.002...0.02)
        let out = QuantParams(scale: Float(inputs).squareRoot() * 0.02 * 0.01 * 64 / 60 * inParams.scale / 0.02, zeroPoint: 90)
        let sums = Int8Reference.conv(conv, input, TensorShape(c: inputs, h: 1, w: 1), zx: inParams.zeroPoint, signed: inParams.signed, weights, bias,
                                      TensorShape(c: outputs, h: 1, w: 1))
        for act in [Activation?.none, .relu6] {
            let range = out.clampRange(act)
            let expected = (0..<outputs).map {
                Int8Reference.requantize(sums[$0], Float(Double(inParams.scale) * Double(weightScales[$0]) / Double(out.scale)), zp: out.zeroPoint, range: range)
            }
            let w = weights.withUnsafeBufferPointer { wp in weightScales.withUnsafeBufferPointer { sp in bias.withUnsafeBufferPointer { bp in
                Int8ConvWeights(conv, inputChannels: inputs, weights: wp.baseAddress!, weightScales: sp.baseAddress!, bias: bp.baseAddress!,
                                input: inParams, output: out, kernel: kernel)
            } } }
            for threads in [1, 2] {
                var got = [UInt8](repeating: 0xEE, count: outputs)
                input.withUnsafeBufferPointer { i in got.withUnsafeMutableBufferPointer { o in
                    Int8LayerKernels.fullyConnected(w, input: i.baseAddress!, output: o.baseAddress!, activation: act, pool: ThreadPool(threads: threads))
                } }
                let wrong = zip(got, expected).filter { $0 != $1 }.count
                #expect(wrong == 0, "\(kernel) \(inputs) -> \(outputs) \(act?.rawValue ?? "linear") \(threads) thread(s): \(wrong) differ")
            }
        }
    }

    static func referencePool(_ p: Pooling, _ input: [UInt8], _ x: TensorShape, _ y: TensorShape, _ q: QuantParams) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: y.count)
        for c in 0..<x.c { for oy in 0..<y.h { for ox in 0..<y.w {
            let k = p.global ? max(x.h, x.w) : p.kernel
            let y0 = p.global ? 0 : oy * p.stride - p.padding.top, x0 = p.global ? 0 : ox * p.stride - p.padding.left
            var values: [Int32] = []
            for ky in 0..<k { for kx in 0..<k {
                let iy = y0 + ky, ix = x0 + kx
                guard iy >= 0, iy < x.h, ix >= 0, ix < x.w else { continue }
                values.append(Int8Reference.value(input[(c * x.h + iy) * x.w + ix], signed: q.signed))
            } }
            let v: Int32
            if p.kind == .max {
                v = values.max()!
            } else {
                // In steps with their types: Swift 6.2 (the emulated board's compiler) gives up on
                // the expression written in one.
                let count: Int32
                if p.countPadding && !p.global {
                    let rows: Int = min(y0 + k, x.h + p.padding.bottom) - y0
                    let cols: Int = min(x0 + k, x.w + p.padding.right) - x0
                    count = Int32(rows * cols)
                } else {
                    count = Int32(values.count)
                }
                var sum: Int32 = 0
                for value in values { sum += value - q.zeroPoint }
                let mean: Double = Double(sum) / Double(count)
                let rounded: Int32 = Int32(mean.rounded(FloatingPointRoundingRule.toNearestOrAwayFromZero))
                v = min(max(q.zeroPoint + rounded, q.range.lowerBound), q.range.upperBound)
            }
            out[(c * y.h + oy) * y.w + ox] = UInt8(truncatingIfNeeded: v)
        } } }
        return out
    }

    @Test("pooling: max and average, padding counted or not, ceil rounding, strides 1 and 2, global, 1-wide planes, uint8 and int8",
          arguments: [
            (Pooling(kind: .max, kernel: 3, stride: 2), 5, 13, 11, u37),
            (Pooling(kind: .max, kernel: 3, stride: 2, rounding: .ceil), 3, 13, 13, s3),
            (Pooling(kind: .max, kernel: 3, stride: 1, padding: .same(1)), 4, 7, 1, u128),
            (Pooling(kind: .average, kernel: 3, stride: 1, padding: .same(1)), 3, 6, 7, u128),
            (Pooling(kind: .average, kernel: 3, stride: 2, padding: .same(1), countPadding: true), 3, 9, 8, u37),
            (Pooling(kind: .average, kernel: 2, stride: 2), 2, 9, 9, s3),
            (Pooling.global(.average), 7, 7, 7, u128),
            (Pooling.global(.average), 3, 1, 5, s3),
            (Pooling.global(.max), 4, 3, 5, s3),
          ])
    func pooling(p: Pooling, c: Int, h: Int, w: Int, q: QuantParams) {
        let x = TensorShape(c: c, h: h, w: w)
        var builder = GraphBuilder(name: "t", input: x)
        let y = builder.pool("p", builder.input, p).shape
        var rng = Int8Random(UInt64(c * 100 + h * 10 + w))
        let input = rng.bytes(x.count)
        let expected = Self.referencePool(p, input, x, y, q)
        for threads in [1, 2] {
            var got = [UInt8](repeating: 0xEE, count: y.count)
            input.withUnsafeBufferPointer { i in got.withUnsafeMutableBufferPointer { o in
                Int8LayerKernels.pooling(p, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y, params: q, pool: ThreadPool(threads: threads))
            } }
            let wrong = zip(got, expected).filter { $0 != $1 }.count
            #expect(wrong == 0, "\(p) \(x) \(threads) thread(s): \(wrong) of \(y.count) differ")
        }
    }

    @Test("add with different scales and zero points, activations; concat with and without requantization; quantize and dequantize")
    func elementwise() {
        var rng = Int8Random(99)
        let n = 1001
        let a = rng.bytes(n), b = rng.bytes(n)
        for (ap, bp, op, act) in [(u128, u37, QuantParams(scale: 0.025, zeroPoint: 120), Activation?.none), (u0, s3, u37, .relu),
                                  (s3, u128, QuantParams(scale: 0.01, zeroPoint: -10, signed: true), .relu6), (u37, u37, u37, nil)] {
            let range = op.clampRange(act)
            let expected = (0..<n).map { i -> UInt8 in
                let f = Float(Int8Reference.value(a[i], signed: ap.signed) - ap.zeroPoint) * (ap.scale / op.scale)
                    + Float(Int8Reference.value(b[i], signed: bp.signed) - bp.zeroPoint) * (bp.scale / op.scale)
                let c = min(max(f, Float(range.lowerBound - op.zeroPoint)), Float(range.upperBound - op.zeroPoint))
                return UInt8(truncatingIfNeeded: Int32(c.rounded(.toNearestOrEven)) + op.zeroPoint)
            }
            #expect(expected.contains { Int8Reference.value($0, signed: op.signed) == range.lowerBound }, "the low clamp is hit")
            #expect(expected.contains { Int8Reference.value($0, signed: op.signed) == range.upperBound }, "the high clamp is hit")
            for threads in [1, 2] {
                var got = [UInt8](repeating: 0, count: n)
                a.withUnsafeBufferPointer { ap_ in b.withUnsafeBufferPointer { bp_ in got.withUnsafeMutableBufferPointer { o in
                    Int8LayerKernels.add(ap_.baseAddress!, ap, bp_.baseAddress!, bp, output: o.baseAddress!, op, count: n, activation: act,
                                         pool: ThreadPool(threads: threads))
                } } }
                #expect(got == expected, "add \(ap) + \(bp) -> \(op) \(threads) thread(s)")
            }
        }

        // Concat: 3 channels then 4 channels of 5x3, the second requantized.
        let plane = 15, first = rng.bytes(3 * plane), second = rng.bytes(4 * plane)
        for (p1, p2, op) in [(u37, u128, u37), (u0, s3, QuantParams(scale: 0.015, zeroPoint: 60)), (s3, u37, s3)] {
            let requant = { (q: UInt8, p: QuantParams) -> UInt8 in
                p == op ? q : Int8Reference.requantize(Int8Reference.value(q, signed: p.signed) - p.zeroPoint, p.scale / op.scale, zp: op.zeroPoint, range: op.range)
            }
            let expected = first.map { requant($0, p1) } + second.map { requant($0, p2) }
            for threads in [1, 2] {
                let pool = ThreadPool(threads: threads)
                var got = [UInt8](repeating: 0xEE, count: 7 * plane)
                first.withUnsafeBufferPointer { f in second.withUnsafeBufferPointer { s in got.withUnsafeMutableBufferPointer { o in
                    Int8LayerKernels.concat(f.baseAddress!, p1, channels: 3, plane: plane, into: o.baseAddress!, op, offset: 0, pool: pool)
                    Int8LayerKernels.concat(s.baseAddress!, p2, channels: 4, plane: plane, into: o.baseAddress!, op, offset: 3, pool: pool)
                } } }
                #expect(got == expected, "concat \(p1), \(p2) -> \(op) \(threads) thread(s)")
            }
        }

        // Quantize / dequantize: ties round to even, out-of-range values clamp, the round trip is within half a step.
        let values: [Float] = [0, 0.01, 0.015, 0.025, -0.015, 1e9, -1e9, 2.55, 3.0, -2.56] + (0..<200).map { _ in rng.float(-3...3) }
        for p in [u0, u128, u37, s3] {
            var q = [UInt8](repeating: 0, count: values.count), back = [Float](repeating: 0, count: values.count)
            values.withUnsafeBufferPointer { v in q.withUnsafeMutableBufferPointer { o in back.withUnsafeMutableBufferPointer { d in
                let pool = ThreadPool(threads: 2)
                Int8LayerKernels.quantize(v.baseAddress!, count: values.count, p, output: o.baseAddress!, pool: pool)
                Int8LayerKernels.dequantize(UnsafePointer(o.baseAddress!), count: values.count, p, output: d.baseAddress!, pool: pool)
            } } }
            for i in values.indices {
                let exact = Double(values[i]) / Double(p.scale)
                let want = min(max(Int64(Float(values[i] / p.scale).rounded(.toNearestOrEven)) + Int64(p.zeroPoint), Int64(p.range.lowerBound)), Int64(p.range.upperBound))
                #expect(Int64(Int8Reference.value(q[i], signed: p.signed)) == want, "quantize \(values[i]) with \(p)")
                #expect(back[i] == Float(Int32(want) - p.zeroPoint) * p.scale)
                if (Double(p.range.lowerBound - p.zeroPoint)...Double(p.range.upperBound - p.zeroPoint)).contains(exact) {
                    #expect(abs(Double(back[i]) - Double(values[i])) <= Double(p.scale) * 0.5001, "round trip of \(values[i]) with \(p)")
                }
            }
        }
        #expect(u0.quantize(0.01) == 0 && u0.quantize(0.03) == 2, "halves round to even")
    }

    @Test("clamp ranges of fused activations and parameters covering a range")
    func params() {
        let p = QuantParams(scale: 0.05, zeroPoint: 20)
        #expect(p.clampRange(nil) == 0...255)
        #expect(p.clampRange(.relu) == 20...255)
        #expect(p.clampRange(.relu6) == 20...140)
        #expect(QuantParams(scale: 0.01, zeroPoint: 0).clampRange(.relu6) == 0...255)
        #expect(QuantParams(scale: 0.1, zeroPoint: -100, signed: true).clampRange(.relu6) == -100 ... -40)
        let c = QuantParams.covering(min: -1, max: 3)
        #expect(c.zeroPoint == 64 && abs(c.scale - 4 / 255) < 1e-7)
        #expect(c.quantize(0) == 64, "0.0 is exact")
        let s = QuantParams.covering(min: 0.5, max: 2, signed: true)
        #expect(s.zeroPoint == -128 && s.quantize(0) == UInt8(bitPattern: -128))
    }
}
