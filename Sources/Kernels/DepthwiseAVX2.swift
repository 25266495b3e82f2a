import CInt8Kernels
import Networks

// The fp32 depthwise kernel with channels in lanes for x86-64 CPUs with AVX2 and FMA and no
// AVX-512 plan (depthwise_f32_avx2.c), as `DepthwisePaddedJob` runs it.
extension LayerKernels.DepthwisePaddedJob {
    /// The shape for `socprof_dw8_f32_avx2` where it runs: an x86-64 CPU with AVX2 and FMA (and
    /// no AVX-512 plan: none on the CPU, or `ConvAlgorithm.DepthwiseKernel` chose this kernel),
    /// one stride both ways, at most SOCPROF_DW_MAX_TAPS taps, a scratch that
    /// fits in a GEMM workspace. Since its 3 x 3 sums load each input column once for the pixels
    /// that read it and its rows end on whole blocks, it is faster than the plane sweep on every
    /// MobileNet depthwise layer (`bench conv --depthwise`, Zen 3, in alternation: 112 x 112
    /// 0.21-0.23 against 0.27-0.39 ms, strided to 56 x 56 0.21-0.23 against 0.34-0.46).
    static func lanesShape(_ conv: Convolution, x: TensorShape, y: TensorShape) -> socprof_dw_shape? {
        #if arch(x86_64)
        guard GEMMKernel.CPU.current.has(.avx2), conv.strideH == conv.strideW, conv.kernelH * conv.kernelW <= Int(SOCPROF_DW_MAX_TAPS) else {
            return nil
        }
        var shape = socprof_dw_shape(h: x.h, w: x.w, oh: y.h, ow: y.w, kh: conv.kernelH, kw: conv.kernelW,
                                     stride: conv.strideH, pt: conv.padding.top, pl: conv.padding.left)
        return socprof_dw8_f32_avx2_scratch_floats(&shape) <= GEMM.Workspace.scratchCount ? shape : nil
        #else
        return nil
        #endif
    }

    /// AVX2: `socprof_dw8_f32_avx2` on groups of 8 channels, one channel a lane, the groups taken
    /// by the threads dynamically in chunks (`ThreadPool.forEachClaimedChunk`). Each sum is the bias plus its taps in
    /// (ky, kx) order, as the Swift kernel's.
    func lanesWork(_ t: Int, _ shape: socprof_dw_shape) {
        var shape = shape
        let taps = conv.kernelH * conv.kernelW
        let (lo, hi) = DirectConvolution.bounds(activation)
        let groups = (x.c + 7) / 8
        pool.forEachClaimedChunk(of: groups) { chunk in
            for group in chunk {
                let c0 = group * 8, count = min(8, x.c - c0)
                socprof_dw8_f32_avx2(&shape, input + c0 * x.h * x.w, count, weights + c0 * taps, bias.map { $0 + c0 }, lo, hi,
                                     workspaces[t].scratch, output + c0 * y.h * y.w)
            }
        }
    }
}
