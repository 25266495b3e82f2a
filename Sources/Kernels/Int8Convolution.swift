import Networks

/// The int8 kernels of a network's layers, on one image in NCHW layout, quantized per tensor
/// (`QuantParams`); the same threading as `LayerKernels` (work split between a pool's threads,
/// nothing allocated but a workspace that grows once).
public enum Int8LayerKernels {
    /// Whether a convolution is depthwise (one filter per channel), which runs its own kernel.
    public static func isDepthwise(_ conv: Convolution, inputChannels: Int) -> Bool {
        conv.groups == inputChannels && conv.groups == conv.outputChannels && conv.groups > 1
    }

    /// Quantized convolution of `input` (shape `x`, quantized as `w.input`) into `output` (shape
    /// `y`, quantized as `w.output`), the activation fused into the requantization's clamp.
    /// Depthwise convolutions run `depthwise`; 1x1 stride-1 unpadded ones the int8 GEMM on the
    /// input as it is (on one pixel, `fullyConnected`); the others the GEMM on im2col columns packed on the fly, the padding being
    /// the input's zero point. `workspaces.count >= pool.count`; `shared`: where the threads pack
    /// B together when the GEMM's rows are split (`Int8GEMM.multiply`).
    public static func convolution(_ w: Int8ConvWeights, input: UnsafePointer<UInt8>, x: TensorShape, output: UnsafeMutablePointer<UInt8>,
                                   y: TensorShape, activation: Activation?, pool: ThreadPool, workspaces: [Int8GEMM.Workspace],
                                   shared: GEMM.SharedB? = nil) {
        let conv = w.conv
        precondition(x.c == w.inputChannels && y.c == conv.outputChannels, "shapes do not match the weights")
        let n = y.h * y.w, inPerGroup = x.c / conv.groups, outPerGroup = y.c / conv.groups
        // The same choice as the fp32 layers' (Winograd aside).
        let algorithm = ConvAlgorithm.withoutWinograd(conv, inputChannels: x.c, outputPixels: n)
        switch algorithm {
        case .depthwise, .blockedDepthwise:
            depthwise(w, input: input, x: x, output: output, y: y, activation: activation, pool: pool, workspaces: workspaces)
            return
        case .matrixVector:
            // One pixel of a 1x1 convolution (MobileNet's logits): not a GEMM padded to the tile's columns.
            fullyConnected(w, input: input, output: output, activation: activation, pool: pool)
            return
        case .gemm1x1, .im2col, .winograd, .direct, .blocked:
            break
        }
        guard let packed = w.packed else { preconditionFailure("\(conv): weights made for one output pixel, run on \(n)") }
        let pointwise = algorithm == .gemm1x1
        for g in 0..<conv.groups {
            let src = input + g * inPerGroup * x.h * x.w
            let dst = output + g * outPerGroup * n
            let b: Int8B = pointwise
                ? .dense(DenseInt8B(src, ldb: n, zeroPoint: w.input.zeroPoint, signed: w.input.signed))
                : .im2col(Im2colInt8B(input: src, shape: Im2colShape(conv, input: x, outputWidth: y.w),
                                      zeroPoint: w.input.zeroPoint, signed: w.input.signed))
            Int8GEMM.multiply(packed: packed[g], n: n, b: b,
                              output: .requantized(dst, ldc: n, w.requantization(firstChannel: g * outPerGroup, activation: activation)),
                              pool: pool, workspaces: workspaces, shared: shared)
        }
    }

    /// y = W x + b, quantized, with W [outputs][inputs] (`w` made for a 1x1 convolution with
    /// `inputs` input channels): int32 dot products, rows split between threads, requantized
    /// with the activation fused.
    public static func fullyConnected(_ w: Int8ConvWeights, input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>,
                                      activation: Activation?, pool: ThreadPool) {
        precondition(w.conv.kernelH == 1 && w.conv.kernelW == 1 && w.conv.groups == 1, "fully connected weights are a 1x1 convolution's")
        var job = FullyConnectedJob(w: w, input: input, output: output, range: w.output.clampRange(activation), threads: pool.count)
        pool.run(&job)
    }

    struct FullyConnectedJob: PoolJob {
        let w: Int8ConvWeights
        let input: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>
        let range: ClosedRange<Int32>
        let threads: Int
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: FullyConnectedJob.self).pointee.work(t) }

        func work(_ t: Int) {
            let n = w.inputChannels
            // value(x) - zx = (x ^ flip) - zAdjusted, for uint8 and int8 inputs alike.
            let flip = w.input.unsignedFlip
            let zAdjusted = w.input.unsignedZeroPoint
            for o in ThreadPool.share(w.conv.outputChannels, part: t, of: threads) {
                let row = w.weights + o * n
                var s: Int32 = 0
                for i in 0..<n { s &+= Int32(row[i]) &* Int32(input[i] ^ flip) }
                s = s &- zAdjusted &* w.rowSums[o] &+ w.bias[o]
                output[o] = Requantize.byte(s, multiplier: w.multipliers[o], zeroPoint: w.output.zeroPoint, range: range)
            }
        }
    }
}
