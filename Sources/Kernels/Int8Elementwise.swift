import Networks

extension Int8LayerKernels {
    /// out = a + b for two quantized tensors of `count` elements with their own scales and zero
    /// points, requantized to `outParams` with the activation fused:
    ///   f = Float(a - za) x (sa / so) + Float(b - zb) x (sb / so)   (two multiplies, one add, not fused)
    ///   q = round(clamp(f)) half to even + zo
    /// (TFLite computes the same sum in fixed point; results can differ by one step at halves.)
    public static func add(_ a: UnsafePointer<UInt8>, _ aParams: QuantParams, _ b: UnsafePointer<UInt8>, _ bParams: QuantParams,
                           output: UnsafeMutablePointer<UInt8>, _ outParams: QuantParams, count: Int, activation: Activation?, pool: ThreadPool) {
        var job = AddJob(a: a, ap: aParams, b: b, bp: bParams, output: output, op: outParams, count: count, range: outParams.clampRange(activation),
                         pool: pool)
        pool.run(&job)
    }

    struct AddJob: PoolJob {
        let a: UnsafePointer<UInt8>, ap: QuantParams
        let b: UnsafePointer<UInt8>, bp: QuantParams
        let output: UnsafeMutablePointer<UInt8>, op: QuantParams
        let count: Int
        let range: ClosedRange<Int32>
        let pool: ThreadPool
        static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: AddJob.self).pointee.work(t) }

        func work(_ t: Int) {
            let ma = ap.scale / op.scale, mb = bp.scale / op.scale
            let fa = ap.unsignedFlip, fb = bp.unsignedFlip
            let za = ap.unsignedZeroPoint, zb = bp.unsignedZeroPoint
            let zo = op.zeroPoint
            let lo = Float(range.lowerBound &- zo), hi = Float(range.upperBound &- zo)
            // Rounded half to even by adding 1.5 x 2^23 (the clamped sum is below 2^22 in
            // magnitude) and read from the low mantissa bits, as `QuantizeJob` does: the same
            // bytes as `rounded(.toNearestOrEven)`, in a loop the compiler vectorises (with the
            // checked Int32(Float) conversion it ran at 6-7 ns an element, ResNet-50's 16 adds
            // 29 ms on Zen 3).
            // In chunks taken as the threads come (`ThreadPool.forEachClaimedBlock`).
            pool.forEachClaimedBlock(of: count) { r in
                for i in r {
                    let x = Float(Int32(a[i] ^ fa) &- za) * ma
                    let y = Float(Int32(b[i] ^ fb) &- zb) * mb
                    let f = min(max(x + y, lo), hi)
                    output[i] = UInt8(truncatingIfNeeded: Int32(bitPattern: (f + 12_582_912).bitPattern) &- 0x4B40_0000 &+ zo)
                }
            }
        }
    }

    /// One input of a concatenation along channels: `channels` planes of `plane` elements copied
    /// into `output` from channel `offset` on, requantized from `inParams` to `outParams`
    /// (`Requantize` with multiplier si / so on q - zi) unless both are the same (a copy).
    public static func concat(_ input: UnsafePointer<UInt8>, _ inParams: QuantParams, channels: Int, plane: Int,
                              into output: UnsafeMutablePointer<UInt8>, _ outParams: QuantParams, offset: Int, pool: ThreadPool) {
        var job = ConcatJob(input: input, ip: inParams, channels: channels, plane: plane, output: output, op: outParams, offset: offset, threads: pool.count)
        pool.run(&job)
    }

    struct ConcatJob: PoolJob {
        let input: UnsafePointer<UInt8>, ip: QuantParams
        let channels: Int, plane: Int
        let output: UnsafeMutablePointer<UInt8>, op: QuantParams
        let offset: Int
        let threads: Int
        static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: ConcatJob.self).pointee.work(t) }

        func work(_ t: Int) {
            let r = ThreadPool.share(channels, part: t, of: threads)
            guard !r.isEmpty else { return }
            let src = input + r.lowerBound * plane, dst = output + (offset + r.lowerBound) * plane, n = r.count * plane
            if ip == op {
                dst.update(from: src, count: n)
                return
            }
            let m = ip.scale / op.scale, flip = ip.unsignedFlip
            let zi = ip.unsignedZeroPoint, zo = op.zeroPoint, range = op.range
            for i in 0..<n { dst[i] = Requantize.byte(Int32(src[i] ^ flip) &- zi, multiplier: m, zeroPoint: zo, range: range) }
        }
    }

    /// Quantizes `count` floats to `params` (`QuantParams.quantize`: round(x / scale) half to
    /// even + zero point, clamped), in chunks taken by the threads as they come.
    public static func quantize(_ input: UnsafePointer<Float>, count: Int, _ params: QuantParams, output: UnsafeMutablePointer<UInt8>, pool: ThreadPool) {
        var job = QuantizeJob(input: input, count: count, params: params, output: output, pool: pool)
        pool.run(&job)
    }

    struct QuantizeJob: PoolJob {
        let input: UnsafePointer<Float>, count: Int
        let params: QuantParams
        let output: UnsafeMutablePointer<UInt8>
        let pool: ThreadPool
        static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: QuantizeJob.self).pointee.work(t) }
        func work(_ t: Int) {
            // `QuantParams.quantize` in a loop the compiler vectorises: clamping before rounding
            // gives the same integer (the bounds are integers), and adding 1.5 x 2^23 rounds a
            // float below 2^22 half to even into its low mantissa bits, read without a conversion.
            let lo = Float(params.range.lowerBound - params.zeroPoint), hi = Float(params.range.upperBound - params.zeroPoint)
            let scale = params.scale, zp = params.zeroPoint
            pool.forEachClaimedBlock(of: count) { r in
                for i in r {
                    let v = min(max(input[i] / scale, lo), hi)
                    output[i] = UInt8(truncatingIfNeeded: Int32(bitPattern: (v + 12_582_912).bitPattern) &- 0x4B40_0000 &+ zp)
                }
            }
        }
    }

    /// Dequantizes `count` bytes: scale x (q - zero point).
    public static func dequantize(_ input: UnsafePointer<UInt8>, count: Int, _ params: QuantParams, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        var job = DequantizeJob(input: input, count: count, params: params, output: output, pool: pool)
        pool.run(&job)
    }

    struct DequantizeJob: PoolJob {
        let input: UnsafePointer<UInt8>, count: Int
        let params: QuantParams
        let output: UnsafeMutablePointer<Float>
        let pool: ThreadPool
        static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: DequantizeJob.self).pointee.work(t) }
        func work(_ t: Int) {
            pool.forEachClaimedBlock(of: count) { r in for i in r { output[i] = params.dequantize(input[i]) } }
        }
    }
}
