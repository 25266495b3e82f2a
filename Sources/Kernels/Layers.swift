import CInt8Kernels
import Networks
#if canImport(Glibc)
import Glibc
#endif

/// The fp32 kernels of a network's layers, on one image in NCHW layout. Each takes a thread pool
/// and splits its work between the threads; none allocates.
public enum LayerKernels {
    // MARK: - Convolution

    /// A convolution's weights, laid out [outC][inC/groups][kh][kw], and its bias; `packed`
    /// holds each group's weights already in GEMM panels (made once, see `pack`); `winograd`,
    /// when given, their Winograd transform, and the convolution then runs Winograd F(4x4, 3x3);
    /// `direct`: the convolution runs the direct kernel (`ConvAlgorithm.direct`, which must apply).
    public struct ConvWeights {
        public let weights: UnsafePointer<Float>
        public let bias: UnsafePointer<Float>?
        public let packed: [PackedA]?
        public let winograd: WinogradWeights?
        public let direct: Bool
        public init(weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, packed: [PackedA]? = nil, winograd: WinogradWeights? = nil,
                    direct: Bool = false) {
            self.weights = weights
            self.bias = bias
            self.packed = packed
            self.winograd = winograd
            self.direct = direct
        }

        /// Packs each group's weights for the GEMM; nil when `convolution` runs another kernel
        /// (depthwise, or a matrix-vector product on one output pixel). The kernel is the
        /// default, or for some 1x1 layers on `cpu` one that reads their input in place (below).
        public static func pack(_ conv: Convolution, inputChannels: Int, outputPixels: Int, weights: UnsafePointer<Float>,
                                cpu: GEMMKernel.CPU = .current) -> [PackedA]? {
            let algorithm = ConvAlgorithm.withoutWinograd(conv, inputChannels: inputChannels, outputPixels: outputPixels)
            switch algorithm {
            case .gemm1x1, .im2col: break
            case .depthwise, .matrixVector, .winograd, .direct, .blocked, .blockedDepthwise: return nil
            }
            let outPerGroup = conv.outputChannels / conv.groups
            let k = inputChannels / conv.groups * conv.kernelH * conv.kernelW
            // A 1x1 layer's input is B read in place where the kernel takes every row in whole
            // panels: on full-width AVX-512 such a kernel (`GEMMKernel.inPlace`) where B's rows
            // are whole 64-byte lines apart. On Intel, ResNet-50's 56x56 and 28x28 layers took
            // 0.90-0.95x the time with zmm8x32 in place (medians of 3 rounds); its 7x7 ones (49
            // columns, rows 196 bytes apart) 1.15-1.22x, so they keep zmm12x32 and pack B
            // (docs/kernels.md, "Intel").
            let inPlace = algorithm == .gemm1x1 && outputPixels % 16 == 0
            let kernel = (inPlace ? GEMMKernel.inPlace(m: outPerGroup, cpu: cpu) : nil) ?? GEMM.kernel
            return (0..<conv.groups).map { g in PackedA(m: outPerGroup, k: k, a: weights + g * outPerGroup * k, lda: k, kernel: kernel) }
        }
    }

    /// Convolution of `input` (shape `x`) into `output` (shape `y`): with Winograd weights, Winograd
    /// F(4x4, 3x3) in `winograd` (a workspace its plan fits); with `direct` weights, the direct
    /// kernel (`DirectConvolution`); otherwise 1x1 stride-1 convolutions
    /// are a GEMM on the input as is (a matrix-vector product on a single pixel), other
    /// convolutions a GEMM whose B operand packs im2col columns on the fly, depthwise convolutions
    /// (groups == channels) a direct kernel. `ConvAlgorithm.choose` says which a layer should run;
    /// the caller prepares its weights accordingly (`NetworkRunner`).
    /// With a `residual` (a tensor of shape `y`), the output is activation(convolution + bias +
    /// residual), the add done in the GEMM's epilogue (`ResidualFusion`): GEMM algorithms only.
    public static func convolution(_ conv: Convolution, input: UnsafePointer<Float>, x: TensorShape, output: UnsafeMutablePointer<Float>,
                                   y: TensorShape, weights w: ConvWeights, activation: Activation?, residual: UnsafePointer<Float>? = nil,
                                   pool: ThreadPool, workspaces: [GEMM.Workspace],
                                   winograd: WinogradConvolution.Workspace? = nil) {
        let groups = conv.groups
        precondition(residual == nil || (w.winograd == nil && !w.direct), "convolution: a residual is added by the GEMM algorithms only")
        let n = y.h * y.w
        if let transformed = w.winograd {
            guard let winograd else { preconditionFailure("convolution: Winograd weights without a Winograd workspace") }
            WinogradConvolution.run(conv, input: input, x: x, output: output, y: y, weights: transformed, bias: w.bias,
                                    activation: activation, pool: pool, workspace: winograd, gemmWorkspaces: workspaces)
            return
        }
        if w.direct {
            DirectConvolution.run(conv, input: input, x: x, output: output, y: y, weights: w.weights, bias: w.bias,
                                  activation: activation, pool: pool, workspaces: workspaces)
            return
        }
        switch ConvAlgorithm.withoutWinograd(conv, inputChannels: x.c, outputPixels: n) {
        case .depthwise, .blockedDepthwise:
            precondition(residual == nil, "convolution: a residual is added by the GEMM algorithms only")
            depthwise(conv, input: input, x: x, output: output, y: y, weights: w, activation: activation, pool: pool, workspaces: workspaces)
            return
        case .matrixVector:
            // The weights [out][in] are the fully connected layer's layout.
            precondition(residual == nil, "convolution: a residual is added by the GEMM algorithms only")
            fullyConnected(input: input, inputs: x.c, output: output, outputs: y.c, weights: w.weights, bias: w.bias,
                           activation: activation, pool: pool)
            return
        case .gemm1x1, .im2col, .winograd, .direct, .blocked:
            break
        }
        let inPerGroup = x.c / groups, outPerGroup = y.c / groups
        let k = inPerGroup * conv.kernelH * conv.kernelW
        let pointwise = conv.kernelH == 1 && conv.kernelW == 1 && conv.strideH == 1 && conv.strideW == 1 &&
            conv.padding == .none
        for g in 0..<groups {
            let a = w.weights + g * outPerGroup * k
            let src = input + g * inPerGroup * x.h * x.w
            let dst = output + g * outPerGroup * n
            // Bias, residual and activation are applied to each output tile as the GEMM finishes it.
            let epi = GEMMEpilogue(bias: w.bias.map { $0 + g * outPerGroup }, activation: activation,
                                   residual: residual.map { .init($0 + g * outPerGroup * n, addedTo: dst) })
            if pointwise {
                let b = GEMMB.dense(DenseB(src, ldb: n))
                if let packed = w.packed?[g] {
                    GEMM.multiply(packed: packed, n: n, b: b, c: dst, ldc: n, epilogue: epi, pool: pool, workspaces: workspaces)
                } else {
                    GEMM.multiply(m: outPerGroup, n: n, k: k, a: a, lda: k, b: b, c: dst, ldc: n, epilogue: epi, pool: pool, workspaces: workspaces)
                }
            } else {
                let b = GEMMB.im2col(Im2colB(input: src, shape: Im2colShape(conv, input: x, outputWidth: y.w)))
                if let packed = w.packed?[g] {
                    GEMM.multiply(packed: packed, n: n, b: b, c: dst, ldc: n, epilogue: epi, pool: pool, workspaces: workspaces)
                } else {
                    GEMM.multiply(m: outPerGroup, n: n, k: k, a: a, lda: k, b: b, c: dst, ldc: n, epilogue: epi, pool: pool, workspaces: workspaces)
                }
            }
        }
    }

    /// Depthwise convolution: each channel with its own kh x kw filter. With a workspace per
    /// thread, on x86-64 with AVX-512 the C kernels of depthwise_x86.c (`avx512Work`) where
    /// `ConvAlgorithm.DepthwiseKernel` chooses them, with AVX2 8 channels a vector (`lanesWork`,
    /// depthwise_f32_avx2.c); elsewhere,
    /// with a plane that fits in a workspace, each channel is copied into a zero-padded plane and
    /// every output is a sum of kh x kw vector multiply-adds over that plane, 16 positions at a
    /// time, with no bounds to check (see `DepthwisePaddedJob`). Otherwise, rows of the output are
    /// accumulated with inner loops over the valid output columns. `kernel` chooses between the
    /// two x86 kernels where the CPU has AVX-512 (`ConvAlgorithm.DepthwiseKernel`).
    public static func depthwise(_ conv: Convolution, input: UnsafePointer<Float>, x: TensorShape, output: UnsafeMutablePointer<Float>,
                                 y: TensorShape, weights w: ConvWeights, activation: Activation?, pool: ThreadPool,
                                 workspaces: [GEMM.Workspace] = [], kernel: ConvAlgorithm.DepthwiseKernel = .current) {
        let layout = DepthwisePaddedJob.Layout(conv: conv, x: x, y: y)
        let plan = DepthwisePaddedJob.avx512Plan(conv, x: x, y: y, choice: kernel)
        let lanes = plan == nil ? DepthwisePaddedJob.lanesShape(conv, x: x, y: y) : nil
        if workspaces.count >= pool.count && (plan != nil || lanes != nil || layout.scratchCount <= GEMM.Workspace.scratchCount) {
            var job = DepthwisePaddedJob(conv: conv, layout: layout, input: input, x: x, output: output, y: y, weights: w.weights,
                                         bias: w.bias, activation: activation, pool: pool, workspaces: workspaces, plan: plan,
                                         lanes: lanes)
            pool.run(&job)
            return
        }
        var job = DepthwiseJob(conv: conv, input: input, x: x, output: output, y: y, weights: w.weights, bias: w.bias,
                               activation: activation, threads: pool.count)
        pool.run(&job)
    }

    /// Depthwise convolution on a zero-padded copy of each channel. In the padded plane (hp x wp),
    /// output (oy, ox) is the sum over the taps of w[ky][kx] * plane[oy*sh + ky][ox*sw + kx]. The
    /// sums are formed at stride 1 along the row, for all of a row's wp positions at once (the last
    /// kw - 1 are never used), 16 at a time. With sh == 1 the rows follow each other in the plane,
    /// so one sweep covers the whole output, 64 positions (four independent accumulators) at a
    /// time; otherwise four output rows are swept together, one accumulator each, into rows of
    /// sums `pitch` apart. Four chains in flight hide the FMA's latency (one chain of kh x kw
    /// dependent FMAs per vector ran at about a quarter of the FMA rate on Zen 4). The activation
    /// is applied to the sweep, and the used positions (every sw-th) are copied out. Each sum is
    /// the bias plus its taps in (ky, kx) order, on any number of threads.
    struct DepthwisePaddedJob: PoolJob {
        struct Layout {
            /// The padded plane, and the floats read past its end by the last 16-wide vectors.
            let hp: Int, wp: Int, slack: Int
            /// Where the stride-1 sums start in the scratch, how many rows one sweep covers, and
            /// the floats from one row of sums to the next.
            let sums: Int, rowsPerSweep: Int, pitch: Int
            var scratchCount: Int { sums + rowsPerSweep * pitch + 32 }

            init(conv: Convolution, x: TensorShape, y: TensorShape) {
                let pad = conv.padding
                wp = max(x.w + pad.left + pad.right, (y.w - 1) * conv.strideW + conv.kernelW)
                hp = max(x.h + pad.top + pad.bottom, (y.h - 1) * conv.strideH + conv.kernelH)
                slack = (conv.kernelW + 31) / 16 * 16
                sums = hp * wp + slack
                // sh == 1: one sweep over rows wp apart. Otherwise 4 rows, each of whole vectors.
                rowsPerSweep = conv.strideH == 1 ? y.h : 4
                pitch = conv.strideH == 1 ? wp : (wp + 15) / 16 * 16
            }
        }

        let conv: Convolution
        let layout: Layout
        let input: UnsafePointer<Float>, x: TensorShape
        let output: UnsafeMutablePointer<Float>, y: TensorShape
        let weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?
        let activation: Activation?
        let pool: ThreadPool
        var threads: Int { pool.count }
        let workspaces: [GEMM.Workspace]
        /// The AVX-512 kernel's layout where it runs (`avx512Plan`), which then does the work.
        let plan: socprof_dw_plan?
        /// Elsewhere, the shape for the AVX2 kernel where it runs (`lanesShape`), which then does it.
        let lanes: socprof_dw_shape?
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: DepthwisePaddedJob.self).pointee.work(t) }

        func work(_ t: Int) {
            if let plan { return avx512Work(t, plan) }
            if let shape = lanes { return lanesWork(t, shape) }
            let kh = conv.kernelH, kw = conv.kernelW, sh = conv.strideH, sw = conv.strideW
            let pt = conv.padding.top, pl = conv.padding.left
            let hp = layout.hp, wp = layout.wp, pitch = layout.pitch
            let plane = workspaces[t].scratch, sums = plane + layout.sums
            for ch in ThreadPool.share(x.c, part: t, of: threads) {
                // The padded copy: zero borders, the channel's rows, zero slack.
                let src = input + ch * x.h * x.w
                FloatRun.zero(plane, pt * wp)
                for iy in 0..<x.h {
                    let d = plane + (pt + iy) * wp
                    FloatRun.zero(d, pl)
                    FloatRun.copy(src + iy * x.w, d + pl, x.w)
                    FloatRun.zero(d + pl + x.w, wp - pl - x.w)
                }
                FloatRun.zero(plane + (pt + x.h) * wp, (hp - pt - x.h) * wp + layout.slack)

                let f = weights + ch * kh * kw
                let b = SIMD16<Float>(repeating: bias?[ch] ?? 0)
                let dst = output + ch * y.h * y.w
                if sh == 1 {
                    // One sweep: position p is plane[p + ky*wp + kx], output row p / wp.
                    let n = y.h * wp
                    var p = 0
                    while p &+ 64 <= n {
                        var a0 = b, a1 = b, a2 = b, a3 = b
                        for ky in 0..<kh {
                            let r = UnsafeRawPointer(plane + (ky &* wp &+ p))
                            for kx in 0..<kw {
                                let wv = SIMD16<Float>(repeating: f[ky &* kw &+ kx])
                                a0 = a0.addingProduct(wv, r.loadUnaligned(fromByteOffset: kx &* 4, as: SIMD16<Float>.self))
                                a1 = a1.addingProduct(wv, r.loadUnaligned(fromByteOffset: (kx &+ 16) &* 4, as: SIMD16<Float>.self))
                                a2 = a2.addingProduct(wv, r.loadUnaligned(fromByteOffset: (kx &+ 32) &* 4, as: SIMD16<Float>.self))
                                a3 = a3.addingProduct(wv, r.loadUnaligned(fromByteOffset: (kx &+ 48) &* 4, as: SIMD16<Float>.self))
                            }
                        }
                        let s = UnsafeMutableRawPointer(sums + p)
                        s.storeBytes(of: a0, as: SIMD16<Float>.self)
                        s.storeBytes(of: a1, toByteOffset: 64, as: SIMD16<Float>.self)
                        s.storeBytes(of: a2, toByteOffset: 128, as: SIMD16<Float>.self)
                        s.storeBytes(of: a3, toByteOffset: 192, as: SIMD16<Float>.self)
                        p &+= 64
                    }
                    while p < n {
                        var acc = b
                        for ky in 0..<kh {
                            let r = UnsafeRawPointer(plane + (ky &* wp &+ p))
                            for kx in 0..<kw {
                                acc = acc.addingProduct(SIMD16(repeating: f[ky &* kw &+ kx]),
                                                        r.loadUnaligned(fromByteOffset: kx &* 4, as: SIMD16<Float>.self))
                            }
                        }
                        UnsafeMutableRawPointer(sums + p).storeBytes(of: acc, as: SIMD16<Float>.self)
                        p &+= 16
                    }
                    activate(sums, n)
                    for r in 0..<y.h { store(row: sums + r * wp, stride: sw, into: dst + r * y.w, count: y.w) }
                    continue
                }
                var oy = 0
                while oy < y.h {
                    // Rows oy..<oy+rows; past the last row, the last row again (its sums unused).
                    let rows = min(4, y.h - oy), last = oy + rows - 1
                    let r0 = plane + oy * sh * wp, r1 = plane + min(oy + 1, last) * sh * wp
                    let r2 = plane + min(oy + 2, last) * sh * wp, r3 = plane + min(oy + 3, last) * sh * wp
                    var p = 0
                    while p < wp {
                        var a0 = b, a1 = b, a2 = b, a3 = b
                        for ky in 0..<kh {
                            let o = ky &* wp &+ p
                            let q0 = UnsafeRawPointer(r0 + o), q1 = UnsafeRawPointer(r1 + o)
                            let q2 = UnsafeRawPointer(r2 + o), q3 = UnsafeRawPointer(r3 + o)
                            for kx in 0..<kw {
                                let wv = SIMD16<Float>(repeating: f[ky &* kw &+ kx])
                                a0 = a0.addingProduct(wv, q0.loadUnaligned(fromByteOffset: kx &* 4, as: SIMD16<Float>.self))
                                a1 = a1.addingProduct(wv, q1.loadUnaligned(fromByteOffset: kx &* 4, as: SIMD16<Float>.self))
                                a2 = a2.addingProduct(wv, q2.loadUnaligned(fromByteOffset: kx &* 4, as: SIMD16<Float>.self))
                                a3 = a3.addingProduct(wv, q3.loadUnaligned(fromByteOffset: kx &* 4, as: SIMD16<Float>.self))
                            }
                        }
                        let s = UnsafeMutableRawPointer(sums + p)
                        s.storeBytes(of: a0, as: SIMD16<Float>.self)
                        s.storeBytes(of: a1, toByteOffset: pitch &* 4, as: SIMD16<Float>.self)
                        s.storeBytes(of: a2, toByteOffset: pitch &* 8, as: SIMD16<Float>.self)
                        s.storeBytes(of: a3, toByteOffset: pitch &* 12, as: SIMD16<Float>.self)
                        p &+= 16
                    }
                    activate(sums, rows * pitch)
                    for r in 0..<rows { store(row: sums + r * pitch, stride: sw, into: dst + (oy + r) * y.w, count: y.w) }
                    oy += rows
                }
            }
        }

        /// The activation over `n` sums: one long loop the compiler vectorises (the generic
        /// `pointwiseMax` would be a library call).
        @inline(__always)
        func activate(_ sums: UnsafeMutablePointer<Float>, _ n: Int) {
            switch activation {
            case .none: break
            case .relu: for q in 0..<n { sums[q] = max(sums[q], 0) }
            case .relu6: for q in 0..<n { sums[q] = min(max(sums[q], 0), 6) }
            }
        }

        /// out[i] = s[i * stride] for i < count, in vectors where the stride allows.
        @inline(__always)
        func store(row s: UnsafeMutablePointer<Float>, stride: Int, into out: UnsafeMutablePointer<Float>, count: Int) {
            if stride == 1 {
                FloatRun.copy(s, out, count)
            } else {
                var i = 0
                if stride == 2 {
                    // 16 sums loaded, the even lanes kept (the row of sums has 32 floats of slack).
                    let src = UnsafeRawPointer(s), dst = UnsafeMutableRawPointer(out)
                    while i &+ 8 <= count {
                        dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i &* 8, as: SIMD16<Float>.self).evenHalf,
                                       toByteOffset: i &* 4, as: SIMD8<Float>.self)
                        i &+= 8
                    }
                }
                while i < count { out[i] = s[i &* stride]; i &+= 1 }
            }
        }
    }

    struct DepthwiseJob: PoolJob {
        let conv: Convolution
        let input: UnsafePointer<Float>, x: TensorShape
        let output: UnsafeMutablePointer<Float>, y: TensorShape
        let weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?
        let activation: Activation?
        let threads: Int
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: DepthwiseJob.self).pointee.work(t) }

        func work(_ t: Int) {
            let kh = conv.kernelH, kw = conv.kernelW, sh = conv.strideH, sw = conv.strideW
            let pt = conv.padding.top, pl = conv.padding.left
            for ch in ThreadPool.share(x.c, part: t, of: threads) {
                let src = input + ch * x.h * x.w, dst = output + ch * y.h * y.w
                let f = weights + ch * kh * kw
                let b = bias?[ch] ?? 0
                for oy in 0..<y.h {
                    let row = dst + oy * y.w
                    row.update(repeating: b, count: y.w)
                    for ky in 0..<kh {
                        let iy = oy * sh - pt + ky
                        guard iy >= 0 && iy < x.h else { continue }
                        let srow = src + iy * x.w
                        for kx in 0..<kw {
                            let wv = f[ky * kw + kx]
                            // Output columns whose input column ox*sw - pl + kx lies in [0, inW).
                            let lo = max(0, (pl - kx + sw - 1) / sw)
                            let last = x.w - 1 + pl - kx // last output column's input offset numerator
                            let hi = last < 0 ? 0 : min(y.w, last / sw + 1)
                            if lo >= hi { continue }
                            let s = srow - pl + kx
                            if sw == 1 {
                                for ox in lo..<hi { row[ox] += wv * s[ox] }
                            } else if sw == 2 {
                                // A constant stride the compiler can vectorise (shuffles).
                                for ox in lo..<hi { row[ox] += wv * s[2 &* ox] }
                            } else {
                                for ox in lo..<hi { row[ox] += wv * s[ox * sw] }
                            }
                        }
                    }
                    switch activation {
                    case .none: break
                    case .relu: for ox in 0..<y.w { row[ox] = max(row[ox], 0) }
                    case .relu6: for ox in 0..<y.w { row[ox] = min(max(row[ox], 0), 6) }
                    }
                }
            }
        }
    }

    // MARK: - Fully connected

    /// y = W x + b with W [outputs][inputs] row-major: dot products with 16-wide accumulators,
    /// four rows at a time (each 16 inputs loaded once for the four), rows split between threads.
    public static func fullyConnected(input: UnsafePointer<Float>, inputs: Int, output: UnsafeMutablePointer<Float>, outputs: Int,
                                      weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation?, pool: ThreadPool) {
        var job = FullyConnectedJob(input: input, inputs: inputs, output: output, outputs: outputs, weights: weights, bias: bias,
                                    activation: activation, threads: pool.count)
        pool.run(&job)
    }

    struct FullyConnectedJob: PoolJob {
        let input: UnsafePointer<Float>, inputs: Int
        let output: UnsafeMutablePointer<Float>, outputs: Int
        let weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?
        let activation: Activation?
        let threads: Int
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: FullyConnectedJob.self).pointee.work(t) }

        func work(_ t: Int) {
            let rows = ThreadPool.share(outputs, part: t, of: threads)
            var o = rows.lowerBound
            // Four rows a step: the input's 16 floats loaded once for four rows' (MobileNet's
            // logits, 1001 x 1024, read 4 MB of weights: the loads, not the FMAs, bound it).
            while o + 4 <= rows.upperBound {
                let r0 = weights + o * inputs, r1 = r0 + inputs, r2 = r1 + inputs, r3 = r2 + inputs
                var a0 = SIMD16<Float>(repeating: 0), a1 = a0, a2 = a0, a3 = a0
                var i = 0
                while i + 16 <= inputs {
                    let x = UnsafeRawPointer(input + i).loadUnaligned(as: SIMD16<Float>.self)
                    a0 = a0.addingProduct(UnsafeRawPointer(r0 + i).loadUnaligned(as: SIMD16<Float>.self), x)
                    a1 = a1.addingProduct(UnsafeRawPointer(r1 + i).loadUnaligned(as: SIMD16<Float>.self), x)
                    a2 = a2.addingProduct(UnsafeRawPointer(r2 + i).loadUnaligned(as: SIMD16<Float>.self), x)
                    a3 = a3.addingProduct(UnsafeRawPointer(r3 + i).loadUnaligned(as: SIMD16<Float>.self), x)
                    i += 16
                }
                var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
                while i < inputs {
                    let x = input[i]
                    s0 += r0[i] * x; s1 += r1[i] * x; s2 += r2[i] * x; s3 += r3[i] * x
                    i += 1
                }
                put(s0, o); put(s1, o + 1); put(s2, o + 2); put(s3, o + 3)
                o += 4
            }
            // The last 1 to 3 rows of this thread's share with the same arithmetic as a row of
            // the four (one 16-wide accumulator, its sum, then the rest in order), so that a
            // row's float does not depend on where the threads' shares begin: with two
            // accumulators here, MobileNet's logits 500 and 1000 (1001 rows, 501 and 500 a
            // thread) came out 1 ulp apart on 1 and 2 threads.
            while o < rows.upperBound {
                let row = weights + o * inputs
                var acc = SIMD16<Float>(repeating: 0)
                var i = 0
                while i + 16 <= inputs {
                    let x = UnsafeRawPointer(input + i).loadUnaligned(as: SIMD16<Float>.self)
                    acc = acc.addingProduct(UnsafeRawPointer(row + i).loadUnaligned(as: SIMD16<Float>.self), x)
                    i += 16
                }
                var s = acc.sum()
                while i < inputs { s += row[i] * input[i]; i += 1 }
                put(s, o)
                o += 1
            }
        }

        /// Output `o` = the activation of `s` + its bias.
        @inline(__always)
        private func put(_ s: Float, _ o: Int) {
            let v = s + (bias?[o] ?? 0)
            switch activation {
            case .none: output[o] = v
            case .relu: output[o] = max(v, 0)
            case .relu6: output[o] = min(max(v, 0), 6)
            }
        }
    }

    // MARK: - Pooling

    /// Max or average pooling (global, or windows with padding and ceil/floor rounding already
    /// reflected in `y`). Average divides by the window's elements inside the input unless
    /// `countPadding`.
    public static func pooling(_ p: Pooling, input: UnsafePointer<Float>, x: TensorShape, output: UnsafeMutablePointer<Float>, y: TensorShape, pool: ThreadPool) {
        var job = PoolingJob(p: p, input: input, x: x, output: output, y: y, threads: pool.count)
        pool.run(&job)
    }

    struct PoolingJob: PoolJob {
        let p: Pooling
        let input: UnsafePointer<Float>, x: TensorShape
        let output: UnsafeMutablePointer<Float>, y: TensorShape
        let threads: Int
        static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: PoolingJob.self).pointee.work(t) }

        func work(_ t: Int) {
            for ch in ThreadPool.share(x.c, part: t, of: threads) {
                let src = input + ch * x.h * x.w, dst = output + ch * y.h * y.w
                if p.global {
                    let n = x.h * x.w
                    if p.kind == .max {
                        var m = -Float.infinity
                        for i in 0..<n { m = max(m, src[i]) }
                        dst[0] = m
                    } else {
                        var s: Float = 0
                        for i in 0..<n { s += src[i] }
                        dst[0] = s / Float(n)
                    }
                    continue
                }
                let k = p.kernel, st = p.stride, pl = p.padding.left
                if k == 1 && p.kind == .max {
                    // A 1x1 window (ResNet-50's stride-2 shortcuts): a strided copy, -infinity
                    // where the window is all padding.
                    for oy in 0..<y.h {
                        let iy = oy * st - p.padding.top, row = dst + oy * y.w
                        guard iy >= 0 && iy < x.h else {
                            row.update(repeating: -.infinity, count: y.w)
                            continue
                        }
                        let r = src + iy * x.w
                        // Stride 2 without padding: every other column, as far as the row goes.
                        let inside = st == 2 && pl == 0 ? min(y.w, (x.w + 1) / 2) : 0
                        FloatRun.copyEveryOther(r, row, inside, readable: x.w)
                        for ox in inside..<y.w {
                            let ix = ox * st - pl
                            row[ox] = ix >= 0 && ix < x.w ? r[ix] : -.infinity
                        }
                    }
                    continue
                }
                // Output columns whose window lies inside the input's width: a row-wise loop
                // there (contiguous or stride-2 loads, which vectorise); the edges one by one.
                let lo = min(y.w, (pl + st - 1) / st)
                let hi = x.w + pl - k < 0 ? lo : max(lo, min(y.w, (x.w + pl - k) / st + 1))
                for oy in 0..<y.h {
                    let y0 = oy * st - p.padding.top
                    let ya = max(y0, 0), yb = min(y0 + k, x.h)
                    let row = dst + oy * y.w
                    for ox in 0..<lo { row[ox] = window(src, oy: oy, ox: ox, y0: y0, ya: ya, yb: yb) }
                    for ox in hi..<y.w { row[ox] = window(src, oy: oy, ox: ox, y0: y0, ya: ya, yb: yb) }
                    guard hi > lo else { continue }
                    let isMax = p.kind == .max
                    // Separable: the window's rows reduced into one row first (contiguous), then
                    // each output reduces k columns of it. The row lives on the stack.
                    // (16 floats past the row: the vector loop's loads may pass its end.)
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: x.w + 16) { buf in
                        let acc = buf.baseAddress!
                        if yb <= ya {
                            acc.update(repeating: isMax ? -Float.infinity : 0, count: x.w)
                        } else {
                            acc.update(from: src + ya * x.w, count: x.w)
                            for iy in (ya + 1)..<max(ya + 1, yb) {
                                let r = src + iy * x.w
                                if isMax {
                                    var i = 0
                                    while i + 8 <= x.w {
                                        var m = UnsafeRawPointer(acc + i).loadUnaligned(as: SIMD8<Float>.self)
                                        let v = UnsafeRawPointer(r + i).loadUnaligned(as: SIMD8<Float>.self)
                                        m.replace(with: v, where: v .>= m)
                                        UnsafeMutableRawPointer(acc + i).storeBytes(of: m, as: SIMD8<Float>.self)
                                        i += 8
                                    }
                                    for i in i..<x.w { acc[i] = max(acc[i], r[i]) }
                                } else {
                                    for i in 0..<x.w { acc[i] += r[i] }
                                }
                            }
                        }
                        // Input column of output column ox: ox * st - pl + kx.
                        let a0 = UnsafePointer(acc) - pl
                        if isMax {
                            var ox = lo
                            if k == 3 {
                                // Each column's max with the next two, 8 columns a vector (over
                                // the row's columns the windows start at), then one load an output.
                                let first = lo * st - pl, end = (hi - 1) * st - pl + 1
                                var i = first
                                while i + 8 <= end {
                                    let q = UnsafeRawPointer(acc + i)
                                    var m = q.loadUnaligned(as: SIMD8<Float>.self)
                                    let b = q.loadUnaligned(fromByteOffset: 4, as: SIMD8<Float>.self)
                                    m.replace(with: b, where: b .>= m)
                                    let c = q.loadUnaligned(fromByteOffset: 8, as: SIMD8<Float>.self)
                                    m.replace(with: c, where: c .>= m)
                                    UnsafeMutableRawPointer(acc + i).storeBytes(of: m, as: SIMD8<Float>.self)
                                    i += 8
                                }
                                // (Columns from i on keep their own values; their outputs below.)
                                if st == 2 {
                                    // Every other column, from the columns already done (ResNet-50's
                                    // pool1).
                                    let c0 = ox * 2 - pl, done = max(0, min(hi - ox, (i - c0 + 1) / 2))
                                    FloatRun.copyEveryOther(UnsafePointer(acc + c0), row + ox, done, readable: i - c0)
                                    ox += done
                                }
                                while ox < hi && ox * st - pl < i {
                                    row[ox] = acc[ox * st - pl]
                                    ox += 1
                                }
                            }
                            for ox in ox..<hi {
                                let w = a0 + ox * st
                                var m = w[0]
                                for kx in 1..<max(1, k) { m = max(m, w[kx]) }
                                row[ox] = m
                            }
                        } else {
                            for ox in lo..<hi {
                                let w = a0 + ox * st
                                var sum: Float = 0
                                for kx in 0..<k { sum += w[kx] }
                                row[ox] = sum
                            }
                        }
                    }
                    if !isMax {
                        // Interior columns span k input columns; the rows may be clipped.
                        let rows = p.countPadding ? min(y0 + k, x.h + p.padding.bottom) - y0 : max(0, yb - ya)
                        let count = rows * k
                        if count > 0 {
                            let inv = 1 / Float(count)
                            for ox in lo..<hi { row[ox] *= inv }
                        } else {
                            for ox in lo..<hi { row[ox] = 0 }
                        }
                    }
                }
            }
        }

        /// One output of a window that may cross the input's edges.
        @inline(__always)
        func window(_ src: UnsafePointer<Float>, oy: Int, ox: Int, y0: Int, ya: Int, yb: Int) -> Float {
            let x0 = ox * p.stride - p.padding.left
            let xa = max(x0, 0), xb = min(x0 + p.kernel, x.w)
            if p.kind == .max {
                var m = -Float.infinity
                for iy in ya..<max(ya, yb) { let r = src + iy * x.w; for ix in xa..<max(xa, xb) { m = max(m, r[ix]) } }
                return m
            }
            var s: Float = 0
            for iy in ya..<max(ya, yb) { let r = src + iy * x.w; for ix in xa..<max(xa, xb) { s += r[ix] } }
            let count: Int
            if p.countPadding {
                count = (min(y0 + p.kernel, x.h + p.padding.bottom) - y0) * (min(x0 + p.kernel, x.w + p.padding.right) - x0)
            } else {
                count = max(0, yb - ya) * max(0, xb - xa)
            }
            return count > 0 ? s / Float(count) : 0
        }
    }

    // MARK: - Normalisation, element-wise, softmax

    /// Cross-channel LRN: y = x / (k + alpha / size * sum of x^2 over `size` channels centred on
    /// this one)^beta. Spatial positions are split between threads; the channel window is a
    /// running sum.
    public static func lrn(_ n: LRN, input: UnsafePointer<Float>, x: TensorShape, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        var job = LRNJob(n: n, input: input, x: x, output: output, threads: pool.count)
        pool.run(&job)
    }

    struct LRNJob: PoolJob {
        let n: LRN
        let input: UnsafePointer<Float>, x: TensorShape
        let output: UnsafeMutablePointer<Float>
        let threads: Int
        static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: LRNJob.self).pointee.work(t) }

        /// Pixels handled together: the running sums and inputs of a block stay in the caches.
        static let block = 1024

        func work(_ t: Int) {
            let plane = x.h * x.w, half = n.size / 2
            let scale = n.alpha / Float(n.size), k = n.k, beta = n.beta
            let mine = ThreadPool.share(plane, part: t, of: threads)
            var p0 = mine.lowerBound
            while p0 < mine.upperBound {
                let len = min(Self.block, mine.upperBound - p0)
                // Pass 1: output[c] = the sum of squares over channel c's window, a running sum
                // along the channels, contiguous (vectorised) along the pixels.
                let first = output + p0
                first.update(repeating: 0, count: len)
                for c in 0..<min(half + 1, x.c) {
                    let v = input + c * plane + p0
                    for i in 0..<len { first[i] += v[i] * v[i] }
                }
                for c in 1..<max(1, x.c) {
                    let prev = output + (c - 1) * plane + p0, cur = output + c * plane + p0
                    let add = c + half, drop = c - half - 1
                    if add < x.c && drop >= 0 {
                        let a = input + add * plane + p0, d = input + drop * plane + p0
                        for i in 0..<len { cur[i] = prev[i] + a[i] * a[i] - d[i] * d[i] }
                    } else if add < x.c {
                        let a = input + add * plane + p0
                        for i in 0..<len { cur[i] = prev[i] + a[i] * a[i] }
                    } else if drop >= 0 {
                        let d = input + drop * plane + p0
                        for i in 0..<len { cur[i] = prev[i] - d[i] * d[i] }
                    } else {
                        cur.update(from: prev, count: len)
                    }
                }
                // Pass 2: y = x / (k + alpha / size * sum)^beta; beta 0.75 (the networks') with
                // square roots, which vectorise, instead of powf.
                for c in 0..<x.c {
                    let v = input + c * plane + p0, o = output + c * plane + p0
                    if beta == 0.75 {
                        for i in 0..<len {
                            let b = k + scale * max(o[i], 0)
                            let r = b.squareRoot()
                            o[i] = v[i] / (r * r.squareRoot())
                        }
                    } else {
                        for i in 0..<len { o[i] = v[i] / powf(k + scale * max(o[i], 0), beta) }
                    }
                }
                p0 += len
            }
        }
    }

    /// out = a + b, then the activation.
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int, activation: Activation?, pool: ThreadPool) {
        var job = AddJob(a: a, b: b, output: output, count: count, activation: activation, threads: pool.count)
        pool.run(&job)
    }

    struct AddJob: PoolJob {
        let a: UnsafePointer<Float>, b: UnsafePointer<Float>
        let output: UnsafeMutablePointer<Float>, count: Int
        let activation: Activation?
        let threads: Int
        static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: AddJob.self).pointee.work(t) }

        func work(_ t: Int) {
            let r = ThreadPool.share(count, part: t, of: threads)
            switch activation {
            case .none: for i in r { output[i] = a[i] + b[i] }
            case .relu: for i in r { output[i] = max(a[i] + b[i], 0) }
            case .relu6: for i in r { output[i] = min(max(a[i] + b[i], 0), 6) }
            }
        }
    }

    /// Copies `input` into `output` at channel offset `offset` (of an output with the same
    /// spatial size): one input of a concatenation.
    public static func concatCopy(_ input: UnsafePointer<Float>, channels: Int, plane: Int, into output: UnsafeMutablePointer<Float>, offset: Int, pool: ThreadPool) {
        var job = ConcatJob(input: input, channels: channels, plane: plane, output: output, offset: offset, threads: pool.count)
        pool.run(&job)
    }

    struct ConcatJob: PoolJob {
        let input: UnsafePointer<Float>, channels: Int, plane: Int
        let output: UnsafeMutablePointer<Float>, offset: Int
        let threads: Int
        static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: ConcatJob.self).pointee.work(t) }

        func work(_ t: Int) {
            let r = ThreadPool.share(channels, part: t, of: threads)
            guard !r.isEmpty else { return }
            (output + (offset + r.lowerBound) * plane).update(from: input + r.lowerBound * plane, count: r.count * plane)
        }
    }

    /// Softmax over all `count` elements (the classes of one image), max-subtracted.
    public static func softmax(_ input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int) {
        var m = -Float.infinity
        for i in 0..<count { m = max(m, input[i]) }
        var s: Float = 0
        for i in 0..<count { let e = expf(input[i] - m); output[i] = e; s += e }
        let inv = 1 / s
        for i in 0..<count { output[i] *= inv }
    }
}
