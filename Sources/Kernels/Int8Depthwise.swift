import CInt8Kernels
import Networks

extension Int8LayerKernels {
    /// Quantized depthwise convolution (one kh x kw filter per channel, any stride and padding;
    /// MobileNet's are 3x3, stride 1 and 2): channels (or groups of 16 of them) split between
    /// threads; the sums over the taps (the padding is the zero point, which adds nothing) are the
    /// exact int32 sums, made by the AVX-512 kernels where the VNNI kernel runs, on a padded plane
    /// 16 columns at a time for strides 1 and 2 elsewhere (`paddedWork`) and row by row otherwise
    /// (`rowWork`), then requantized with the kernel's requantization (`DepthwiseJob.work`).
    public static func depthwise(_ w: Int8ConvWeights, input: UnsafePointer<UInt8>, x: TensorShape, output: UnsafeMutablePointer<UInt8>,
                                 y: TensorShape, activation: Activation?, pool: ThreadPool, workspaces: [Int8GEMM.Workspace]) {
        precondition(isDepthwise(w.conv, inputChannels: x.c) && workspaces.count >= pool.count)
        var job = DepthwiseJob(w: w, input: input, x: x, output: output, y: y, range: w.output.clampRange(activation),
                               pool: pool, workspaces: workspaces, plan: DepthwiseJob.kernelPlan(w, x: x, y: y))
        pool.run(&job)
    }

    struct DepthwiseJob: PoolJob {
        let w: Int8ConvWeights
        let input: UnsafePointer<UInt8>, x: TensorShape
        let output: UnsafeMutablePointer<UInt8>, y: TensorShape
        let range: ClosedRange<Int32>
        let pool: ThreadPool
        var threads: Int { pool.count }
        let workspaces: [Int8GEMM.Workspace]
        let plan: socprof_dw_plan?
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: DepthwiseJob.self).pointee.work(t) }

        /// With the AVX2 kernel and a plan: 16 channels a vector (`lanesWork`, exact int32 sums).
        /// With the VNNI kernel (an AVX-512 CPU) and a plan: 3x3 layers of stride 2, and of
        /// stride 1 at least 12 wide, read in place (`inPlaceWork`); otherwise 16 channels a
        /// vector for outputs at most 64 wide and strided layers (`lanesWork`), the plane kernel
        /// otherwise (`avx512Work`). Elsewhere strides 1 and 2 run on padded planes
        /// (`paddedWork`); these two sum in Float, exact while |sum| < 2^22 (255 x 127 per tap).
        /// Others row by row.
        func work(_ t: Int) {
            if let plan, w.kernel == .vnni, plan.inplace != 0 {
                inPlaceWork(plan.shape)
            } else if let plan, w.kernel.isAVX2 || plan.shape.ow <= 64 || plan.shape.stride > 1 {
                lanesWork(t, plan.shape)
            } else if let plan {
                avx512Work(t, plan)
            } else if 255 * 127 * w.conv.kernelH * w.conv.kernelW < 1 << 22 && w.conv.strideW <= 2 {
                paddedWork(t)
            } else {
                rowWork(t)
            }
        }

        /// VNNI, the plan's `inplace` shapes (3x3, stride 2, or stride 1 with outputs at least 12
        /// wide): `socprof_dw3_u8_vnni` on the planes in place, the channels taken in chunks
        /// (`ThreadPool.forEachClaimedChunk`). On MobileNet at 1 thread (`profile --precision
        /// int8`, Zen 4, in alternation) its 13 depthwise layers took 0.78-0.81x the time of the
        /// lanes and plane kernels (0.93-1.03 against 1.15-1.18 ms), every layer less but the 7 x 7
        /// stride-1 one (0.057-0.058 against 0.051-0.053 ms, a 16-byte vector for 7 outputs),
        /// which stays on the lanes kernel.
        func inPlaceWork(_ shape: socprof_dw_shape) {
            var shape = shape
            let flip = w.input.unsignedFlip, zb = UInt8(truncatingIfNeeded: w.input.unsignedZeroPoint)
            pool.forEachClaimedChunk(of: x.c) { channels in
                let c0 = channels.lowerBound
                socprof_dw3_u8_vnni(&shape, input + c0 * x.h * x.w, channels.count, flip, zb, w.weights + c0 * 9, w.bias + c0,
                                    w.multipliers + c0, w.output.zeroPoint, range.lowerBound, range.upperBound, output + c0 * y.h * y.w)
            }
        }

        /// The plan of the C kernels, where they run: the CPUs that run the VNNI kernel (with
        /// sums exact in Float for `socprof_dw_u8_avx512`: 255 x 127 x taps < 2^22) or the AVX2
        /// one, one stride both ways.
        static func kernelPlan(_ w: Int8ConvWeights, x: TensorShape, y: TensorShape) -> socprof_dw_plan? {
            let conv = w.conv
            switch w.kernel {
            case .vnni: guard 255 * 127 * conv.kernelH * conv.kernelW < 1 << 22 else { return nil }
            case .avx2, .maddubs: break
            default: return nil
            }
            return depthwisePlan(conv, x: x, y: y)
        }

        /// 16 channels a vector, one channel a lane, the groups of 16 split between threads:
        /// `socprof_dw16_u8_avx512` (AVX-512 VNNI, on outputs at most 64 wide or strided) or
        /// `socprof_dw16_u8_avx2` (AVX2, on every plane). In MobileNet at 1 thread (`profile`,
        /// Zen 4) the VNNI one took 0.85-0.90x the plane kernel's time on the 56 x 56 stride-1
        /// layer and 1.03x on the 112 x 112 one, which stays on planes; against its Float form (a
        /// C harness) the vpdpbusd windows took 0.74-0.87x the time on MobileNet's other
        /// depthwise layers. The AVX2 one took MobileNet's depthwise layers from 6.6 ms (the Swift
        /// plane kernel, `paddedWork`) to 1.3 ms on Zen 3, onnxruntime's 2.3.
        func lanesWork(_ t: Int, _ shape: socprof_dw_shape) {
            var shape = shape
            let vnni = w.kernel == .vnni
            let ws = workspaces[t]
            let scratchFloats = vnni ? socprof_dw16_scratch_floats(&shape) : socprof_dw16_avx2_scratch_floats(&shape)
            ws.reserve(bBytes: scratchFloats * 4 + 64, rowBytes: 0)
            let scratch = ws.b.assumingMemoryBound(to: Float.self)
            let flip = w.input.unsignedFlip
            let zf = Float(w.input.unsignedZeroPoint)
            guard let lanes = w.lanes else { preconditionFailure("depthwise weights not packed for the \(w.kernel) kernel") }
            let kernel = vnni ? socprof_dw16_u8_avx512 : socprof_dw16_u8_avx2
            // The groups taken dynamically in chunks (`ThreadPool.forEachClaimedChunk`): a thread
            // slowed from outside does fewer.
            let groups = (x.c + 15) / 16
            pool.forEachClaimedChunk(of: groups) { chunk in
                for group in chunk {
                    let c0 = group * 16, count = min(16, x.c - c0)
                    kernel(&shape, input + c0 * x.h * x.w, count, flip, zf, lanes + group * w.lanesBytes, w.multipliers + c0,
                           w.output.zeroPoint, range.lowerBound, range.upperBound, scratch, output + c0 * y.h * y.w)
                }
            }
        }

        /// AVX-512: `socprof_dw_u8_avx512` on each channel, the same exact float sums as
        /// `paddedWork` on a plane per phase of the stride.
        func avx512Work(_ t: Int, _ plan: socprof_dw_plan) {
            precondition(plan.inplace == 0, "an in-place plan runs socprof_dw3_u8_vnni, not the plane sweep")
            var plan = plan
            let ws = workspaces[t]
            ws.reserve(bBytes: plan.scratch * 4 + 64, rowBytes: 0)
            let scratch = ws.b.assumingMemoryBound(to: Float.self)
            let flip = w.input.unsignedFlip
            let zf = Float(w.input.unsignedZeroPoint)
            let taps = w.conv.kernelH * w.conv.kernelW
            var first: Int32 = 1
            for ch in ThreadPool.share(x.c, part: t, of: threads) {
                socprof_dw_u8_avx512(&plan, input + ch * x.h * x.w, flip, zf, w.weights + ch * taps, w.bias[ch], w.multipliers[ch],
                                     w.output.zeroPoint, range.lowerBound, range.upperBound, scratch, first, output + ch * y.h * y.w)
                first = 0
            }
        }

        /// Each output row summed in int32 over the taps inside the plane, requantized a row at a time.
        func rowWork(_ t: Int) {
            let conv = w.conv
            let kh = conv.kernelH, kw = conv.kernelW, sh = conv.strideH, sw = conv.strideW
            let pt = conv.padding.top, pl = conv.padding.left
            let flip = w.input.unsignedFlip
            let zAdjusted = w.input.unsignedZeroPoint
            let ws = workspaces[t]
            ws.reserve(ints: y.w)
            let acc = ws.ints
            for ch in ThreadPool.share(x.c, part: t, of: threads) {
                let src = input + ch * x.h * x.w, dst = output + ch * y.h * y.w
                let f = w.weights + ch * kh * kw
                for oy in 0..<y.h {
                    acc.update(repeating: 0, count: y.w)
                    for ky in 0..<kh {
                        let iy = oy * sh - pt + ky
                        guard iy >= 0 && iy < x.h else { continue }
                        let srow = src + iy * x.w
                        for kx in 0..<kw {
                            let wv = Int32(f[ky * kw + kx])
                            // Output columns whose input column ox*sw - pl + kx lies in [0, inW).
                            let lo = max(0, (pl - kx + sw - 1) / sw)
                            let last = x.w - 1 + pl - kx
                            let hi = last < 0 ? 0 : min(y.w, last / sw + 1)
                            if lo >= hi { continue }
                            let s = srow - pl + kx
                            if sw == 1 {
                                for ox in lo..<hi { acc[ox] &+= wv &* (Int32(s[ox] ^ flip) &- zAdjusted) }
                            } else {
                                for ox in lo..<hi { acc[ox] &+= wv &* (Int32(s[ox &* sw] ^ flip) &- zAdjusted) }
                            }
                        }
                    }
                    w.kernel.requantize(acc, ldacc: y.w, rows: 1, cols: y.w, rowAdd: w.bias + ch, rowScale: w.multipliers + ch,
                                        zeroPoint: w.output.zeroPoint, min: range.lowerBound, max: range.upperBound,
                                        out: dst + oy * y.w, ldout: y.w)
                }
            }
        }
    }
}

extension Int8LayerKernels.DepthwiseJob {
    /// Depthwise convolution on a padded copy of each channel, 16 output columns at a time: the
    /// channel's values less the zero point, as Float, in a plane whose borders are 0 (the
    /// padding, the zero point's real value) and, for stride 2, split into its even and odd
    /// columns, so that every tap reads 16 consecutive values. Each tap is a float multiply-add
    /// by the tap's weight: integers below 2^24 in magnitude are exact in Float, and every
    /// partial sum here is below 255 x 127 x taps < 2^22 (the caller checks), so the sums are the
    /// int32 sums of `rowWork` exactly, and so are the bytes after the requantization of each
    /// channel. (Float, not Int32 lanes: Swift's SIMD integer widening is not vectorised.)
    func paddedWork(_ t: Int) {
        let conv = w.conv
        let kh = conv.kernelH, kw = conv.kernelW, sh = conv.strideH, sw = conv.strideW
        let pt = conv.padding.top, pl = conv.padding.left
        // Padded plane: rows hp, columns wp (enough for every output column rounded up to 16).
        let cols16 = (y.w + 15) / 16 * 16
        let wp = max(x.w + pl + conv.padding.right, (cols16 - 1) * sw + kw) + 16
        let hp = max(x.h + pt + conv.padding.bottom, (y.h - 1) * sh + kh)
        // Stride 2: even columns then odd columns of each row, each half wide.
        let half = (wp + 1) / 2
        let rowStride = sw == 2 ? 2 * half : wp
        let planeCount = hp * rowStride + 32
        let taps = kh * kw
        let ws = workspaces[t]
        // The plane, then the taps as floats, then each row's bias and multiplier (the same for
        // every row of a channel: one requantization call per channel).
        ws.reserve(bBytes: (planeCount + taps + 2 * y.h) * 4 + 64, rowBytes: 0)
        ws.reserve(ints: cols16 * y.h)
        let plane = ws.b.assumingMemoryBound(to: Float.self)
        let tapValues = plane + planeCount
        let rowBias = UnsafeMutableRawPointer(tapValues + taps).assumingMemoryBound(to: Int32.self)
        let rowScale = UnsafeMutableRawPointer(rowBias + y.h).assumingMemoryBound(to: Float.self)
        // Adding 1.5 x 2^23 puts an integer-valued float below 2^22 in the low mantissa bits.
        let magic = SIMD16<Float>(repeating: 12_582_912), magicBits = SIMD16<Int32>(repeating: 0x4B40_0000)
        let acc = ws.ints
        let flip = w.input.unsignedFlip
        // value(q) - zero point = (q ^ flip) - zAdjusted, exact in Float.
        let zf = Float(w.input.unsignedZeroPoint)
        // Every channel writes the same interior positions: the borders stay 0.
        FloatRun.zero(plane, planeCount)
        for ch in ThreadPool.share(x.c, part: t, of: threads) {
            let src = input + ch * x.h * x.w, dst = output + ch * y.h * y.w
            for iy in 0..<x.h {
                let srow = src + iy &* x.w, prow = plane + (pt &+ iy) &* rowStride
                if sw == 2 {
                    // Input column ix lands on padded column pl + ix: even ones in the first
                    // half, odd ones in the second.
                    let first = pl & 1 // the first ix whose padded column is even
                    let even = prow + ((pl &+ first) >> 1), odd = prow + half + ((pl &+ 1 &- first) >> 1)
                    let evens = (x.w &- first &+ 1) / 2, odds = (x.w &- (1 &- first) &+ 1) / 2
                    let e0 = srow + first, o0 = srow + (1 &- first)
                    for k in 0..<evens { even[k] = Float(e0[k &* 2] ^ flip) - zf }
                    for k in 0..<odds { odd[k] = Float(o0[k &* 2] ^ flip) - zf }
                } else {
                    let d = prow + pl
                    for ix in 0..<x.w { d[ix] = Float(srow[ix] ^ flip) - zf }
                }
            }
            let f = w.weights + ch * taps
            for k in 0..<taps { tapValues[k] = Float(f[k]) }
            for r in 0..<y.h {
                rowBias[r] = w.bias[ch]
                rowScale[r] = w.multipliers[ch]
            }
            for oy in 0..<y.h {
                let out = acc + oy &* cols16
                var ox = 0
                while ox < y.w {
                    var sum = SIMD16<Float>(repeating: 0)
                    for ky in 0..<kh {
                        let row = UnsafeRawPointer(plane + (oy &* sh &+ ky) &* rowStride)
                        for kx in 0..<kw {
                            // Column ox*sw + kx: in the split plane, half (kx & 1), index ox + kx/2.
                            let index = sw == 2 ? (kx & 1) &* half &+ ox &+ (kx >> 1) : ox &+ kx
                            let v = row.loadUnaligned(fromByteOffset: index &* 4, as: SIMD16<Float>.self)
                            sum = sum.addingProduct(v, SIMD16<Float>(repeating: tapValues[ky &* kw &+ kx]))
                        }
                    }
                    let bits = unsafeBitCast(sum + magic, to: SIMD16<Int32>.self) &- magicBits
                    UnsafeMutableRawPointer(out + ox).storeBytes(of: bits, as: SIMD16<Int32>.self)
                    ox &+= 16
                }
            }
            w.kernel.requantize(acc, ldacc: cols16, rows: y.h, cols: y.w, rowAdd: rowBias, rowScale: rowScale,
                                zeroPoint: w.output.zeroPoint, min: range.lowerBound, max: range.upperBound, out: dst, ldout: y.w)
        }
    }
}
