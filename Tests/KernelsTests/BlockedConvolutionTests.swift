import Kernels
import Networks
import Testing

/// The channel-blocked kernels (NCHW8c) against the reference loops, on both layouts in and out,
/// with residuals, on the AVX2 and the baseline kernels, with 1 to 3 threads.
@Suite("Blocked (NCHW8c) kernels against reference loops")
struct BlockedConvolutionTests {
    typealias ConvCase = LayerKernelTests.ConvCase

    /// LayerKernelTests' ungrouped and depthwise cases, then shapes for this kernel's edges: a
    /// row of more than one 6-pixel tile and a remainder of each size, odd output blocks (one of
    /// the pair), input blocks over one pass (`block_group`: 64 for 1x1, 7 for 3x3), a plane one
    /// pixel wide, padding wider than the filter's reach on one side.
    static let cases: [ConvCase] = LayerKernelTests.convCases.filter { $0.groups == 1 || ($0.groups == $0.inC && $0.groups == $0.outC) } + [
        ConvCase(inC: 16, h: 5, w: 17, outC: 24, k: 3, stride: 1, pad: .same(1), groups: 1, act: .relu),
        ConvCase(inC: 9, h: 4, w: 11, outC: 8, k: 3, stride: 2, pad: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 1, act: .relu6),
        ConvCase(inC: 600, h: 3, w: 8, outC: 20, k: 1, stride: 1, pad: .none, groups: 1, act: nil),
        ConvCase(inC: 70, h: 6, w: 6, outC: 17, k: 3, stride: 1, pad: .same(1), groups: 1, act: .relu),
        ConvCase(inC: 8, h: 9, w: 1, outC: 16, k: 3, stride: 1, pad: .same(1), groups: 1, act: nil),
        ConvCase(inC: 3, h: 12, w: 12, outC: 32, k: 3, stride: 2, pad: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 1, act: .relu6),
        ConvCase(inC: 5, h: 8, w: 8, outC: 11, k: 3, stride: 1, pad: Padding(top: 3, left: 4, bottom: 0, right: 1), groups: 1, act: nil),
        ConvCase(inC: 24, h: 13, w: 29, outC: 24, k: 3, stride: 1, pad: .same(1), groups: 24, act: .relu6),
        ConvCase(inC: 16, h: 7, w: 7, outC: 16, k: 3, stride: 2, pad: .same(1), groups: 16, act: nil),
    ]

    /// NCHW `values` of `shape` in the blocked layout, or back.
    static func blocked(_ values: [Float], _ shape: TensorShape) -> [Float] {
        var out = [Float](repeating: 0, count: BlockedLayout.count(shape))
        let plane = shape.h * shape.w
        for c in 0..<shape.c { for p in 0..<plane { out[((c / 8) * plane + p) * 8 + c % 8] = values[c * plane + p] } }
        return out
    }

    static func unblocked(_ values: [Float], _ shape: TensorShape) -> [Float] {
        let plane = shape.h * shape.w
        return (0..<shape.count).map { i in values[(((i / plane) / 8) * plane + i % plane) * 8 + (i / plane) % 8] }
    }

    @Test("convolution: blocked or NCHW in and out, residual, activation, AVX2 and baseline", arguments: cases)
    func convolution(c: ConvCase) {
        var (conv, x, y, input, weights, bias, rng) = c.data()
        let residual = rng.array(y.count)
        let plain = Reference.conv(conv, input, x, weights, bias, y, nil)
        let w = weights.withUnsafeBufferPointer { BlockedConvWeights(conv, inputChannels: x.c, weights: $0.baseAddress!, bias: bias) }
        let depthwise = w.depthwise
        for threads in [1, 3] {
            let pool = ThreadPool(threads: threads)
            for baseline in [false, true] {
                for inBlocked in depthwise ? [true] : [true, false] {
                    for outBlocked in depthwise ? [true] : [true, false] {
                        for withResidual in depthwise ? [false] : [false, true] {
                            let source = inBlocked ? Self.blocked(input, x) : input
                            let res = outBlocked ? Self.blocked(residual, y) : residual
                            var out = [Float](repeating: .nan, count: outBlocked ? BlockedLayout.count(y) : y.count)
                            source.withUnsafeBufferPointer { i in res.withUnsafeBufferPointer { r in out.withUnsafeMutableBufferPointer { o in
                                BlockedConvolution.run(w, input: i.baseAddress!, x: x, inputBlocked: inBlocked, output: o.baseAddress!, y: y,
                                                       outputBlocked: outBlocked, residual: withResidual ? r.baseAddress! : nil,
                                                       activation: c.act, pool: pool, baseline: baseline)
                            } } }
                            let expected = plain.indices.map { Reference.activate(plain[$0] + (withResidual ? residual[$0] : 0), c.act) }
                            let got = outBlocked ? Self.unblocked(out, y) : out
                            let what = "\(c.testDescription), \(threads) threads, baseline \(baseline), in \(inBlocked ? "blocked" : "NCHW"), out \(outBlocked ? "blocked" : "NCHW"), residual \(withResidual)"
                            #expect(close(got, expected, tolerance: 1e-4), "\(what)")
                            if outBlocked {
                                // The padding channels of the last block are written, as 0 (+ the
                                // residual's padding, 0) clamped.
                                // (Loops, not nested closures: Debian's arm64 Swift could not type-check those.)
                                let plane: Int = y.h * y.w, lanes: Int = BlockedLayout.blocks(c.outC) * 8
                                var pads: [Float] = []
                                for ch in c.outC..<lanes {
                                    for p in 0..<plane { pads.append(out[((ch / 8) * plane + p) * 8 + ch % 8]) }
                                }
                                #expect(pads.allSatisfy { $0 == 0 }, "\(what): padding channels")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("pooling: the same floats as LayerKernels.pooling", arguments: [
        Pooling(kind: .max, kernel: 3, stride: 2, rounding: .ceil),
        Pooling(kind: .max, kernel: 3, stride: 2, padding: .same(1)),
        Pooling(kind: .average, kernel: 3, stride: 1, padding: .same(1)),
        Pooling(kind: .average, kernel: 3, stride: 1, padding: .same(1), countPadding: true),
        Pooling(kind: .average, kernel: 2, stride: 2, padding: .same(1), countPadding: true),
        Pooling(kind: .max, kernel: 3, stride: 3, padding: Padding(top: 0, left: 1, bottom: 2, right: 2), rounding: .ceil),
        Pooling(kind: .max, kernel: 1, stride: 2),
        Pooling.global(.average), Pooling.global(.max),
    ])
    func pooling(p: Pooling) {
        var rng = TestRandom(7)
        // A 1x1 plane for the global pools (MobileNet's and ResNet-50's last feature maps are 7x7).
        let planes = [TensorShape(c: 13, h: 13, w: 12), TensorShape(c: 3, h: 9, w: 31), TensorShape(c: 16, h: 5, w: 5)] + (p.global ? [TensorShape(c: 9, h: 1, w: 1)] : [])
        for x in planes {
            var b = GraphBuilder(name: "t", input: x)
            let y = b.pool("p", b.input, p).shape
            let input = rng.array(x.count)
            var out = [Float](repeating: .nan, count: BlockedLayout.count(y))
            Self.blocked(input, x).withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                BlockedPooling.run(p, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y, pool: ThreadPool(threads: 3))
            } }
            #expect(close(Self.unblocked(out, y), Reference.pool(p, input, x, y), tolerance: 1e-5), "\(x)")
        }
    }

    @Test("reorders: NCHW to blocked and back, padding channels 0", arguments: [TensorShape(c: 3, h: 4, w: 5), TensorShape(c: 16, h: 2, w: 3), TensorShape(c: 17, h: 1, w: 1)])
    func reorders(x: TensorShape) {
        var rng = TestRandom(3)
        let input = rng.array(x.count)
        var blocked = [Float](repeating: .nan, count: BlockedLayout.count(x)), back = [Float](repeating: .nan, count: x.count)
        let pool = ThreadPool(threads: 2)
        input.withUnsafeBufferPointer { i in blocked.withUnsafeMutableBufferPointer { b in back.withUnsafeMutableBufferPointer { o in
            BlockedLayout.block(i.baseAddress!, x, into: b.baseAddress!, pool: pool)
            BlockedLayout.unblock(UnsafePointer(b.baseAddress!), x, into: o.baseAddress!, pool: pool)
        } } }
        #expect(blocked == Self.blocked(input, x))
        #expect(back == input)
    }
}
