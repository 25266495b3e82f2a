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

    /// Packs rows `k0 ..< k0 + kb` of columns `j0 ..< j0 + nb` into `nr`-column panels at `p`
    /// (k-major, the last panel zero-padded). Where a channel's zero-padded plane has no more
    /// floats than the block takes from that channel (`PaddedPlane.pays`: every im2col layer of
    /// ResNet-50 at 1 thread; not a thread's chunk of a few panels of a large plane), each
    /// channel is copied into such a plane once and its rows are plain copies from it
    /// (`packPadded`: the packing's samples half of what they were on ResNet-50, whose 7- and
    /// 14-float stretches cost more to clip than to copy); otherwise each stretch is clipped to
    /// the input (`packClipped`).
    @inline(__always)
    public func pack(k0: Int, kb: Int, j0: Int, nb: Int, nr: Int, into p: UnsafeMutablePointer<Float>) {
        let plane = PaddedPlane(shape: shape, j0: j0, nb: nb)
        if plane.pays(shape: shape, nb: nb) {
            packPadded(plane, k0: k0, kb: kb, j0: j0, nb: nb, nr: nr, into: p)
        } else {
            packClipped(k0: k0, kb: kb, j0: j0, nb: nb, nr: nr, into: p)
        }
    }

    /// The zero-padded plane of one channel that `packPadded` reads: row r is input row
    /// `top + r - padTop`, column x input column x - padLeft, the rows and columns the windows
    /// of output columns `j0 ..< j0 + nb` reach.
    struct PaddedPlane {
        /// The first padded row (the block's first output row's windows start there), the rows
        /// from it, the columns.
        let top: Int, rows: Int, width: Int
        /// Floats to allocate: the plane and 16 more, which the stride-2 copy's 16-float loads
        /// may read past a stretch's last column (and lanes it does not keep).
        var capacity: Int { rows * width + 16 }

        init(shape: Im2colShape, j0: Int, nb: Int) {
            top = j0 / shape.outW * shape.sh
            rows = (j0 + max(nb, 1) - 1) / shape.outW * shape.sh + shape.kh - top
            width = (shape.outW - 1) * shape.sw + shape.kw
        }

        /// Whether copying a channel into the plane costs no more floats than the block's rows
        /// of that channel (kh x kw rows of nb).
        func pays(shape: Im2colShape, nb: Int) -> Bool {
            rows * width <= shape.kh * shape.kw * nb
        }
    }

    /// A stretch of a panel's columns along one output row: panel slots `q ..< q + count`, read
    /// from the padded plane at `offset` (plus the row's kernel offset).
    struct Stretch {
        var q: Int, count: Int, offset: Int
    }

    /// `pack` from a zero-padded copy of each channel: channel by channel of the block's rows,
    /// then panel by panel, the channel's kernel offsets in a row (kh x kw consecutive rows of
    /// each panel written together), each row of a panel its stretches copied with no bounds to
    /// check.
    @inline(__always)
    func packPadded(_ plane: PaddedPlane, k0: Int, kb: Int, j0: Int, nb: Int, nr: Int, into p: UnsafeMutablePointer<Float>) {
        guard nb > 0, kb > 0 else { return }
        let (inH, inW, kh, kw, sw) = (shape.inH, shape.inW, shape.kh, shape.kw, shape.sw)
        let (padTop, padLeft, outW, sh) = (shape.padTop, shape.padLeft, shape.outW, shape.sh)
        let taps = kh * kw, width = plane.width
        let panels = (nb + nr - 1) / nr
        // The input's columns in the plane: from padded column padLeft, as many as it holds.
        let copyCount = max(0, min(inW, width - padLeft))
        // Output rows narrower than a panel (ResNet-50's 14 x 14 and 7 x 7 outputs) make
        // stretches of a few floats each: there, each column is read at its own offset instead.
        let gather = outW < nr
        // Every panel's stretches (each at least one column: at most nb of them), panel q's from
        // first[q] to first[q + 1]; and each column's offset in the plane, panel by panel.
        withUnsafeTemporaryAllocation(of: Stretch.self, capacity: max(nb, 1)) { stretchBuffer in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: panels + 1) { firstBuffer in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: panels * nr) { offsetBuffer in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: plane.capacity) { planeBuffer in
            let stretches = stretchBuffer.baseAddress!, first = firstBuffer.baseAddress!, padded = planeBuffer.baseAddress!
            let offsets = offsetBuffer.baseAddress!
            var count = 0, oy = j0 / outW, ox = j0 % outW
            for panel in 0..<panels {
                first[panel] = count
                let cols = min(nr, nb - panel * nr)
                var q = 0
                while q < cols {
                    let n = min(cols - q, outW - ox)
                    let offset = (oy * sh - plane.top) * width + ox * sw
                    stretches[count] = Stretch(q: q, count: n, offset: offset)
                    for i in 0..<n { offsets[panel * nr + q + i] = offset + i * sw }
                    count += 1
                    q += n
                    ox += n
                    if ox == outW { ox = 0; oy += 1 }
                }
            }
            first[panels] = count
            // The padding is zeroed once; each channel overwrites only the input's part.
            padded.update(repeating: 0, count: plane.capacity)
            var kk = 0
            while kk < kb {
                let k = k0 + kk, c = k / taps, t0 = k % taps
                let taken = min(taps - t0, kb - kk)
                let src = input + c * inH * inW
                for r in 0..<plane.rows {
                    let iy = plane.top + r - padTop
                    if iy >= 0 && iy < inH && copyCount > 0 {
                        FloatRun.copy(src + iy * inW, padded + r * width + padLeft, copyCount)
                    }
                }
                for panel in 0..<panels {
                    var dst = p + panel * kb * nr + kk * nr
                    let cols = min(nr, nb - panel * nr), columnOffsets = offsets + panel * nr
                    var ky = t0 / kw, kx = t0 % kw
                    for _ in 0..<taken {
                        let tap = padded + ky * width + kx
                        kx += 1
                        if kx == kw { kx = 0; ky += 1 }
                        if gather {
                            for i in 0..<cols { dst[i] = tap[columnOffsets[i]] }
                        } else {
                            for s in first[panel]..<first[panel + 1] {
                                let stretch = stretches[s]
                                let from = tap + stretch.offset, to = dst + stretch.q
                                if sw == 1 {
                                    FloatRun.copy(from, to, stretch.count)
                                } else if sw == 2 {
                                    // (The plane's 16 floats of slack cover the load past the last one.)
                                    FloatRun.copyEveryOther(from, to, stretch.count, readable: 2 * stretch.count)
                                } else {
                                    for i in 0..<stretch.count { to[i] = from[i * sw] }
                                }
                            }
                        }
                        if cols < nr { FloatRun.zero(dst + cols, nr - cols) }
                        dst += nr
                    }
                }
                kk += taken
            }
        }
        }
        }
        }
    }

    /// `pack` with each stretch of a panel's columns clipped to the input, row by row of every
    /// panel.
    @inline(__always)
    func packClipped(k0: Int, kb: Int, j0: Int, nb: Int, nr: Int, into p: UnsafeMutablePointer<Float>) {
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
                            // Every other float, the 16-float loads inside the row.
                            FloatRun.copyEveryOther(src + ix0 + 2 &* lo, d + lo, hi &- lo, readable: inW &- ix0 &- 2 &* lo)
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
