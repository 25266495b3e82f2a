import Kernels
import Testing

@Suite("The im2col B operand against the matrix it stands for")
struct Im2colBTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let c: Int, h: Int, w: Int, k: Int, stride: Int, padTop: Int, padLeft: Int, outH: Int, outW: Int
        let k0: Int, kb: Int, j0: Int, nb: Int
        var testDescription: String { "\(c)x\(h)x\(w) k\(k) s\(stride) pad \(padTop),\(padLeft) rows \(k0)+\(kb) columns \(j0)+\(nb)" }
    }

    /// Blocks whose channels are copied into padded planes (the whole output, or many columns)
    /// and blocks of a few columns far into a large plane (each stretch clipped), on strides 1, 2
    /// and 3, padding on one side or none, K blocks starting and ending inside a channel, column
    /// blocks starting inside an output row and ending in a partial panel.
    static let cases: [Case] = [
        Case(c: 3, h: 20, w: 20, k: 3, stride: 1, padTop: 1, padLeft: 1, outH: 20, outW: 20, k0: 0, kb: 27, j0: 0, nb: 400),
        Case(c: 3, h: 20, w: 20, k: 3, stride: 1, padTop: 1, padLeft: 1, outH: 20, outW: 20, k0: 4, kb: 20, j0: 45, nb: 3),
        Case(c: 5, h: 7, w: 7, k: 3, stride: 1, padTop: 1, padLeft: 1, outH: 7, outW: 7, k0: 7, kb: 30, j0: 0, nb: 49),
        Case(c: 4, h: 13, w: 13, k: 3, stride: 2, padTop: 1, padLeft: 1, outH: 7, outW: 7, k0: 0, kb: 36, j0: 5, nb: 40),
        Case(c: 2, h: 56, w: 57, k: 3, stride: 2, padTop: 0, padLeft: 0, outH: 27, outW: 28, k0: 2, kb: 15, j0: 30, nb: 700),
        Case(c: 2, h: 56, w: 57, k: 3, stride: 2, padTop: 0, padLeft: 0, outH: 27, outW: 28, k0: 2, kb: 15, j0: 700, nb: 5),
        Case(c: 3, h: 17, w: 17, k: 3, stride: 3, padTop: 1, padLeft: 1, outH: 6, outW: 6, k0: 0, kb: 27, j0: 1, nb: 35),
        Case(c: 2, h: 9, w: 30, k: 5, stride: 2, padTop: 2, padLeft: 0, outH: 5, outW: 13, k0: 10, kb: 40, j0: 12, nb: 53),
    ]

    @Test("packed panels hold B's rows and columns, zero in the padding and past the last column", arguments: cases, [16, 24])
    func panels(t: Case, nr: Int) {
        var rng = TestRandom(UInt64(t.c * 1000 + t.w * 10 + t.k))
        let input = rng.array(t.c * t.h * t.w)
        let shape = Im2colShape(inH: t.h, inW: t.w, kh: t.k, kw: t.k, sh: t.stride, sw: t.stride, padTop: t.padTop, padLeft: t.padLeft, outW: t.outW)
        let panels = (t.nb + nr - 1) / nr
        var p = [Float](repeating: .nan, count: panels * t.kb * nr + 7)
        input.withUnsafeBufferPointer { i in p.withUnsafeMutableBufferPointer { p in
            Im2colB(input: i.baseAddress!, shape: shape).pack(k0: t.k0, kb: t.kb, j0: t.j0, nb: t.nb, nr: nr, into: p.baseAddress!)
        } }
        var wrong = 0
        for q in 0..<panels {
            for kk in 0..<t.kb {
                let row = t.k0 + kk, c = row / (t.k * t.k), ky = row / t.k % t.k, kx = row % t.k
                for r in 0..<nr {
                    let j = t.j0 + q * nr + r
                    var expected: Float = 0
                    if q * nr + r < t.nb {
                        let iy = j / t.outW * t.stride - t.padTop + ky, ix = j % t.outW * t.stride - t.padLeft + kx
                        if iy >= 0, iy < t.h, ix >= 0, ix < t.w { expected = input[(c * t.h + iy) * t.w + ix] }
                    }
                    if p[(q * t.kb + kk) * nr + r] != expected { wrong += 1 }
                }
            }
        }
        #expect(wrong == 0, "\(wrong) packed floats differ from B")
        let past = p[(panels * t.kb * nr)...].filter { !$0.isNaN }.count
        #expect(past == 0, "written past the panels")
    }
}
