/// The B operand of the int8 GEMM (activations, K x N): something that gives a stretch of one of
/// its rows, in place or copied into scratch. A dense matrix gives pointers into itself; a
/// convolution's input builds im2col rows on the fly, so that the column matrix is never written.
public protocol Int8OperandB {
    /// The zero point of B's values (0...255 for uint8, -128...127 for int8).
    var zeroPoint: Int32 { get }
    /// int8 values rather than uint8.
    var signed: Bool { get }
    /// Row `k`, columns `j0..<j0+count`: a pointer to `count` bytes, either into B or `scratch`
    /// (which has room for `count`).
    func row(_ k: Int, j0: Int, count: Int, scratch: UnsafeMutablePointer<UInt8>) -> UnsafePointer<UInt8>
}

/// A row-major byte matrix as the B operand.
public struct DenseInt8B: Int8OperandB {
    public let b: UnsafePointer<UInt8>
    public let ldb: Int
    public let zeroPoint: Int32
    public let signed: Bool
    public init(_ b: UnsafePointer<UInt8>, ldb: Int, zeroPoint: Int32, signed: Bool = false) {
        self.b = b
        self.ldb = ldb
        self.zeroPoint = zeroPoint
        self.signed = signed
    }
    @inline(__always)
    public func row(_ k: Int, j0: Int, count: Int, scratch: UnsafeMutablePointer<UInt8>) -> UnsafePointer<UInt8> {
        b + k * ldb + j0
    }
}

/// A quantized convolution input (one group's channels, NCHW) seen as the im2col matrix
/// B[(c, ky, kx)][(oy, ox)] = input[c][oy*sh - pt + ky][ox*sw - pl + kx], the padding being the
/// input's zero point (the quantized 0.0), so that it adds nothing to the corrected sums.
public struct Im2colInt8B: Int8OperandB {
    public let input: UnsafePointer<UInt8>
    /// Where each element of B comes from.
    public let shape: Im2colShape
    public let zeroPoint: Int32
    public let signed: Bool

    public init(input: UnsafePointer<UInt8>, shape: Im2colShape, zeroPoint: Int32, signed: Bool = false) {
        self.input = input
        self.shape = shape
        self.zeroPoint = zeroPoint
        self.signed = signed
    }

    @inline(__always)
    public func row(_ k: Int, j0: Int, count: Int, scratch: UnsafeMutablePointer<UInt8>) -> UnsafePointer<UInt8> {
        let (inH, inW, kh, kw, sh, sw) = (shape.inH, shape.inW, shape.kh, shape.kw, shape.sh, shape.sw)
        let (padTop, padLeft, outW) = (shape.padTop, shape.padLeft, shape.outW)
        let c = k / (kh * kw), ky = (k / kw) % kh, kx = k % kw
        let plane = input + c * inH * inW
        let pad = UInt8(truncatingIfNeeded: zeroPoint)
        if sh == 1 && sw == 1 && inW == outW {
            // Stride 1, rows as wide as the input's: column j reads the plane's byte j + off, so
            // the whole stretch is one copy (the bytes outside the plane the padding), then the
            // columns each row's filter column moves past the row's ends set to the padding.
            let shift = kx &- padLeft, off = (ky &- padTop) &* inW &+ shift
            let lo = min(count, max(0, 0 &- off &- j0)), hi = max(lo, min(count, inH &* inW &- off &- j0))
            scratch.update(repeating: pad, count: lo)
            (scratch + lo).update(from: plane + (j0 &+ lo &+ off), count: hi &- lo)
            (scratch + hi).update(repeating: pad, count: count &- hi)
            if shift != 0 {
                // Row by row: columns 0 ..< -shift (shift < 0) or inW - shift ..< inW (shift > 0).
                let first = shift < 0 ? 0 : inW &- shift, n = shift < 0 ? 0 &- shift : shift
                var rowStart = j0 &- j0 % outW
                while rowStart < j0 &+ count {
                    let a = max(j0, rowStart &+ first), b = min(j0 &+ count, rowStart &+ first &+ n)
                    if a < b { (scratch + (a &- j0)).update(repeating: pad, count: b &- a) }
                    rowStart &+= outW
                }
            }
            return UnsafePointer(scratch)
        }
        var oy = j0 / outW, ox = j0 % outW
        var q = 0
        while q < count {
            // Columns q..<q+n lie along output row oy. (Wrapping arithmetic and no division on
            // strides 1 and 2: this runs once per output row of every im2col row, and on 3 x 3
            // layers the checks and divisions took most of the packing's time, `perf annotate`.)
            let n = min(count &- q, outW &- ox)
            let d = scratch + q
            let iy = oy &* sh &- padTop &+ ky
            if iy < 0 || iy >= inH {
                d.update(repeating: pad, count: n)
            } else {
                let srow = plane + iy &* inW
                let ix0 = ox &* sw &- padLeft &+ kx
                // Slots i with 0 <= ix0 + i*sw < inW: lo = ceil(-ix0 / sw), hi = floor((inW - 1 - ix0) / sw) + 1,
                // both clamped to 0...n (floor division by shifts on stride 2).
                let lo: Int, hi: Int
                switch sw {
                case 1:
                    lo = min(n, max(0, 0 &- ix0))
                    hi = max(lo, min(n, inW &- ix0))
                case 2:
                    lo = min(n, max(0, (1 &- ix0) >> 1))
                    hi = max(lo, min(n, ((inW &- 1 &- ix0) >> 1) &+ 1))
                default:
                    lo = ix0 >= 0 ? 0 : min(n, (-ix0 + sw - 1) / sw)
                    hi = ix0 >= inW ? lo : max(lo, min(n, (inW - 1 - ix0) / sw + 1))
                }
                d.update(repeating: pad, count: lo)
                if sw == 1 {
                    (d + lo).update(from: srow + ix0 + lo, count: hi &- lo)
                } else {
                    var i = lo, src = srow + (ix0 &+ lo &* sw)
                    while i < hi { d[i] = src.pointee; src += sw; i &+= 1 }
                }
                (d + hi).update(repeating: pad, count: n &- hi)
            }
            q &+= n
            ox &+= n
            if ox == outW { ox = 0; oy &+= 1 }
        }
        return UnsafePointer(scratch)
    }
}

/// The B operands the threaded int8 GEMM takes: concrete, so that its pool jobs are not generic.
public enum Int8B: Int8OperandB {
    case dense(DenseInt8B)
    case im2col(Im2colInt8B)

    public var zeroPoint: Int32 {
        switch self { case .dense(let b): b.zeroPoint; case .im2col(let b): b.zeroPoint }
    }
    public var signed: Bool {
        switch self { case .dense(let b): b.signed; case .im2col(let b): b.signed }
    }
    @inline(__always)
    public func row(_ k: Int, j0: Int, count: Int, scratch: UnsafeMutablePointer<UInt8>) -> UnsafePointer<UInt8> {
        switch self {
        case .dense(let b): b.row(k, j0: j0, count: count, scratch: scratch)
        case .im2col(let b): b.row(k, j0: j0, count: count, scratch: scratch)
        }
    }
}
