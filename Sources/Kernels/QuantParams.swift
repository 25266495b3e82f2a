import Networks

/// How a quantized tensor's bytes map to real values: real = `scale` x (q - `zeroPoint`), with q
/// a uint8 (0...255) or, when `signed`, an int8 (-128...127) stored as its two's-complement byte.
/// Activations are quantized per tensor (asymmetric); weights per output channel, symmetric
/// (zero point 0, values in -127...127).
public struct QuantParams: Hashable, Sendable {
    /// Real value of one step, > 0.
    public var scale: Float
    /// The q that stands for 0.0, inside the range of q.
    public var zeroPoint: Int32
    /// int8 (-128...127) rather than uint8 (0...255).
    public var signed: Bool

    public init(scale: Float, zeroPoint: Int32, signed: Bool = false) {
        precondition(scale > 0 && scale.isFinite, "a quantization scale must be positive and finite")
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.signed = signed
        precondition(range.contains(zeroPoint), "zero point \(zeroPoint) outside \(range)")
    }

    /// The values q may take: 0...255, or -128...127 when `signed`.
    public var range: ClosedRange<Int32> { signed ? -128...127 : 0...255 }

    /// The byte XORed into stored q to read them as uint8 (q + 128 for int8, which the kernels
    /// that multiply uint8 take): 0x80 when `signed`, else 0.
    public var unsignedFlip: UInt8 { signed ? 0x80 : 0 }

    /// The zero point as those uint8 read it: `zeroPoint` + 128 when `signed`.
    public var unsignedZeroPoint: Int32 { zeroPoint &+ (signed ? 128 : 0) }

    /// The parameters that cover [min(lo, 0), max(hi, 0)] (0.0 must be exact, for padding) with
    /// the whole range of q, as TFLite's and ARM Compute Library's asymmetric quantization.
    public static func covering(min lo: Float, max hi: Float, signed: Bool = false) -> QuantParams {
        let lo = Swift.min(lo, 0), hi = Swift.max(hi, 0)
        let qmin: Float = signed ? -128 : 0, qmax: Float = signed ? 127 : 255
        let scale = hi > lo ? (hi - lo) / (qmax - qmin) : 1
        let zero = (qmin - lo / scale).rounded(.toNearestOrEven)
        return QuantParams(scale: scale, zeroPoint: Int32(Swift.min(Swift.max(zero, qmin), qmax)), signed: signed)
    }

    /// The clamp an activation fused into the requantization gives, in q: ReLU keeps q >=
    /// the zero point, ReLU6 also q <= zero point + round(6 / scale); both within `range`.
    public func clampRange(_ activation: Activation?) -> ClosedRange<Int32> {
        let r = range
        switch activation {
        case .none: return r
        case .relu: return Swift.max(r.lowerBound, zeroPoint)...r.upperBound
        case .relu6:
            let six = Int64(zeroPoint) + Int64(Swift.min((6 / scale).rounded(.toNearestOrEven), 1e6))
            return Swift.max(r.lowerBound, zeroPoint)...Int32(Swift.min(Int64(r.upperBound), six))
        }
    }

    /// q for a real value: round(x / scale) half to even, plus the zero point, clamped to `range`.
    @inline(__always)
    public func quantize(_ x: Float) -> UInt8 {
        let r = range
        let q = (x / scale).rounded(.toNearestOrEven)
        let c = Swift.min(Swift.max(q, Float(r.lowerBound - zeroPoint)), Float(r.upperBound - zeroPoint))
        return UInt8(truncatingIfNeeded: Int32(c) &+ zeroPoint)
    }

    /// The real value of a stored byte.
    @inline(__always)
    public func dequantize(_ q: UInt8) -> Float {
        let v = signed ? Int32(Int8(bitPattern: q)) : Int32(q)
        return Float(v &- zeroPoint) * scale
    }

    /// The integer value q of a stored byte (sign-extended when `signed`).
    @inline(__always)
    public func value(_ q: UInt8) -> Int32 { signed ? Int32(Int8(bitPattern: q)) : Int32(q) }
}

/// Requantization of int32 sums to a quantized output, the arithmetic every int8 kernel uses:
///   f = Float(sum) * multiplier     (one IEEE single-precision multiply, never fused)
///   q = round(clamp(f, lo - zp, hi - zp)) half to even, + zp
/// `multiplier` is the real multiplier as a Float (input scale x weight scale / output scale), as
/// XNNPACK's "fp32" requantization; not gemmlowp's fixed-point multiplier and shift. Both round
/// the same real product; they can differ by one step where the product lies within a float's
/// rounding error of a half.
public enum Requantize {
    /// One output value, as the C kernels compute it (see CInt8Kernels.h).
    @inline(__always)
    public static func value(_ sum: Int32, multiplier: Float, zeroPoint: Int32, range: ClosedRange<Int32>) -> Int32 {
        let f = Float(sum) * multiplier
        let c = Swift.min(Swift.max(f, Float(range.lowerBound &- zeroPoint)), Float(range.upperBound &- zeroPoint))
        return Int32(c.rounded(.toNearestOrEven)) &+ zeroPoint
    }

    /// The same, as the stored byte.
    @inline(__always)
    public static func byte(_ sum: Int32, multiplier: Float, zeroPoint: Int32, range: ClosedRange<Int32>) -> UInt8 {
        UInt8(truncatingIfNeeded: value(sum, multiplier: multiplier, zeroPoint: zeroPoint, range: range))
    }
}
