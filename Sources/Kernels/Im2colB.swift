/// A convolution's input seen as the im2col matrix B[(c, ky, kx)][(oy, ox)], packed on the fly:
/// row r = (c * kh + ky) * kw + kx, column j = oy * outW + ox, value input[c][oy*sh - pt + ky][ox*sw - pl + kx]
/// (0 in the padding).
public struct Im2colB: GEMMOperandB {
    public let input: UnsafePointer<Float>
    public let inH: Int, inW: Int
    public let kh: Int, kw: Int
    public let sh: Int, sw: Int
    public let padTop: Int, padLeft: Int
    public let outW: Int

    public init(input: UnsafePointer<Float>, inH: Int, inW: Int, kh: Int, kw: Int, sh: Int, sw: Int, padTop: Int, padLeft: Int, outW: Int) {
        self.input = input
        self.inH = inH
        self.inW = inW
        self.kh = kh
        self.kw = kw
        self.sh = sh
        self.sw = sw
        self.padTop = padTop
        self.padLeft = padLeft
        self.outW = outW
    }

    @inline(__always)
    public func pack(k0: Int, kb: Int, j0: Int, nb: Int, into p: UnsafeMutablePointer<Float>) {
        let nr = GEMM.nr
        let panels = (nb + nr - 1) / nr
        for r in 0..<kb {
            let row = k0 + r
            let kx = row % kw, ky = (row / kw) % kh, c = row / (kw * kh)
            let plane = input + c * inH * inW
            // Walk the columns of this row once, panel by panel.
            var oy = j0 / outW, ox = j0 % outW
            for panel in 0..<panels {
                let dst = p + panel * kb * nr + r * nr
                let cols = min(nr, nb - panel * nr)
                var q = 0
                while q < cols {
                    let iy = oy * sh - padTop + ky
                    // A run along one output row: same iy.
                    let run = min(cols - q, outW - ox)
                    if iy < 0 || iy >= inH {
                        (dst + q).update(repeating: 0, count: run)
                    } else {
                        let src = plane + iy * inW
                        let ix0 = ox * sw - padLeft + kx
                        // t in lo..<hi reads inside the row; the rest is padding.
                        let lo = min(run, max(0, (-ix0 + sw - 1) / sw))
                        // (Integer division rounds toward zero: a start right of the row has none.)
                        let hi = ix0 >= inW ? lo : max(lo, min(run, (inW - 1 - ix0) / sw + 1))
                        let d = dst + q
                        if lo > 0 { d.update(repeating: 0, count: lo) }
                        if sw == 1 {
                            (d + lo).update(from: src + ix0 + lo, count: hi - lo)
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
                        if hi < run { (d + hi).update(repeating: 0, count: run - hi) }
                    }
                    q += run
                    ox += run
                    if ox == outW { ox = 0; oy += 1 }
                }
                if cols < nr { (dst + cols).update(repeating: 0, count: nr - cols) }
            }
        }
    }
}
