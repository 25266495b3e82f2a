import CInt8Kernels
import Networks

/// The direct convolution for fp32 layers with few input channels (`ConvAlgorithm.direct`):
/// `socprof_direct_f32_avx512` (or, on a CPU with AVX2 and FMA but not these, its 8-float form
/// `socprof_direct_f32_avx2`) on chunks of the output rows, taken by the threads as they come. Each thread keeps the
/// input rows its next output row reads, zero-padded and split into the stride's column phases,
/// in a ring of rows in its workspace, and sums every 16-pixel vector of a row (8-pixel with
/// AVX2) tap by tap for 8 output channels (6 with AVX2) at once, with the bias first and the
/// activation at the end. x86-64 only (`applies`).
public enum DirectConvolution {
    /// Whether this build and CPU run the AVX-512 fp32 kernels (this one and the depthwise one):
    /// a build with AVX-512 (SOCPROF_AVX512, as the fp32 GEMM's zmm kernels) on a CPU with AVX-512
    /// and VNNI. An AVX2 build runs the AVX2 kernels where the CPU has AVX2 and FMA.
    public static var available: Bool {
        #if SOCPROF_AVX512
        return Int8Kernel.vnni.isSupported
        #else
        return false
        #endif
    }

    /// Whether this CPU runs the direct convolution: the AVX-512 kernel (`available`), else the
    /// AVX2 one (x86-64 with AVX2 and FMA).
    public static var applies: Bool {
        #if arch(x86_64)
        return available || GEMMKernel.CPU.current.has(.avx2)
        #else
        return false
        #endif
    }

    /// The clamp an activation puts on fp32 outputs, for the AVX-512 kernels (this one and the
    /// depthwise one): none, ReLU [0, inf), ReLU6 [0, 6].
    static func bounds(_ activation: Activation?) -> (lo: Float, hi: Float) {
        switch activation {
        case .none: (-.infinity, .infinity)
        case .relu: (0, .infinity)
        case .relu6: (0, 6)
        }
    }

    static func shape(_ conv: Convolution, x: TensorShape, y: TensorShape) -> socprof_direct_shape {
        socprof_direct_shape(c: x.c, h: x.h, w: x.w, oc: y.c, oh: y.h, ow: y.w, kh: conv.kernelH, kw: conv.kernelW,
                             stride: conv.strideH, pt: conv.padding.top, pl: conv.padding.left)
    }

    /// Whether the kernel's scratch fits in a GEMM workspace (`ConvAlgorithm.directApplies`
    /// checks it).
    static func fits(_ conv: Convolution, x: TensorShape, y: TensorShape) -> Bool {
        var s = shape(conv, x: x, y: y)
        return socprof_direct_scratch_floats(&s) <= GEMM.Workspace.scratchCount
    }

    /// `output` = the activation of (the convolution of `input` + bias), rows split between the
    /// pool's threads (`workspaces.count >= pool.count`, each fitting: `fits`).
    static func run(_ conv: Convolution, input: UnsafePointer<Float>, x: TensorShape, output: UnsafeMutablePointer<Float>, y: TensorShape,
                    weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation?, pool: ThreadPool,
                    workspaces: [GEMM.Workspace]) {
        precondition(ConvAlgorithm.directApplies(conv, input: x, output: y), "\(conv) on \(x): the direct kernel does not apply")
        precondition(workspaces.count >= pool.count && fits(conv, x: x, y: y), "the direct kernel needs a GEMM workspace per thread")
        let (lo, hi) = bounds(activation)
        var job = Job(shape: shape(conv, x: x, y: y), input: input, output: output, rows: y.h, weights: weights, bias: bias,
                      lo: lo, hi: hi, pool: pool, workspaces: workspaces)
        pool.run(&job)
    }

    struct Job: PoolJob {
        let shape: socprof_direct_shape
        let input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
        let rows: Int
        let weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?
        let lo: Float, hi: Float
        let pool: ThreadPool
        let workspaces: [GEMM.Workspace]
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: Job.self).pointee.work(t) }

        /// Chunks of rows taken dynamically (`ThreadPool.forEachClaimedChunk`), so that a thread slowed from
        /// outside does fewer; each chunk primes its own ring of padded input rows (one row more
        /// than the chunk's stride x rows to pad, a few percent of a 28-row chunk's padding).
        func work(_ t: Int) {
            var s = shape
            let kernel = DirectConvolution.available ? socprof_direct_f32_avx512 : socprof_direct_f32_avx2
            pool.forEachClaimedChunk(of: rows) { share in
                kernel(&s, input, weights, bias, lo, hi, share.lowerBound, share.upperBound, workspaces[t].scratch, output)
            }
        }
    }
}
