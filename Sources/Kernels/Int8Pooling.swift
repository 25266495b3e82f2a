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
            if isMax && !p.global {
                // Each output row: the window's rows' maxima column by column into a row (one
                // loop over the input row the compiler vectorises), then each output's columns of
                // it. The per-output double loop took ResNet-50's four max pools 3.1 ms at 1
                // thread on Zen 3 (2.3 of them the 1x1 stride-2 ones).
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, x.w)) { buffer in
                    let row = buffer.baseAddress!
                    let empty = UInt8(truncatingIfNeeded: params.zeroPoint)
                    for ch in ThreadPool.share(x.c, part: t, of: threads) {
                        let src = input + ch * x.h * x.w, dst = output + ch * y.h * y.w
                        for oy in 0..<y.h {
                            let y0 = oy * st - pt, ya = max(y0, 0), yb = min(y0 + k, x.h)
                            let out = dst + oy * y.w
                            // A window wholly in the padding (never with valid shapes): the zero point.
                            guard ya < yb else { out.update(repeating: empty, count: y.w); continue }
                            let first = src + ya * x.w
                            for ix in 0..<x.w { row[ix] = first[ix] ^ flip }
                            for iy in (ya + 1)..<max(ya + 1, yb) {
                                let r = src + iy * x.w
                                for ix in 0..<x.w { row[ix] = max(row[ix], r[ix] ^ flip) }
                            }
                            for ox in 0..<y.w {
                                let x0 = ox * st - pl, xa = max(x0, 0), xb = min(x0 + k, x.w)
                                guard xa < xb else { out[ox] = empty; continue }
                                var m = row[xa]
                                for ix in (xa + 1)..<max(xa + 1, xb) { m = max(m, row[ix]) }
                                out[ox] = m ^ flip
                            }
                        }
                    }
                }
                return
            }
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
