import CInt8Kernels
import Networks

/// A quantized convolution's (or fully connected layer's) constants, made once per layer: the
/// int8 weights [outC][inC/groups][kh][kw] (per output channel symmetric, -127...127), the int32
/// bias (in units of input scale x the channel's weight scale), each channel's requantization
/// multiplier (input scale x weight scale / output scale, a Float) and weight sum, and, for the
/// convolutions that run the GEMM, each group's weights packed for the int8 kernel.
// Sendable: made in `init`, read-only afterwards.
public final class Int8ConvWeights: @unchecked Sendable {
    public let conv: Convolution
    public let inputChannels: Int
    public let input: QuantParams
    public let output: QuantParams
    /// The microkernel the packed weights are for (and whose requantization every kernel of the layer uses).
    public let kernel: Int8Kernel
    let weights: UnsafeMutablePointer<Int8>
    let bias: UnsafeMutablePointer<Int32>
    let multipliers: UnsafeMutablePointer<Float>
    let rowSums: UnsafeMutablePointer<Int32>
    /// Per group; nil for depthwise convolutions.
    let packed: [PackedInt8A]?
    /// A depthwise layer's filters packed 16 channels at a time (`lanesBytes` a group): for
    /// `socprof_dw16_u8_avx512` (`socprof_dw16_pack`) where the VNNI kernel runs, for
    /// `socprof_dw16_u8_avx2` (`socprof_dw16_avx2_pack`) where the AVX2 one does; else nil.
    let lanes: UnsafeMutablePointer<UInt8>?
    let lanesBytes: Int

    /// Copies the weights (`conv.outputChannels` x `inputChannels / groups` x kh x kw), their
    /// per-channel scales and the bias (nil: 0), and packs them when the layer runs the GEMM
    /// (`ConvAlgorithm.withoutWinograd`: not for depthwise layers, nor for a 1x1 layer on one
    /// output pixel when `outputPixels` says so, which `Int8LayerKernels.convolution` runs as a
    /// matrix-vector product on the weights as they are).
    public init(_ conv: Convolution, inputChannels: Int, weights w: UnsafePointer<Int8>, weightScales: UnsafePointer<Float>,
                bias b: UnsafePointer<Int32>?, input: QuantParams, output: QuantParams, outputPixels: Int? = nil,
                kernel: Int8Kernel = .current) {
        precondition(inputChannels % conv.groups == 0 && conv.outputChannels % conv.groups == 0, "channels must divide into the groups")
        self.conv = conv
        self.inputChannels = inputChannels
        self.input = input
        self.output = output
        self.kernel = kernel
        let outC = conv.outputChannels, k = inputChannels / conv.groups * conv.kernelH * conv.kernelW
        weights = .allocate(capacity: max(1, outC * k))
        weights.update(from: w, count: outC * k)
        bias = .allocate(capacity: max(1, outC))
        multipliers = .allocate(capacity: max(1, outC))
        rowSums = .allocate(capacity: max(1, outC))
        for c in 0..<outC {
            bias[c] = b?[c] ?? 0
            multipliers[c] = Float(Double(input.scale) * Double(weightScales[c]) / Double(output.scale))
            var s: Int32 = 0
            for i in 0..<k {
                precondition(w[c * k + i] != -128, "int8 weights must lie in -127...127 (symmetric quantization)")
                s &+= Int32(w[c * k + i])
            }
            rowSums[c] = s
        }
        let algorithm = ConvAlgorithm.withoutWinograd(conv, inputChannels: inputChannels, outputPixels: outputPixels ?? 0)
        if algorithm == .depthwise && (kernel == .vnni || kernel.isAVX2) {
            // Once per layer rather than per group and image: the filter rows in lanes and each
            // channel's bias less the input's zero point (as a byte) x its weight sum.
            let vnni = kernel == .vnni
            lanesBytes = vnni ? socprof_dw16_packed_bytes(conv.kernelH, conv.kernelW) : socprof_dw16_avx2_packed_bytes(conv.kernelH, conv.kernelW)
            let groups = (outC + 15) / 16, zb = UInt8(truncatingIfNeeded: input.unsignedZeroPoint)
            let lanes = UnsafeMutablePointer<UInt8>.allocate(capacity: groups * lanesBytes)
            let pack = vnni ? socprof_dw16_pack : socprof_dw16_avx2_pack
            for g in 0..<groups {
                pack(conv.kernelH, conv.kernelW, min(16, outC - g * 16), weights + g * 16 * k, bias + g * 16, zb, lanes + g * lanesBytes)
            }
            self.lanes = lanes
        } else {
            lanes = nil
            lanesBytes = 0
        }
        switch algorithm {
        case .depthwise, .matrixVector, .blockedDepthwise:
            packed = nil
        case .gemm1x1, .im2col, .winograd, .direct, .blocked:
            let outPerGroup = outC / conv.groups
            packed = (0..<conv.groups).map { g in
                PackedInt8A(m: outPerGroup, k: k, weights: w + g * outPerGroup * k, lda: k, kernel: kernel)
            }
        }
    }

    deinit {
        weights.deallocate()
        bias.deallocate()
        lanes?.deallocate()
        multipliers.deallocate()
        rowSums.deallocate()
    }

    /// The largest |weight| the layer's kernels take: `kernel.weightLimit` where the layer runs the
    /// GEMM on packed weights (a `maddubs` kernel's 64), 127 where it runs the depthwise or the
    /// matrix-vector kernel, which multiply exactly in wider lanes.
    public static func weightLimit(_ conv: Convolution, inputChannels: Int, outputPixels: Int?, kernel: Int8Kernel) -> Int8 {
        switch ConvAlgorithm.withoutWinograd(conv, inputChannels: inputChannels, outputPixels: outputPixels ?? 0) {
        case .depthwise, .matrixVector, .blockedDepthwise: 127
        case .gemm1x1, .im2col, .winograd, .direct, .blocked: kernel.weightLimit
        }
    }

    /// Bytes of weights the layer reads: int8 weights (packed when packed), int32 bias.
    public var bytes: Int64 {
        let k = Int64(inputChannels / conv.groups * conv.kernelH * conv.kernelW)
        return (packed?.reduce(0) { $0 + $1.bytes } ?? Int64(conv.outputChannels) * k) + Int64(conv.outputChannels) * 4
    }

    /// The requantization of output channels `first...` with a fused activation.
    func requantization(firstChannel first: Int, activation: Activation?) -> Int8Requantization {
        Int8Requantization(bias: bias + first, multipliers: multipliers + first, zeroPoint: output.zeroPoint, range: output.clampRange(activation))
    }
}
