/// A convolution's input seen as the im2col matrix B[(c, ky, kx)][(oy, ox)], packed on the fly:
/// row r = (c * kh + ky) * kw + kx, column j = oy * outW + ox, value input[c][oy*sh - pt + ky][ox*sw - pl + kx]
/// (0 in the padding).
public struct Im2colB: GEMMOperandB {
    public let input: UnsafePointer<Float>
    /// Where each element of B comes from.
    public let shape: Im2colShape

    public init(input: UnsafePointer<Float>, shape: Im2colShape) {
        self.input = input
        self.shape = shape
    }

    /// One stretch of a panel's columns that lies along one output row: the panel slots
    /// `q..<q+count`, whose windows start at input row `iy + ky` and column `ix + kx`.
    struct Run {
        var q: Int, count: Int, iy: Int, ix: Int
    }

    @inline(__always)
    public func pack(k0: Int, kb: Int, j0: Int, nb: Int, nr: Int, into p: UnsafeMutablePointer<Float>) {
        let (inH, inW, kh, kw, sh, sw) = (shape.inH, shape.inW, shape.kh, shape.kw, shape.sh, shape.sw)
        let (padTop, padLeft, outW) = (shape.padTop, shape.padLeft, shape.outW)
        let panels = (nb + nr - 1) / nr
        // A panel holds at most NR runs (one per column when outW == 1).
        withUnsafeTemporaryAllocation(of: Run.self, capacity: nr) { runs in
            var oy = j0 / outW, ox = j0 % outW
            for panel in 0..<panels {
                let cols = min(nr, nb - panel * nr)
                // The runs are the same for every row of the panel: found once.
                var count = 0, q = 0
                while q < cols {
                    let n = min(cols - q, outW - ox)
                    runs[count] = Run(q: q, count: n, iy: oy * sh - padTop, ix: ox * sw - padLeft)
                    count += 1
                    q += n
                    ox += n
                    if ox == outW { ox = 0; oy += 1 }
                }
                // Rows k0..<k0+kb, written in order into this panel (k-major, NR floats a row).
                var c = k0 / (kh * kw), ky = (k0 / kw) % kh, kx = k0 % kw
                var dst = p + panel * kb * nr
                for _ in 0..<kb {
                    let plane = input + c * inH * inW
                    for i in 0..<count {
                        let run = runs[i]
                        let d = dst + run.q
                        let iy = run.iy + ky
                        if iy < 0 || iy >= inH {
                            FloatRun.zero(d, run.count)
                            continue
                        }
                        let src = plane + iy * inW
                        let ix0 = run.ix + kx
                        // t in lo..<hi reads inside the row; the rest is padding. (Integer division
                        // rounds toward zero: a start right of the row has none.)
                        let lo: Int, hi: Int
                        if sw == 1 {
                            lo = min(run.count, max(0, -ix0))
                            hi = max(lo, min(run.count, inW &- ix0))
                        } else if sw == 2 {
                            // The same with shifts (floor division) instead of a division.
                            lo = min(run.count, max(0, (1 &- ix0) >> 1))
                            hi = ix0 >= inW ? lo : max(lo, min(run.count, ((inW &- 1 &- ix0) >> 1) &+ 1))
                        } else {
                            lo = min(run.count, max(0, (-ix0 + sw - 1) / sw))
                            hi = ix0 >= inW ? lo : max(lo, min(run.count, (inW - 1 - ix0) / sw + 1))
                        }
                        if lo > 0 { FloatRun.zero(d, lo) }
                        if sw == 1 {
                            FloatRun.copy(src + ix0 + lo, d + lo, hi &- lo)
                        } else if sw == 2 {
                            // Every other float: 16 loaded, the even lanes kept (one shuffle),
                            // while the 16 lie inside the row; the rest one by one.
                            let s2 = src + ix0
                            var t = lo
                            // The last start whose 16 floats lie in the row: 2t + 15 <= inW - 1 - ix0.
                            let lastStart = inW - ix0 >= 16 ? (inW - ix0 - 16) / 2 : -1
                            while t + 8 <= hi && t <= lastStart {
                                let v = UnsafeRawPointer(s2 + 2 &* t).loadUnaligned(as: SIMD16<Float>.self)
                                UnsafeMutableRawPointer(d + t).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                                t += 8
                            }
                            while t < hi { d[t] = s2[2 &* t]; t += 1 }
                        } else {
                            var sp = src + ix0 + lo * sw
                            for t in lo..<hi { d[t] = sp.pointee; sp += sw }
                        }
                        if hi < run.count { FloatRun.zero(d + hi, run.count - hi) }
                    }
                    if cols < nr { FloatRun.zero(dst + cols, nr - cols) }
                    dst += nr
                    kx += 1
                    if kx == kw {
                        kx = 0
                        ky += 1
                        if ky == kh { ky = 0; c += 1 }
                    }
                }
            }
        }
    }
}
