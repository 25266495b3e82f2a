import CInt8Kernels
import Networks

/// The layout of the AVX-512 depthwise kernels (`socprof_dw_plan_make`, depthwise_x86.c) for a
/// depthwise convolution from `x` to `y`: nil where they do not apply (strides that differ, more
/// than SOCPROF_DW_MAX_TAPS taps).
func depthwisePlan(_ conv: Convolution, x: TensorShape, y: TensorShape) -> socprof_dw_plan? {
    guard conv.strideH == conv.strideW else { return nil }
    var shape = socprof_dw_shape(h: x.h, w: x.w, oh: y.h, ow: y.w, kh: conv.kernelH, kw: conv.kernelW,
                                 stride: conv.strideH, pt: conv.padding.top, pl: conv.padding.left)
    var plan = socprof_dw_plan()
    return socprof_dw_plan_make(&shape, &plan) != 0 ? plan : nil
}

extension LayerKernels.DepthwisePaddedJob {
    /// The layout of `socprof_dw_f32_avx512` for the layer where this build and CPU run it
    /// (`DirectConvolution.available`) and it is chosen for the layer
    /// (`ConvAlgorithm.DepthwiseKernel`): one stride both ways, at most SOCPROF_DW_MAX_TAPS taps,
    /// a scratch that fits in a GEMM workspace.
    static func avx512Plan(_ conv: Convolution, x: TensorShape, y: TensorShape,
                           choice: ConvAlgorithm.DepthwiseKernel = .current) -> socprof_dw_plan? {
        guard DirectConvolution.available, choice.planes(stride: conv.strideH, filter3x3: conv.kernelH == 3 && conv.kernelW == 3, outputWidth: y.w, cpu: .current), let plan = depthwisePlan(conv, x: x, y: y), plan.scratch <= GEMM.Workspace.scratchCount else {
            return nil
        }
        return plan
    }

    /// AVX-512: `socprof_dw_f32_avx512` on each channel, the channels taken by the threads in
    /// chunks (`ThreadPool.forEachClaimedChunk`) (depthwise_x86.c: 3x3 layers of stride 2, and of
    /// stride 1 12 or more wide, read in place up to 14 output rows at a time; a sweep of padded
    /// phase planes otherwise). Each sum is the bias plus its taps in (ky, kx) order, as the
    /// Swift kernel's.
    func avx512Work(_ t: Int, _ plan: socprof_dw_plan) {
        var plan = plan
        let taps = conv.kernelH * conv.kernelW
        let (lo, hi) = DirectConvolution.bounds(activation)
        var first: Int32 = 1
        pool.forEachClaimedChunk(of: x.c) { channels in
            for ch in channels {
                socprof_dw_f32_avx512(&plan, input + ch * x.h * x.w, weights + ch * taps, bias?[ch] ?? 0, lo, hi,
                                      workspaces[t].scratch, first, output + ch * y.h * y.w)
                first = 0
            }
        }
    }
}
