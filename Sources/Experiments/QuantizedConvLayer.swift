import Kernels
import Networks

/// One convolution layer of a network made int8 as `socprof bench conv --precision int8` times
/// it, from what an fp32 runner computed: the runner's fp32 weights and bias quantized per
/// output channel (`Int8ConvWeights(quantizing:...)`), the input and output quantized per tensor
/// as uint8 over the min/max of the fp32 layer's actual input and output
/// (`QuantParams.covering(min:max:)`), and the input quantized once, here, so that `run`, the
/// timed part, is the int8 kernel alone.
// Sendable: made in `init`; `run` writes only `output`, one call at a time.
public final class QuantizedConvLayer: @unchecked Sendable {
    /// The quantized weights, with the input's and output's quantization.
    public let weights: Int8ConvWeights
    /// The input's and output's shapes.
    public let x: TensorShape, y: TensorShape
    public let activation: Activation?
    /// The quantized input (`x.count` bytes) and the output `run` writes (`y.count` bytes).
    public let input: UnsafeMutableBufferPointer<UInt8>
    public let output: UnsafeMutableBufferPointer<UInt8>
    let pool: ThreadPool
    let workspaces: [Int8GEMM.Workspace]
    /// The runner's buffer for B packed by all threads together, as a network run uses it.
    let shared: GEMM.SharedB?

    /// Layer `index` of `runner`'s network, which must be a convolution that has run on the
    /// runner (its input and fp32 output are read from the runner's arena). `workspaces.count >= pool.count`.
    public init(runner: NetworkRunner, layer index: Int, workspaces: [Int8GEMM.Workspace]) {
        let net = runner.network, l = net.layers[index]
        guard case .convolution(let c) = l.kind else { preconditionFailure("layer \(l.name) is not a convolution") }
        precondition(workspaces.count >= runner.pool.count, "one workspace per thread")
        precondition(runner.fusion.add[index] == nil, "layer \(l.name) does the add after it on this runner: its output is not its own")
        x = net.layers[l.inputs[0]].output
        y = l.output
        activation = l.activation
        pool = runner.pool
        self.workspaces = workspaces
        // An fp32 runner has no shared B (only int8 layers use one).
        shared = runner.shared ?? (runner.pool.count > 1 ? GEMM.SharedB() : nil)
        let fp32In = UnsafeBufferPointer(runner.output(of: l.inputs[0])), fp32Out = UnsafeBufferPointer(runner.output(of: index))
        let inQ = Self.covering(fp32In), outQ = Self.covering(fp32Out)
        weights = Int8ConvWeights(quantizing: c, inputChannels: x.c, weights: runner.weights.weights[index]!.baseAddress!,
                                  bias: runner.weights.biases[index].flatMap { UnsafePointer($0.baseAddress) }, input: inQ, output: outQ)
        input = .allocate(capacity: x.count)
        for i in 0..<x.count { input[i] = inQ.quantize(fp32In[i]) }
        output = .allocate(capacity: y.count)
        output.initialize(repeating: 0)
    }

    deinit {
        input.deallocate()
        output.deallocate()
    }

    /// uint8 parameters covering the values of `t` (`QuantParams.covering(min:max:)`).
    public static func covering(_ t: UnsafeBufferPointer<Float>) -> QuantParams {
        var lo = Float.infinity, hi = -Float.infinity
        for v in t { lo = min(lo, v); hi = max(hi, v) }
        return t.isEmpty ? .covering(min: 0, max: 0) : .covering(min: lo, max: hi)
    }

    /// The int8 layer: `Int8LayerKernels.convolution` from `input` into `output`, the activation
    /// fused; nothing else (the timed part).
    public func run() {
        Int8LayerKernels.convolution(weights, input: input.baseAddress!, x: x, output: output.baseAddress!, y: y, activation: activation,
                                     pool: pool, workspaces: workspaces, shared: shared)
    }
}
