import Foundation
import Kernels
import Networks
import Testing

/// Plain loops, the definitions the kernels are checked against.
enum Reference {
    static func conv(_ c: Convolution, _ input: [Float], _ x: TensorShape, _ w: [Float], _ bias: [Float]?, _ y: TensorShape, _ act: Activation?) -> [Float] {
        var out = [Float](repeating: 0, count: y.count)
        let inG = x.c / c.groups, outG = y.c / c.groups
        for oc in 0..<y.c {
            let g = oc / outG
            for oy in 0..<y.h { for ox in 0..<y.w {
                var s: Double = Double(bias?[oc] ?? 0)
                for ic in 0..<inG { for ky in 0..<c.kernelH { for kx in 0..<c.kernelW {
                    let iy = oy * c.strideH - c.padding.top + ky, ix = ox * c.strideW - c.padding.left + kx
                    guard iy >= 0, iy < x.h, ix >= 0, ix < x.w else { continue }
                    let v = input[((g * inG + ic) * x.h + iy) * x.w + ix]
                    s += Double(v) * Double(w[((oc * inG + ic) * c.kernelH + ky) * c.kernelW + kx])
                } } }
                out[(oc * y.h + oy) * y.w + ox] = activate(Float(s), act)
            } }
        }
        return out
    }

    static func activate(_ v: Float, _ a: Activation?) -> Float {
        switch a { case .none: v; case .relu: max(v, 0); case .relu6: min(max(v, 0), 6) }
    }

    static func pool(_ p: Pooling, _ input: [Float], _ x: TensorShape, _ y: TensorShape) -> [Float] {
        var out = [Float](repeating: 0, count: y.count)
        for c in 0..<x.c { for oy in 0..<y.h { for ox in 0..<y.w {
            var vals: [Float] = []
            var slots = 0
            let k = p.global ? max(x.h, x.w) : p.kernel
            let y0 = p.global ? 0 : oy * p.stride - p.padding.top, x0 = p.global ? 0 : ox * p.stride - p.padding.left
            for ky in 0..<k { for kx in 0..<k {
                let iy = y0 + ky, ix = x0 + kx
                if iy < x.h + p.padding.bottom && ix < x.w + p.padding.right { slots += 1 }
                guard iy >= 0, iy < x.h, ix >= 0, ix < x.w else { continue }
                vals.append(input[(c * x.h + iy) * x.w + ix])
            } }
            let v: Float = p.kind == .max ? vals.max()! : vals.reduce(0, +) / Float(p.countPadding && !p.global ? slots : vals.count)
            out[(c * y.h + oy) * y.w + ox] = v
        } } }
        return out
    }
}

@Suite("Layer kernels against reference loops")
struct LayerKernelTests {
    struct ConvCase: Sendable, CustomTestStringConvertible {
        let inC: Int, h: Int, w: Int, outC: Int, k: Int, stride: Int, pad: Padding, groups: Int, act: Activation?
        var testDescription: String { "\(inC)x\(h)x\(w) -> \(outC) k\(k) s\(stride) p\(pad.top),\(pad.left),\(pad.bottom),\(pad.right) g\(groups) \(act?.rawValue ?? "linear")" }

        /// The layer, its input and output shapes, and seeded input, weights and bias (and the
        /// generator, for more data).
        func data() -> (conv: Convolution, x: TensorShape, y: TensorShape, input: [Float], weights: [Float], bias: [Float], rng: TestRandom) {
            var rng = TestRandom(UInt64(inC * 7919 + outC * 31 + k))
            let conv = Convolution(outputChannels: outC, kernel: k, stride: stride, padding: pad, groups: groups)
            let x = TensorShape(c: inC, h: h, w: w)
            var b = GraphBuilder(name: "t", input: x)
            let y = b.conv("c", b.input, conv).shape
            let input = rng.array(x.count), weights = rng.array(outC * (inC / groups) * k * k), bias = rng.array(outC)
            return (conv, x, y, input, weights, bias, rng)
        }
    }

    static let convCases: [ConvCase] = [
        ConvCase(inC: 3, h: 11, w: 13, outC: 5, k: 3, stride: 1, pad: .same(1), groups: 1, act: .relu),
        ConvCase(inC: 17, h: 9, w: 7, outC: 33, k: 1, stride: 1, pad: .none, groups: 1, act: nil),
        // 1x1 on a single pixel (MobileNet's logits): the matrix-vector kernel.
        ConvCase(inC: 37, h: 1, w: 1, outC: 29, k: 1, stride: 1, pad: .none, groups: 1, act: .relu),
        ConvCase(inC: 6, h: 15, w: 15, outC: 10, k: 5, stride: 2, pad: .same(2), groups: 2, act: .relu),
        ConvCase(inC: 3, h: 23, w: 19, outC: 7, k: 11, stride: 4, pad: .none, groups: 1, act: .relu),
        ConvCase(inC: 13, h: 10, w: 9, outC: 13, k: 3, stride: 1, pad: .same(1), groups: 13, act: .relu6),
        ConvCase(inC: 19, h: 12, w: 11, outC: 19, k: 3, stride: 2, pad: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 19, act: .relu6),
        ConvCase(inC: 8, h: 7, w: 7, outC: 12, k: 1, stride: 2, pad: .none, groups: 1, act: nil),
        ConvCase(inC: 12, h: 6, w: 8, outC: 9, k: 3, stride: 1, pad: .same(1), groups: 3, act: .relu),
        ConvCase(inC: 35, h: 14, w: 14, outC: 40, k: 3, stride: 1, pad: .same(1), groups: 1, act: .relu),
        // Rows split between threads with B packed whole and shared (few column tiles).
        ConvCase(inC: 64, h: 14, w: 14, outC: 256, k: 3, stride: 1, pad: .same(1), groups: 1, act: .relu),
        ConvCase(inC: 96, h: 13, w: 13, outC: 200, k: 3, stride: 2, pad: .same(1), groups: 1, act: nil),
        // A panel starts at the last output column, whose window begins past the row (x86's NR).
        ConvCase(inC: 4, h: 5, w: 65, outC: 6, k: 3, stride: 2, pad: .same(1), groups: 1, act: nil),
        ConvCase(inC: 3, h: 9, w: 41, outC: 5, k: 3, stride: 2, pad: .none, groups: 1, act: .relu),
        ConvCase(inC: 2, h: 6, w: 50, outC: 7, k: 2, stride: 2, pad: Padding(top: 0, left: 1, bottom: 0, right: 0), groups: 1, act: nil),
        // One output column: every column of a panel is a run of its own, two of the three
        // filter columns all padding.
        ConvCase(inC: 5, h: 40, w: 1, outC: 6, k: 3, stride: 1, pad: .same(1), groups: 1, act: nil),
        // Stride 3 (the general strided gather) with K over one depth block (30 * 9 = 270).
        ConvCase(inC: 30, h: 17, w: 17, outC: 14, k: 3, stride: 3, pad: .same(1), groups: 1, act: .relu),
        // Depthwise with a filter wider than the padded row.
        ConvCase(inC: 3, h: 6, w: 2, outC: 3, k: 5, stride: 1, pad: .same(2), groups: 3, act: nil),
        // Depthwise on padded planes: MobileNet's strided 3x3 (padding right and bottom only) on an
        // even and an odd plane, planes of many 16-wide vectors, a 1-wide plane, no padding, 5x5,
        // stride 3 (copied out one by one), more threads than some channels.
        ConvCase(inC: 8, h: 16, w: 16, outC: 8, k: 3, stride: 2, pad: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 8, act: .relu6),
        ConvCase(inC: 7, h: 15, w: 15, outC: 7, k: 3, stride: 2, pad: .same(1), groups: 7, act: .relu),
        ConvCase(inC: 5, h: 37, w: 45, outC: 5, k: 3, stride: 1, pad: .same(1), groups: 5, act: .relu6),
        ConvCase(inC: 4, h: 9, w: 1, outC: 4, k: 3, stride: 1, pad: .same(1), groups: 4, act: nil),
        ConvCase(inC: 6, h: 12, w: 13, outC: 6, k: 3, stride: 1, pad: .none, groups: 6, act: .relu),
        ConvCase(inC: 2, h: 19, w: 21, outC: 2, k: 5, stride: 2, pad: .same(2), groups: 2, act: nil),
        ConvCase(inC: 3, h: 20, w: 22, outC: 3, k: 3, stride: 3, pad: .same(1), groups: 3, act: .relu6),
        // Strided rows swept four at a time: a 1x1 plane (one row, three copies of it unused), a
        // row of several vectors with a tail group of 1 row (9 output rows), a stride 1 sweep of
        // several 64-wide groups and a tail.
        ConvCase(inC: 3, h: 1, w: 1, outC: 3, k: 3, stride: 2, pad: .same(1), groups: 3, act: .relu),
        ConvCase(inC: 5, h: 17, w: 70, outC: 5, k: 3, stride: 2, pad: .same(1), groups: 5, act: .relu6),
        ConvCase(inC: 3, h: 11, w: 30, outC: 3, k: 3, stride: 1, pad: .same(1), groups: 3, act: nil),
        // Outputs 12 or more wide (AVX-512's four-row blocks): stride 1 without padding, stride 2
        // with right-and-bottom padding on an odd plane.
        ConvCase(inC: 3, h: 9, w: 33, outC: 3, k: 3, stride: 1, pad: .none, groups: 3, act: .relu),
        ConvCase(inC: 4, h: 13, w: 27, outC: 4, k: 3, stride: 2, pad: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 4, act: .relu6),
        // 3x3 stride 1 read in place (AVX-512): rows of one vector (12 to 15 wide, each row's
        // store running into the next row's first columns but the plane's last rows'), of exactly
        // one, a last block of 1 and of 2 rows, padding 2 left and top with none on the right.
        ConvCase(inC: 9, h: 14, w: 14, outC: 9, k: 3, stride: 1, pad: .same(1), groups: 9, act: .relu6),
        ConvCase(inC: 3, h: 13, w: 12, outC: 3, k: 3, stride: 1, pad: .same(1), groups: 3, act: nil),
        ConvCase(inC: 4, h: 6, w: 16, outC: 4, k: 3, stride: 1, pad: .same(1), groups: 4, act: .relu),
        ConvCase(inC: 2, h: 5, w: 15, outC: 2, k: 3, stride: 1, pad: Padding(top: 2, left: 2, bottom: 0, right: 1), groups: 2, act: nil),
        // Planes of several row blocks (at most 14 rows each, as equal as can be): 29 rows in
        // blocks of 10, 10 and 9 at stride 1; 31 output rows in 11, 10 and 10 at stride 2.
        ConvCase(inC: 3, h: 29, w: 20, outC: 3, k: 3, stride: 1, pad: .same(1), groups: 3, act: .relu6),
        ConvCase(inC: 3, h: 61, w: 40, outC: 3, k: 3, stride: 2, pad: .same(1), groups: 3, act: .relu),
        // More channels than one group of AVX2's 8-lane kernel (a partial group after whole
        // ones): rows of 9 and 7 pixels (a whole vector and a part), MobileNet's strided 3x3 on a
        // 14 x 14 plane, a 5x5 filter at stride 3.
        ConvCase(inC: 11, h: 9, w: 9, outC: 11, k: 3, stride: 1, pad: .same(1), groups: 11, act: .relu6),
        ConvCase(inC: 19, h: 14, w: 14, outC: 19, k: 3, stride: 2, pad: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 19, act: .relu),
        ConvCase(inC: 10, h: 7, w: 7, outC: 10, k: 3, stride: 1, pad: .same(1), groups: 10, act: nil),
        ConvCase(inC: 17, h: 13, w: 16, outC: 17, k: 5, stride: 3, pad: .same(2), groups: 17, act: .relu6),
        // A large plane (too big for a workspace's padded copy, read in place by AVX-512; the
        // direct kernel without workspaces below), and a thread without a channel.
        ConvCase(inC: 2, h: 640, w: 640, outC: 2, k: 3, stride: 1, pad: .same(1), groups: 2, act: .relu),
        // Few input channels (the direct kernel on AVX-512): 7x7 stride 2 as ResNet-50's first
        // layer, 5x5 with output channels not a multiple of 8, one input channel.
        ConvCase(inC: 3, h: 29, w: 37, outC: 12, k: 7, stride: 2, pad: .same(3), groups: 1, act: .relu),
        ConvCase(inC: 4, h: 10, w: 50, outC: 9, k: 5, stride: 1, pad: .same(2), groups: 1, act: nil),
        ConvCase(inC: 1, h: 20, w: 20, outC: 17, k: 3, stride: 1, pad: .same(1), groups: 1, act: .relu6),
        // AVX2's blocks of 6 output channels with every remainder: 12 and 32 above (none, 2), 9 (3),
        // 17 (5), and here 64 (4, ResNet-50's conv1 in small) and 7 (1).
        ConvCase(inC: 3, h: 19, w: 45, outC: 64, k: 7, stride: 2, pad: .same(3), groups: 1, act: .relu),
        ConvCase(inC: 2, h: 11, w: 26, outC: 7, k: 3, stride: 2, pad: .same(1), groups: 1, act: nil),
        // MobileNet's first layer (3x3 stride 2, padding right and bottom: the rows' even columns
        // to the even phase), on rows of two 16-column pieces and 3 more; 17 outputs a row (a
        // last vector of 1).
        ConvCase(inC: 3, h: 34, w: 35, outC: 32, k: 3, stride: 2, pad: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 1, act: .relu6),
        // Grouped, large enough for the threaded GEMM paths (bias offset per group, row splits).
        ConvCase(inC: 64, h: 14, w: 14, outC: 128, k: 3, stride: 1, pad: .same(1), groups: 2, act: .relu),
    ]

    @Test("convolution: general, 1x1, grouped, depthwise, strides, padding", arguments: convCases)
    func convolution(c: ConvCase) {
        let (conv, x, y, input, weights, bias, _) = c.data()
        let expected = Reference.conv(conv, input, x, weights, bias, y, c.act)
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threads: threads)
            let ws = (0..<threads).map { _ in GEMM.Workspace() }
            // Each way: weights packed per call, and packed once.
            for prepacked in [false, true] {
                var out = [Float](repeating: .nan, count: y.count)
                input.withUnsafeBufferPointer { i in weights.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { bb in out.withUnsafeMutableBufferPointer { o in
                    let packed = prepacked ? LayerKernels.ConvWeights.pack(conv, inputChannels: x.c, outputPixels: y.h * y.w, weights: w.baseAddress!) : nil
                    LayerKernels.convolution(conv, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y,
                                             weights: .init(weights: w.baseAddress!, bias: bb.baseAddress!, packed: packed), activation: c.act,
                                             pool: pool, workspaces: ws)
                } } } }
                #expect(close(out, expected, tolerance: 1e-4), "\(c.testDescription), \(threads) threads, prepacked \(prepacked)")
            }
            // The direct kernel, where this CPU runs it for the layer.
            if ConvAlgorithm.directApplies(conv, input: x, output: y) {
                var out = [Float](repeating: .nan, count: y.count)
                input.withUnsafeBufferPointer { i in weights.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { bb in out.withUnsafeMutableBufferPointer { o in
                    LayerKernels.convolution(conv, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y,
                                             weights: .init(weights: w.baseAddress!, bias: bb.baseAddress!, direct: true), activation: c.act,
                                             pool: pool, workspaces: ws)
                } } } }
                #expect(close(out, expected, tolerance: 1e-4), "\(c.testDescription), \(threads) threads, direct kernel")
            }
            // Depthwise without workspaces: the direct kernel, whatever the plane's size.
            if c.groups == c.inC && c.groups == c.outC && c.groups > 1 {
                var out = [Float](repeating: .nan, count: y.count)
                input.withUnsafeBufferPointer { i in weights.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { bb in out.withUnsafeMutableBufferPointer { o in
                    LayerKernels.depthwise(conv, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y,
                                           weights: .init(weights: w.baseAddress!, bias: bb.baseAddress!, packed: nil), activation: c.act, pool: pool)
                } } } }
                #expect(close(out, expected, tolerance: 1e-4), "\(c.testDescription), \(threads) threads, direct depthwise kernel")
                // With workspaces, each x86 kernel where this CPU has AVX-512 (the automatic choice
                // runs one or the other by shape; the first loop above ran it).
                if DirectConvolution.available {
                    for kernel in [ConvAlgorithm.DepthwiseKernel.planes, .lanes] {
                        var out = [Float](repeating: .nan, count: y.count)
                        input.withUnsafeBufferPointer { i in weights.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { bb in out.withUnsafeMutableBufferPointer { o in
                            LayerKernels.depthwise(conv, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y,
                                                   weights: .init(weights: w.baseAddress!, bias: bb.baseAddress!, packed: nil), activation: c.act,
                                                   pool: pool, workspaces: ws, kernel: kernel)
                        } } } }
                        #expect(close(out, expected, tolerance: 1e-4), "\(c.testDescription), \(threads) threads, depthwise \(kernel) kernel")
                    }
                }
            }
        }
    }

    @Test("pooling: max and average, padding, ceil rounding, global", arguments: [
        Pooling(kind: .max, kernel: 3, stride: 2, rounding: .ceil),
        Pooling(kind: .max, kernel: 3, stride: 2, padding: .same(1)),
        Pooling(kind: .average, kernel: 3, stride: 1, padding: .same(1)),
        Pooling(kind: .average, kernel: 3, stride: 1, padding: .same(1), countPadding: true),
        Pooling(kind: .average, kernel: 5, stride: 3, rounding: .ceil),
        Pooling(kind: .max, kernel: 2, stride: 2),
        Pooling(kind: .max, kernel: 3, stride: 1, padding: .same(1)),
        Pooling(kind: .average, kernel: 3, stride: 2, padding: .same(1)),
        Pooling(kind: .average, kernel: 2, stride: 2, padding: .same(1), countPadding: true),
        Pooling(kind: .max, kernel: 3, stride: 3, padding: Padding(top: 0, left: 1, bottom: 2, right: 2), rounding: .ceil),
        // 1x1 windows (a strided copy), stride 2 and 3.
        Pooling(kind: .max, kernel: 1, stride: 2), Pooling(kind: .max, kernel: 1, stride: 3, rounding: .ceil),
        Pooling.global(.average), Pooling.global(.max),
    ])
    func pooling(p: Pooling) {
        var rng = TestRandom(99)
        // Wide enough for interior columns, odd sizes, an input as small as the largest window, and
        // rows of several 8-column vectors and a remainder (the max pools' vector loops), a row
        // whose stride-2 outputs are whole vectors with the last one's 16 loads ending at the
        // row's end (64), and one whose interior outputs are exactly two vectors, the second
        // needing columns the 3-column maxima have not reached (34).
        for x in [TensorShape(c: 5, h: 13, w: 12), TensorShape(c: 3, h: 9, w: 31), TensorShape(c: 2, h: 5, w: 5), TensorShape(c: 2, h: 6, w: 45),
                  TensorShape(c: 2, h: 6, w: 64), TensorShape(c: 2, h: 7, w: 34)] {
            var b = GraphBuilder(name: "t", input: x)
            let y = b.pool("p", b.input, p).shape
            let input = rng.array(x.count)
            var out = [Float](repeating: .nan, count: y.count)
            input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                LayerKernels.pooling(p, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y, pool: ThreadPool(threads: 2))
            } }
            #expect(close(out, Reference.pool(p, input, x, y), tolerance: 1e-5), "\(x)")
        }
    }

    @Test("LRN against its definition: channels fewer and more than the window, planes over several blocks", arguments: [
        (TensorShape(c: 7, h: 3, w: 4), LRN(size: 5, alpha: 1e-4 * 5, beta: 0.75, k: 1)),
        (TensorShape(c: 2, h: 5, w: 5), LRN(size: 5, alpha: 0.5, beta: 0.75, k: 2)),
        (TensorShape(c: 9, h: 37, w: 61), LRN(size: 5, alpha: 0.3, beta: 0.75, k: 1)),
        (TensorShape(c: 6, h: 40, w: 30), LRN(size: 3, alpha: 0.4, beta: 0.5, k: 1.5)),
    ])
    func lrn(shape: TensorShape, n: LRN) {
        var rng = TestRandom(5)
        let input = rng.array(shape.count).map { $0 * 3 }
        for threads in [1, 2] {
            var out = [Float](repeating: .nan, count: shape.count)
            input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                LayerKernels.lrn(n, input: i.baseAddress!, x: shape, output: o.baseAddress!, pool: ThreadPool(threads: threads))
            } }
            let plane = shape.h * shape.w, half = n.size / 2
            let ref = (0..<shape.count).map { idx -> Float in
                let c = idx / plane, p = idx % plane
                var s = 0.0
                for cc in max(0, c - half)...min(shape.c - 1, c + half) { s += Double(input[cc * plane + p]) * Double(input[cc * plane + p]) }
                return Float(Double(input[idx]) / pow(Double(n.k) + Double(n.alpha) / Double(n.size) * s, Double(n.beta)))
            }
            #expect(close(out, ref, tolerance: 1e-5), "\(shape), \(threads) threads")
        }
    }

    @Test("fully connected: each output's float is the same on 1, 2 and 3 threads (shares of 4 rows and a remainder)")
    func fullyConnectedSameFloatsOnAnyThreads() {
        // 1001 x 1024 as MobileNet's logits: 501 and 500 rows on 2 threads, 334, 334 and 333 on
        // 3, so that rows a thread computes in fours on one count are remainder rows on another.
        var rng = TestRandom(21)
        let inputs = 1024 + 5, outputs = 1001
        let x = rng.array(inputs), w = rng.array(inputs * outputs), b = rng.array(outputs)
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            var y = [Float](repeating: .nan, count: outputs)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { yp in
                LayerKernels.fullyConnected(input: xp.baseAddress!, inputs: inputs, output: yp.baseAddress!, outputs: outputs,
                                            weights: wp.baseAddress!, bias: bp.baseAddress!, activation: nil, pool: ThreadPool(threads: threads))
            } } } }
            results.append(y)
        }
        for t in 1..<results.count {
            let differing = (0..<outputs).filter { results[t][$0] != results[0][$0] }
            #expect(differing.isEmpty, "\(t + 1) threads: outputs \(differing.prefix(8)) differ from 1 thread's")
        }
    }

    @Test func fullyConnectedLRNAddSoftmax() {
        var rng = TestRandom(7)
        let inputs = 1000 + 37, outputs = 23
        let x = rng.array(inputs), w = rng.array(inputs * outputs), b = rng.array(outputs)
        var y = [Float](repeating: .nan, count: outputs)
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { yp in
            LayerKernels.fullyConnected(input: xp.baseAddress!, inputs: inputs, output: yp.baseAddress!, outputs: outputs,
                                        weights: wp.baseAddress!, bias: bp.baseAddress!, activation: .relu, pool: ThreadPool(threads: 2))
        } } } }
        var expected = [Float](repeating: 0, count: outputs)
        for o in 0..<outputs {
            var s = Double(b[o])
            for i in 0..<inputs { s += Double(w[o * inputs + i]) * Double(x[i]) }
            expected[o] = Reference.activate(Float(s), .relu)
        }
        #expect(close(y, expected, tolerance: 1e-4))

        // LRN, against its definition.
        let shape = TensorShape(c: 7, h: 3, w: 4), n = LRN(size: 5, alpha: 1e-4 * 5, beta: 0.75, k: 1)
        let li = rng.array(shape.count).map { $0 * 3 }
        var lo = [Float](repeating: .nan, count: shape.count)
        li.withUnsafeBufferPointer { i in lo.withUnsafeMutableBufferPointer { o in
            LayerKernels.lrn(n, input: i.baseAddress!, x: shape, output: o.baseAddress!, pool: ThreadPool(threads: 2))
        } }
        let plane = 12
        let ref = (0..<shape.count).map { idx -> Float in
            let c = idx / plane, p = idx % plane
            var s: Float = 0
            for cc in max(0, c - 2)...min(6, c + 2) { s += li[cc * plane + p] * li[cc * plane + p] }
            return li[idx] / powf(1 + n.alpha / Float(n.size) * s, n.beta)
        }
        #expect(close(lo, ref, tolerance: 1e-5))

        // Add with ReLU, softmax.
        let a1 = rng.array(101), a2 = rng.array(101)
        var sum = [Float](repeating: 0, count: 101)
        a1.withUnsafeBufferPointer { p in a2.withUnsafeBufferPointer { q in sum.withUnsafeMutableBufferPointer { s in
            LayerKernels.add(p.baseAddress!, q.baseAddress!, output: s.baseAddress!, count: 101, activation: .relu, pool: ThreadPool(threads: 2))
        } } }
        #expect(sum == zip(a1, a2).map { max($0 + $1, 0) })
        var prob = [Float](repeating: 0, count: 101)
        a1.withUnsafeBufferPointer { p in prob.withUnsafeMutableBufferPointer { s in LayerKernels.softmax(p.baseAddress!, output: s.baseAddress!, count: 101) } }
        #expect(abs(prob.reduce(0, +) - 1) < 1e-5)
        #expect(prob.firstIndex(of: prob.max()!) == a1.firstIndex(of: a1.max()!))
    }
}
