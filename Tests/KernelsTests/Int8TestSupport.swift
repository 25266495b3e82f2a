import Kernels
import Networks

/// Deterministic bytes and weights for the int8 tests.
struct Int8Random {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E3779B97F4A7C15 &+ 1 }
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 11
    }
    /// Uniform in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func bytes(_ n: Int, _ range: ClosedRange<Int> = 0...255) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: int(range)) } }
    /// Symmetric weights, -limit...limit (a kernel's `weightLimit`), with the ends over-represented.
    mutating func weights(_ n: Int, limit: Int8 = 127) -> [Int8] {
        (0..<n).map { _ in
            switch next() % 8 { case 0: limit; case 1: -limit; default: Int8(int(-Int(limit)...Int(limit))) }
        }
    }
    mutating func ints(_ n: Int, _ range: ClosedRange<Int>) -> [Int32] { (0..<n).map { _ in Int32(int(range)) } }
    mutating func float(_ range: ClosedRange<Float>) -> Float { range.lowerBound + (range.upperBound - range.lowerBound) * Float(next() % 1_000_001) / 1_000_000 }
    mutating func floats(_ n: Int, _ range: ClosedRange<Float>) -> [Float] { (0..<n).map { _ in float(range) } }
}

/// Plain reference loops for the int8 kernels: the definitions, written out again.
enum Int8Reference {
    /// The integer a stored byte stands for.
    static func value(_ q: UInt8, signed: Bool) -> Int32 { signed ? Int32(Int8(bitPattern: q)) : Int32(q) }

    /// sum over k of A[i][k] x (B[k][j] - zb) + bias[i], in Int64 (checked to fit in Int32).
    static func gemm(m: Int, n: Int, k: Int, a: [Int8], lda: Int, b: [UInt8], ldb: Int, zb: Int32, signedB: Bool, bias: [Int32]?) -> [Int32] {
        var c = [Int32](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = Int64(bias?[i] ?? 0)
                for p in 0..<k { s += Int64(a[i * lda + p]) * Int64(value(b[p * ldb + j], signed: signedB) - zb) }
                c[i * n + j] = Int32(s)
            }
        }
        return c
    }

    /// Requantization, straight from its definition: round(clamp(sum x multiplier)) + zp.
    static func requantize(_ sum: Int32, _ multiplier: Float, zp: Int32, range: ClosedRange<Int32>) -> UInt8 {
        let f = Float(sum) * multiplier
        let lo = Float(range.lowerBound - zp), hi = Float(range.upperBound - zp)
        let q = Int32(min(max(f, lo), hi).rounded(.toNearestOrEven)) + zp
        return UInt8(truncatingIfNeeded: q)
    }

    /// Convolution (any groups) on quantized NCHW: the padding is the real 0.0 (adds nothing).
    static func conv(_ c: Convolution, _ input: [UInt8], _ x: TensorShape, zx: Int32, signed: Bool = false, _ w: [Int8], _ bias: [Int32]?,
                     _ y: TensorShape) -> [Int32] {
        var out = [Int32](repeating: 0, count: y.count)
        let inG = x.c / c.groups, outG = y.c / c.groups
        for oc in 0..<y.c {
            let g = oc / outG
            for oy in 0..<y.h { for ox in 0..<y.w {
                var s = Int64(bias?[oc] ?? 0)
                for ic in 0..<inG { for ky in 0..<c.kernelH { for kx in 0..<c.kernelW {
                    let iy = oy * c.strideH - c.padding.top + ky, ix = ox * c.strideW - c.padding.left + kx
                    guard iy >= 0, iy < x.h, ix >= 0, ix < x.w else { continue }
                    s += Int64(value(input[((g * inG + ic) * x.h + iy) * x.w + ix], signed: signed) - zx) * Int64(w[((oc * inG + ic) * c.kernelH + ky) * c.kernelW + kx])
                } } }
                out[(oc * y.h + oy) * y.w + ox] = Int32(s)
            } }
        }
        return out
    }
}
