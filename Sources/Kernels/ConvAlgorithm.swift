#if canImport(Glibc)
import Glibc
#endif
import Networks

/// The algorithm a convolution or fully connected layer runs (`LayerKernels.convolution`,
/// `LayerKernels.fullyConnected`); profile reports name it per layer by its raw value.
public enum ConvAlgorithm: String, Sendable, CaseIterable {
    /// A 1x1 stride-1 convolution: a GEMM on the input as it is.
    case gemm1x1 = "gemm-1x1"
    /// A GEMM whose B operand packs im2col columns of the input on the fly.
    case im2col = "gemm-im2col"
    /// Winograd F(4x4, 3x3) (`WinogradConvolution`): 3x3 stride-1 ungrouped convolutions.
    case winograd = "winograd-f4x4"
    /// Depthwise (groups == channels): a direct kernel per channel.
    case depthwise
    /// One output pixel of a 1x1 convolution, or a fully connected layer: dot products.
    case matrixVector = "matrix-vector"
    /// Few input channels (a network's first layer, on the image's channels), fp32, on x86-64
    /// CPUs with AVX-512 and VNNI or with AVX2 and FMA (`DirectConvolution.applies`): a direct kernel on padded input
    /// rows (`DirectConvolution`), where the im2col GEMM has a short K and packs a B operand as
    /// large as the output for every image.
    case direct
    /// An ungrouped convolution on the channel-blocked layout (`BlockedConvolution`): direct, on
    /// a blocked input (or the network's NCHW image), to a blocked output, under the blocked
    /// layout (`Layout`, `LayoutPlan`).
    case blocked = "blocked-nchw8c"
    /// A depthwise convolution on the blocked layout, blocked in and out.
    case blockedDepthwise = "depthwise-nchw8c"

    /// Where fp32 networks hold their tensors: `SOCPROF_LAYOUT` (`auto`, `nchw` or `blocked`).
    public enum Layout: String, Sendable, CaseIterable {
        /// The layout measured faster: `nchw` on every CPU so far. On AMD Zen 3 (AVX2), whole
        /// images took 1.18-1.31x as long blocked (MobileNet and ResNet-50, 1 and 2 threads;
        /// docs/kernels.md "The blocked layout").
        case auto
        /// Every tensor NCHW: the GEMM, Winograd, direct and depthwise kernels.
        case nchw
        /// Channel-blocked (NCHW8c) tensors between the layers that run on it (`LayoutPlan`).
        case blocked

        /// The layout of this process: `SOCPROF_LAYOUT`, read on first use; unset or empty is
        /// `auto`; a value that names no layout is reported on stderr and `auto` is used.
        public static let current: Layout = ConvAlgorithm.environment("SOCPROF_LAYOUT", fallback: .auto, otherwise: "choosing the layout automatically")

        /// `auto` resolved for this CPU.
        public var resolved: Layout { self == .auto ? .nchw : self }
    }

    /// Which algorithms convolutions may use: `SOCPROF_CONV_ALGORITHM` (`auto`, `gemm` or `winograd`).
    public enum Policy: String, Sendable, CaseIterable {
        /// Winograd where it measured faster (`winogradWins`), the direct kernel where it applies
        /// (`directApplies`), the GEMM elsewhere.
        case auto
        /// Neither Winograd nor the direct kernel: the GEMM (or the depthwise and matrix-vector
        /// kernels) everywhere.
        case gemm
        /// Winograd for every 3x3 stride-1 ungrouped convolution.
        case winograd

        /// The policy of this process: `SOCPROF_CONV_ALGORITHM`, read on first use; unset or empty
        /// is `auto`; a value that names no policy is reported on stderr and `auto` is used.
        public static let current: Policy = ConvAlgorithm.environment(variable, fallback: .auto,
                                                                     otherwise: "choosing convolution algorithms automatically")

    }

    /// Which fp32 depthwise kernel runs on x86-64 CPUs with AVX-512: `SOCPROF_DEPTHWISE` (`auto`,
    /// `planes` or `lanes`). CPUs with AVX2 and no AVX-512 run `lanes` whatever it says.
    public enum DepthwiseKernel: String, Sendable, CaseIterable {
        /// On AMD Zen 4 (AVX-512 in 256-bit halves: 8-lane FMAs give as many flops) `planes` for
        /// 3x3 layers of stride 2 and of stride 1 at least 12 outputs wide (both read in place)
        /// and other stride-1 layers more than 64 wide, `lanes` otherwise: MobileNet's stride-1
        /// layers 0.095, 0.110, 0.059, 0.036 ms (112 to 14 wide) against `lanes`' 0.132, 0.135,
        /// 0.082, 0.048, its 7-wide one 0.047 (in place) against 0.039; its strided ones 0.088,
        /// 0.043, 0.022, 0.022 against 0.136, 0.072, 0.041, 0.028 (`bench conv --depthwise`, 1
        /// thread, docs/kernels.md).
        /// `planes` on other AVX-512 CPUs (not measured there).
        case auto
        /// The AVX-512 kernel, a channel at a time (`socprof_dw_f32_avx512`, depthwise_x86.c).
        case planes
        /// The AVX2 kernel, 8 channels a vector (`socprof_dw8_f32_avx2`, depthwise_f32_avx2.c).
        case lanes

        /// The choice of this process: `SOCPROF_DEPTHWISE`, read on first use; unset or empty is
        /// `auto`; a value that names no kernel is reported on stderr and `auto` is used.
        public static let current: DepthwiseKernel = ConvAlgorithm.environment(variable, fallback: .auto,
                                                                               otherwise: "choosing the depthwise kernel automatically")

        /// Whether a layer with this stride, filter and output width runs the AVX-512 `planes`
        /// kernel on `cpu` (where it has AVX-512 and the build has the kernel) rather than `lanes`.
        public func planes(stride: Int, filter3x3: Bool, outputWidth: Int, cpu: GEMMKernel.CPU) -> Bool {
            switch self {
            case .planes: return true
            case .lanes: return false
            case .auto:
                return !cpu.isZen4 || (stride == 1 && outputWidth > 64) || (filter3x3 && (stride == 2 || (stride == 1 && outputWidth >= 12)))
            }
        }
    }

    /// A choice set by an environment variable whose unset or empty value is `auto`.
    public protocol EnvironmentChoice: RawRepresentable, CaseIterable where RawValue == String {
        /// The variable, e.g. `SOCPROF_CONV_ALGORITHM`.
        static var variable: String { get }
        /// What unset or empty means.
        static var auto: Self { get }
    }

    /// Environment variable `name`'s `value` as one of `T`'s cases: nil or empty is `fallback`.
    static func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ value: String?, fallback: T) -> Result<T, OverrideError>
        where T.RawValue == String {
        guard let value, !value.isEmpty else { return .success(fallback) }
        guard let choice = T(rawValue: value) else {
            return .failure(OverrideError(description: "\(name)=\(value) is not one of " + T.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        return .success(choice)
    }

    /// Environment variable `name` as one of `T`'s cases (`choice`); a value that names none is
    /// reported on stderr ("socprof: ...; `otherwise`") and `fallback` is used.
    static func environment<T: RawRepresentable & CaseIterable>(_ name: String, fallback: T, otherwise: String) -> T where T.RawValue == String {
        switch choice(name, getenv(name).map { String(cString: $0) }, fallback: fallback) {
        case .success(let value): return value
        case .failure(let error):
            let line = "socprof: \(error); \(otherwise)\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            return fallback
        }
    }

    /// An environment value that names none of the choices (`SOCPROF_CONV_ALGORITHM`,
    /// `SOCPROF_LAYOUT`, `SOCPROF_DEPTHWISE`).
    public struct OverrideError: Error, CustomStringConvertible, Equatable {
        /// What was wrong and which values are accepted.
        public let description: String
    }

    /// The algorithm for a convolution from `x` to `y` under `policy`.
    public static func choose(_ conv: Convolution, input x: TensorShape, output y: TensorShape, policy: Policy = .current) -> ConvAlgorithm {
        let other = withoutWinograd(conv, inputChannels: x.c, outputPixels: y.h * y.w)
        switch policy {
        case .gemm: return other
        case .winograd where other == .im2col && winogradApplies(conv): return .winograd
        case .auto where other == .im2col && winogradApplies(conv) && winogradWins(conv, input: x, output: y): return .winograd
        case .winograd, .auto: return directApplies(conv, input: x, output: y) ? .direct : other
        }
    }

    /// The algorithm when Winograd is not an option: what `LayerKernels.convolution` runs for
    /// weights without a Winograd transform.
    static func withoutWinograd(_ conv: Convolution, inputChannels: Int, outputPixels: Int) -> ConvAlgorithm {
        let groups = conv.groups
        if groups == inputChannels && groups == conv.outputChannels && groups > 1 { return .depthwise }
        let pointwise = conv.kernelH == 1 && conv.kernelW == 1 && conv.strideH == 1 && conv.strideW == 1 && conv.padding == .none
        // One pixel of a 1x1 convolution (MobileNet's logits): the GEMM would pad it to NR columns.
        if groups == 1 && pointwise && outputPixels == 1 { return .matrixVector }
        return pointwise ? .gemm1x1 : .im2col
    }

    /// Layer `i` of `network`'s algorithm under `policy` and `layout` (`LayoutPlan`): nil for
    /// layers that are neither convolutions nor fully connected.
    public static func of(layer i: Int, in network: Network, policy: Policy = .current, layout: Layout = .current) -> ConvAlgorithm? {
        LayoutPlan(network: network, policy: policy, layout: layout).algorithms[i]
    }

    /// Layer `i` of `network`'s algorithm under `policy` on NCHW tensors: nil for layers that
    /// are neither convolutions nor fully connected. Winograd and the direct kernel are for fp32
    /// layers only: int8 and int8-weights layers run the others (the int8 kernels have the same
    /// four).
    public static func unblocked(layer i: Int, in network: Network, policy: Policy = .current) -> ConvAlgorithm? {
        let layer = network.layers[i]
        switch layer.kind {
        case .convolution(let c):
            let x = network.layers[layer.inputs[0]].output
            guard layer.precision == .fp32 else { return withoutWinograd(c, inputChannels: x.c, outputPixels: layer.output.h * layer.output.w) }
            return choose(c, input: x, output: layer.output, policy: policy)
        case .fullyConnected:
            return .matrixVector
        default:
            return nil
        }
    }

    /// Whether the direct kernel runs this fp32 convolution (unless the policy is `gemm`, or
    /// Winograd is chosen): one group, at most 4 input channels, the same stride both ways (1 or
    /// 2), a filter of 2 to 49 taps (1x1 layers stay GEMMs) at most 7 wide and high, where the
    /// kernel runs (`DirectConvolution.applies`), with a scratch that fits a GEMM
    /// workspace. On the first layers of
    /// MobileNet, ResNet-50, GoogLeNet and SqueezeNet it took 0.75-0.87x the im2col GEMM's time
    /// (`profile`, 1 thread, Zen 4; docs/kernels.md).
    public static func directApplies(_ conv: Convolution, input x: TensorShape, output y: TensorShape) -> Bool {
        conv.groups == 1 && x.c <= 4 && conv.strideH == conv.strideW && conv.strideH <= 2 && conv.kernelH * conv.kernelW > 1
            && conv.kernelH <= 7 && conv.kernelW <= 7 && DirectConvolution.applies && DirectConvolution.fits(conv, x: x, y: y)
    }

    /// Whether Winograd F(4x4, 3x3) computes this convolution: 3x3, stride 1, one group (any
    /// padding).
    public static func winogradApplies(_ conv: Convolution) -> Bool {
        conv.kernelH == 3 && conv.kernelW == 3 && conv.strideH == 1 && conv.strideW == 1 && conv.groups == 1
    }

    /// Where `auto` picks Winograd over the im2col GEMM (for a convolution it applies to): output
    /// planes of at least 12 x 12, from 16 input channels. Measured with `socprof bench conv
    /// --kernel 3` on the 3x3 stride-1 layers of ResNet-50, GoogLeNet, SqueezeNet v1.0 and v1.1
    /// and AlexNet (AMD Zen 4, 1 thread; docs/kernels.md): Winograd ran 1.5-4x the GEMM's speed on
    /// planes of 27 x 27 and more (16 to 128 input channels), 1.2-2.4x on 13 x 13 and 14 x 14 (48
    /// to 256), 0.5-0.9x on 7 x 7 (160 to 512: 4 tiles, the 36 GEMMs mostly padding). Fewer than
    /// 16 input channels was not measured (no such layer in these networks).
    public static func winogradWins(_ conv: Convolution, input x: TensorShape, output y: TensorShape) -> Bool {
        y.h >= 12 && y.w >= 12 && x.c >= 16
    }
}

extension ConvAlgorithm.EnvironmentChoice {
    /// The variable's value as a choice: nil or empty is `auto`; anything else must name a case.
    public static func override(_ value: String?) -> Result<Self, ConvAlgorithm.OverrideError> {
        ConvAlgorithm.choice(variable, value, fallback: auto)
    }
}

extension ConvAlgorithm.Policy: ConvAlgorithm.EnvironmentChoice {
    public static let variable = "SOCPROF_CONV_ALGORITHM"
}

extension ConvAlgorithm.DepthwiseKernel: ConvAlgorithm.EnvironmentChoice {
    public static let variable = "SOCPROF_DEPTHWISE"
}
