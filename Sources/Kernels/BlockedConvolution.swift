import CInt8Kernels
import Networks

/// The channel-blocked layout (NCHW8c, `ConvAlgorithm.blocked`): a tensor of C channels as
/// [ceil(C / 8)][H][W][8], the last block's missing channels held at 0, so that one 8-float vector
/// is 8 channels of one pixel. Convolutions on it (`BlockedConvolution`) broadcast input values
/// against vectors of 8 output channels' weights, with no im2col and no packing of the input per
/// image; pooling and depthwise convolution work on whole vectors; an add is the same on either
/// layout. onnxruntime's MLAS runs its fp32 convolutions so (NCHWc, 8 floats a block with AVX2).
public enum BlockedLayout {
    /// Channels a block.
    public static let lanes = 8

    /// Blocks of `channels`.
    public static func blocks(_ channels: Int) -> Int { (channels + lanes - 1) / lanes }

    /// Floats of a blocked tensor of `shape` (its channels padded to whole blocks).
    public static func count(_ shape: TensorShape) -> Int { blocks(shape.c) * lanes * shape.h * shape.w }

    /// `src` (NCHW, `shape`) into `dst` (blocked), blocks split between the pool's threads.
    public static func block(_ src: UnsafePointer<Float>, _ shape: TensorShape, into dst: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        var job = ReorderJob(src: src, dst: dst, shape: shape, toBlocked: true, pool: pool)
        pool.run(&job)
    }

    /// `src` (blocked, `shape`) into `dst` (NCHW, the padding channels dropped).
    public static func unblock(_ src: UnsafePointer<Float>, _ shape: TensorShape, into dst: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        var job = ReorderJob(src: src, dst: dst, shape: shape, toBlocked: false, pool: pool)
        pool.run(&job)
    }

    struct ReorderJob: PoolJob {
        let src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>
        let shape: TensorShape
        let toBlocked: Bool
        let pool: ThreadPool
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: ReorderJob.self).pointee.work(t) }

        func work(_ t: Int) {
            let plane = shape.h * shape.w
            pool.forEachClaimedChunk(of: BlockedLayout.blocks(shape.c)) { b in
                if toBlocked {
                    socprof_nchwc_from_nchw(src, shape.c, plane, dst, b.lowerBound, b.upperBound)
                } else {
                    socprof_nchwc_to_nchw(src, shape.c, plane, dst, b.lowerBound, b.upperBound)
                }
            }
        }
    }
}

/// A convolution's weights for the blocked kernels, made once: ungrouped convolutions as
/// [pairs of output blocks][input blocks][kh][kw][8 in][2][8 out] (the two weight vectors a step
/// of the 2-block tile loads are one cache line), depthwise ones as [blocks][kh][kw][8],
/// both with the bias padded to whole blocks (padding channels' weights and bias 0).
// Sendable: written in `init`, read-only afterwards.
public final class BlockedConvWeights: @unchecked Sendable {
    public let conv: Convolution
    public let inputChannels: Int
    /// Whether these are a depthwise convolution's (one filter per channel).
    public let depthwise: Bool
    let weights: UnsafeMutableBufferPointer<Float>
    let bias: UnsafeMutableBufferPointer<Float>

    /// From `weights` as the network keeps them ([out][in / groups][kh][kw]) and `bias` (nil: 0).
    /// Ungrouped and depthwise convolutions only.
    public init(_ conv: Convolution, inputChannels: Int, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?) {
        self.conv = conv
        self.inputChannels = inputChannels
        depthwise = BlockedConvolution.isDepthwise(conv, inputChannels: inputChannels)
        precondition(depthwise || conv.groups == 1, "blocked weights: one group or depthwise, not \(conv.groups) groups")
        let l = BlockedLayout.lanes, ob = BlockedLayout.blocks(conv.outputChannels), ib = BlockedLayout.blocks(inputChannels)
        let taps = conv.kernelH * conv.kernelW
        weights = .allocate(capacity: depthwise ? ob * taps * l : (ob + 1) / 2 * ib * taps * 2 * l * l)
        weights.initialize(repeating: 0)
        bias = .allocate(capacity: ob * l)
        bias.initialize(repeating: 0)
        for o in 0..<conv.outputChannels {
            bias[o] = b?[o] ?? 0
            if depthwise {
                for t in 0..<taps { weights[((o / l) * taps + t) * l + o % l] = w[o * taps + t] }
                continue
            }
            for c in 0..<inputChannels {
                for t in 0..<taps {
                    weights[((((o / (2 * l)) * ib + c / l) * taps + t) * l + c % l) * 2 * l + o % (2 * l)] = w[(o * inputChannels + c) * taps + t]
                }
            }
        }
    }

    deinit {
        weights.deallocate()
        bias.deallocate()
    }

    /// Bytes it holds.
    public var bytes: Int64 { Int64(weights.count + bias.count) * 4 }
}

/// Convolutions on the blocked layout (`BlockedLayout`): `socprof_nchwc_conv_f32_avx2` (its
/// baseline form without AVX2, and on ARM) for ungrouped convolutions, from a blocked or an NCHW
/// input (a network's first layer, on the image's 3 channels) to a blocked or an NCHW output,
/// with the bias, a residual (laid out as the output) and the activation's clamp applied to the
/// sums in registers; `socprof_nchwc_depthwise_f32_avx2` for depthwise ones, blocked in and out.
/// The output rows and blocks are cut into chunks that the threads take as they come.
public enum BlockedConvolution {
    /// Whether the AVX2 kernels run here (x86-64 with AVX2 and FMA); elsewhere the baseline ones.
    public static var usesAVX2: Bool {
        #if arch(x86_64)
        return GEMMKernel.CPU.current.has(.avx2)
        #else
        return false
        #endif
    }

    /// Whether `conv` is depthwise on `inputChannels` (one filter per channel).
    public static func isDepthwise(_ conv: Convolution, inputChannels: Int) -> Bool {
        conv.groups > 1 && conv.groups == inputChannels && conv.groups == conv.outputChannels
    }

    /// Whether the blocked kernels compute `conv` (one group, or depthwise; the same stride both
    /// ways).
    public static func applies(_ conv: Convolution, inputChannels: Int) -> Bool {
        (conv.groups == 1 || isDepthwise(conv, inputChannels: inputChannels)) && conv.strideH == conv.strideW
    }

    /// Input blocks summed per pass over the output: enough that one pass's weights for a pair of
    /// output blocks stay within 32 KB (an L1 data cache), at least one.
    static func blockGroup(taps: Int) -> Int { max(1, 32 * 1024 / (taps * 2 * 64 * 4)) }

    static func shape(_ conv: Convolution, x: TensorShape, y: TensorShape, inputBlocked: Bool, outputBlocked: Bool) -> socprof_nchwc_shape {
        let plane = x.h * x.w
        return socprof_nchwc_shape(cin: x.c, h: x.h, w: x.w, cout: y.c, oh: y.h, ow: y.w, kh: conv.kernelH, kw: conv.kernelW,
                                   stride: conv.strideH, pt: conv.padding.top, pl: conv.padding.left, pb: conv.padding.bottom,
                                   pr: conv.padding.right, in_lane: inputBlocked ? 1 : plane, in_pixel: inputBlocked ? 8 : 1,
                                   in_block: 8 * plane, block_group: blockGroup(taps: conv.kernelH * conv.kernelW),
                                   out_blocked: outputBlocked ? 1 : 0)
    }

    /// `output` = the activation of (the convolution of `input` + bias + `residual`). The input
    /// is blocked when `inputBlocked` (else NCHW), the output and the residual when
    /// `outputBlocked`; a depthwise convolution is blocked in and out. `baseline`: the baseline
    /// kernels even where the AVX2 ones run (for tests).
    public static func run(_ w: BlockedConvWeights, input: UnsafePointer<Float>, x: TensorShape, inputBlocked: Bool,
                           output: UnsafeMutablePointer<Float>, y: TensorShape, outputBlocked: Bool, residual: UnsafePointer<Float>? = nil,
                           activation: Activation?, pool: ThreadPool, baseline: Bool = false) {
        precondition(x.c == w.inputChannels && y.c == w.conv.outputChannels, "blocked convolution: \(x) -> \(y) is not these weights' shape")
        precondition(!w.depthwise || (inputBlocked && outputBlocked && residual == nil), "a blocked depthwise convolution is blocked in and out, without a residual")
        let (lo, hi) = DirectConvolution.bounds(activation)
        var job = Job(shape: shape(w.conv, x: x, y: y, inputBlocked: inputBlocked, outputBlocked: outputBlocked), input: input,
                      output: output, residual: residual, weights: w, lo: lo, hi: hi, avx2: usesAVX2 && !baseline, pool: pool)
        pool.run(&job)
    }

    struct Job: PoolJob {
        let shape: socprof_nchwc_shape
        let input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
        let residual: UnsafePointer<Float>?
        let weights: BlockedConvWeights
        let lo: Float, hi: Float
        let avx2: Bool
        let pool: ThreadPool
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: Job.self).pointee.work(t) }

        /// Chunks of (rows, output blocks): the rows alone where they give every thread
        /// `ThreadPool.chunksPerThread` chunks, else the blocks cut too (in pairs, the tile's).
        func work(_ t: Int) {
            var s = shape
            let rows = shape.oh, blocks = BlockedLayout.blocks(shape.cout)
            let want = pool.count * ThreadPool.chunksPerThread
            let rowChunks = min(rows, want)
            let pairs = (blocks + 1) / 2
            let blockChunks = pool.count == 1 ? 1 : min(pairs, max(1, (want + rowChunks - 1) / rowChunks))
            let depthwise = weights.depthwise
            let w = UnsafePointer(weights.weights.baseAddress!), bias = UnsafePointer(weights.bias.baseAddress!)
            pool.forEachClaimedChunk(of: rowChunks * blockChunks) { chunks in
                for chunk in chunks {
                    let r = ThreadPool.share(rows, part: chunk / blockChunks, of: rowChunks)
                    let p = ThreadPool.share(pairs, part: chunk % blockChunks, of: blockChunks)
                    let b0 = p.lowerBound * 2, b1 = min(blocks, p.upperBound * 2)
                    guard !r.isEmpty, b1 > b0 else { continue }
                    if depthwise {
                        (avx2 ? socprof_nchwc_depthwise_f32_avx2 : socprof_nchwc_depthwise_f32)(&s, input, w, bias, lo, hi, output, b0, b1,
                                                                                             r.lowerBound, r.upperBound)
                    } else {
                        (avx2 ? socprof_nchwc_conv_f32_avx2 : socprof_nchwc_conv_f32)(&s, input, w, bias, residual, lo, hi, output, b0, b1,
                                                                                   r.lowerBound, r.upperBound)
                    }
                }
            }
        }
    }
}

/// Pooling on the blocked layout (`socprof_nchwc_pool_f32`), blocks and rows in chunks taken as
/// the threads come: the same floats as `LayerKernels.pooling` on NCHW.
public enum BlockedPooling {
    public static func run(_ p: Pooling, input: UnsafePointer<Float>, x: TensorShape, output: UnsafeMutablePointer<Float>, y: TensorShape,
                           pool: ThreadPool) {
        let s = p.global
            ? socprof_nchwc_pool_shape(h: x.h, w: x.w, oh: 1, ow: 1, kh: x.h, kw: x.w, stride: 1, pt: 0, pl: 0, pb: 0, pr: 0,
                                       max: p.kind == .max ? 1 : 0, count_padding: 0)
            : socprof_nchwc_pool_shape(h: x.h, w: x.w, oh: y.h, ow: y.w, kh: p.kernel, kw: p.kernel, stride: p.stride, pt: p.padding.top,
                                       pl: p.padding.left, pb: p.padding.bottom, pr: p.padding.right, max: p.kind == .max ? 1 : 0,
                                       count_padding: p.countPadding ? 1 : 0)
        var job = Job(shape: s, blocks: BlockedLayout.blocks(x.c), input: input, output: output, pool: pool)
        pool.run(&job)
    }

    struct Job: PoolJob {
        let shape: socprof_nchwc_pool_shape
        let blocks: Int
        let input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
        let pool: ThreadPool
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: Job.self).pointee.work(t) }

        func work(_ t: Int) {
            var s = shape
            let rows = shape.oh
            pool.forEachClaimedChunk(of: blocks * rows) { units in
                // Units are (block, row) pairs in block-major order: runs of rows per block.
                var u = units.lowerBound
                while u < units.upperBound {
                    let b = u / rows, r0 = u % rows, r1 = min(rows, r0 + (units.upperBound - u))
                    socprof_nchwc_pool_f32(&s, input, output, b, b + 1, r0, r1)
                    u += r1 - r0
                }
            }
        }
    }
}
