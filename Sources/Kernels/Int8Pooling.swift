import Networks

extension Int8LayerKernels {
    /// Quantized max or average pooling (global, or windows with padding, `y` already rounded),
    /// input and output with the same `params` (as TFLite and ARM Compute Library require).
    /// Max takes the largest value in the window's part inside the input. Average: the sum of
    /// (q - zero point) over that part, divided by its element count (or by the window's count
    /// with the padding, whose real value is 0, when `countPadding`), rounded half away from
    /// zero, plus the zero point. Channels are split between threads.
    public static func pooling(_ p: Pooling, input: UnsafePointer<UInt8>, x: TensorShape, output: UnsafeMutablePointer<UInt8>, y: TensorShape,
                               params: QuantParams, pool: ThreadPool) {
        var job = PoolingJob(p: p, input: input, x: x, output: output, y: y, params: params, threads: pool.count)
        pool.run(&job)
    }

    struct PoolingJob: PoolJob {
        let p: Pooling
        let input: UnsafePointer<UInt8>, x: TensorShape
        let output: UnsafeMutablePointer<UInt8>, y: TensorShape
        let params: QuantParams
        let threads: Int
        static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: PoolingJob.self).pointee.work(t) }

        func work(_ t: Int) {
            // With the top bit flipped, int8 bytes order as uint8 ones: u = q ^ flip, and
            // q - zero point = u - zAdjusted.
            let flip = params.unsignedFlip
            let zAdjusted = params.unsignedZeroPoint
            let isMax = p.kind == .max
            let k = p.global ? 0 : p.kernel, st = p.global ? 1 : p.stride
            let pt = p.global ? 0 : p.padding.top, pl = p.global ? 0 : p.padding.left
            for ch in ThreadPool.share(x.c, part: t, of: threads) {
                let src = input + ch * x.h * x.w, dst = output + ch * y.h * y.w
                for oy in 0..<y.h {
                    let y0 = p.global ? 0 : oy * st - pt
                    let ya = max(y0, 0), yb = p.global ? x.h : min(y0 + k, x.h)
                    for ox in 0..<y.w {
                        let x0 = p.global ? 0 : ox * st - pl
                        let xa = max(x0, 0), xb = p.global ? x.w : min(x0 + k, x.w)
                        if isMax {
                            var m: UInt8 = 0
                            var any = false
                            for iy in ya..<max(ya, yb) {
                                let r = src + iy * x.w
                                for ix in xa..<max(xa, xb) { m = max(m, r[ix] ^ flip); any = true }
                            }
                            // A window wholly in the padding (never with valid shapes): the zero point.
                            dst[oy * y.w + ox] = any ? m ^ flip : UInt8(truncatingIfNeeded: params.zeroPoint)
                        } else {
                            var s: Int32 = 0
                            if p.global {
                                // The whole plane, contiguous: one loop the compiler vectorises.
                                for i in 0..<x.h * x.w { s &+= Int32(src[i] ^ flip) }
                            } else {
                                for iy in ya..<max(ya, yb) {
                                    let r = src + iy * x.w
                                    for ix in xa..<max(xa, xb) { s &+= Int32(r[ix] ^ flip) }
                                }
                            }
                            let valid = Int32(max(0, yb - ya) * max(0, xb - xa))
                            let count: Int32
                            if p.countPadding && !p.global {
                                count = Int32((min(y0 + k, x.h + p.padding.bottom) - y0) * (min(x0 + k, x.w + p.padding.right) - x0))
                            } else {
                                count = valid
                            }
                            let d = s &- valid &* zAdjusted
                            let r = count > 0 ? (d >= 0 ? (d + count / 2) / count : -((-d + count / 2) / count)) : 0
                            let q = min(max(params.zeroPoint &+ r, params.range.lowerBound), params.range.upperBound)
                            dst[oy * y.w + ox] = UInt8(truncatingIfNeeded: q)
                        }
                    }
                }
            }
        }
    }
}
