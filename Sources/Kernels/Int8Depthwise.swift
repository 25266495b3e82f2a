import Networks

extension Int8LayerKernels {
    /// Quantized depthwise convolution (one kh x kw filter per channel, any stride and padding;
    /// MobileNet's are 3x3, stride 1 and 2): channels split between threads; each output row is
    /// summed in int32 over the taps whose input lies inside the plane (the padding is the zero
    /// point, which adds nothing), then requantized as a row with the kernel's requantization.
    public static func depthwise(_ w: Int8ConvWeights, input: UnsafePointer<UInt8>, x: TensorShape, output: UnsafeMutablePointer<UInt8>,
                                 y: TensorShape, activation: Activation?, pool: ThreadPool, workspaces: [Int8GEMM.Workspace]) {
        precondition(isDepthwise(w.conv, inputChannels: x.c) && workspaces.count >= pool.count)
        var job = DepthwiseJob(w: w, input: input, x: x, output: output, y: y, range: w.output.clampRange(activation),
                               threads: pool.count, workspaces: workspaces)
        pool.run(&job)
    }

    struct DepthwiseJob: PoolJob {
        let w: Int8ConvWeights
        let input: UnsafePointer<UInt8>, x: TensorShape
        let output: UnsafeMutablePointer<UInt8>, y: TensorShape
        let range: ClosedRange<Int32>
        let threads: Int
        let workspaces: [Int8GEMM.Workspace]
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: DepthwiseJob.self).pointee.work(t) }

        func work(_ t: Int) {
            let conv = w.conv
            let kh = conv.kernelH, kw = conv.kernelW, sh = conv.strideH, sw = conv.strideW
            let pt = conv.padding.top, pl = conv.padding.left
            let flip: UInt8 = w.input.signed ? 0x80 : 0
            let zAdjusted = w.input.zeroPoint &+ (w.input.signed ? 128 : 0)
            let ws = workspaces[t]
            ws.reserve(ints: y.w)
            let acc = ws.ints
            for ch in ThreadPool.share(x.c, part: t, of: threads) {
                let src = input + ch * x.h * x.w, dst = output + ch * y.h * y.w
                let f = w.weights + ch * kh * kw
                for oy in 0..<y.h {
                    acc.update(repeating: 0, count: y.w)
                    for ky in 0..<kh {
                        let iy = oy * sh - pt + ky
                        guard iy >= 0 && iy < x.h else { continue }
                        let srow = src + iy * x.w
                        for kx in 0..<kw {
                            let wv = Int32(f[ky * kw + kx])
                            // Output columns whose input column ox*sw - pl + kx lies in [0, inW).
                            let lo = max(0, (pl - kx + sw - 1) / sw)
                            let last = x.w - 1 + pl - kx
                            let hi = last < 0 ? 0 : min(y.w, last / sw + 1)
                            if lo >= hi { continue }
                            let s = srow - pl + kx
                            if sw == 1 {
                                for ox in lo..<hi { acc[ox] &+= wv &* (Int32(s[ox] ^ flip) &- zAdjusted) }
                            } else {
                                for ox in lo..<hi { acc[ox] &+= wv &* (Int32(s[ox &* sw] ^ flip) &- zAdjusted) }
                            }
                        }
                    }
                    w.kernel.requantize(acc, ldacc: y.w, rows: 1, cols: y.w, rowAdd: w.bias + ch, rowScale: w.multipliers + ch,
                                        zeroPoint: w.output.zeroPoint, min: range.lowerBound, max: range.upperBound,
                                        out: dst + oy * y.w, ldout: y.w)
                }
            }
        }
    }
}
