import Networks

/// Runs a network on one image, layer by layer, on a thread pool. Everything it needs (weights,
/// the planned activation arena, the GEMM workspaces) is allocated up front; a run allocates
/// nothing.
// Sendable: one run at a time, driven by the thread that calls `run`; the pool's threads write disjoint
// parts of the arena and their own workspace within a job.
public final class NetworkRunner: @unchecked Sendable {
    public let network: Network
    public let weights: NetworkWeights
    public let plan: ActivationPlan
    public let pool: ThreadPool
    let workspaces: [GEMM.Workspace]
    /// B packed whole and shared by the threads, for layers whose rows are split.
    let shared: GEMM.SharedB?
    let arena: UnsafeMutableBufferPointer<Float>
    /// Convolution weights packed for the GEMM once, by layer.
    let packed: [[PackedA]?]
    /// Each layer's algorithm (`ConvAlgorithm.of`), nil for layers that are neither convolutions
    /// nor fully connected.
    public let algorithms: [ConvAlgorithm?]
    /// Convolution weights transformed for Winograd once, by layer (the layers whose algorithm is
    /// `.winograd`).
    let winograd: [WinogradWeights?]
    /// The Winograd layers' workspace, sized for the largest; nil without such a layer.
    let winogradWorkspace: WinogradConvolution.Workspace?
    /// Each layer's input and output pointers in the arena, resolved once (no allocation per run).
    let inputPointers: [[UnsafePointer<Float>]]
    let outputPointers: [UnsafeMutablePointer<Float>]

    /// A runner of `network` on `pool` with weights from `seed`, whose convolutions choose their
    /// algorithm under `policy` (`SOCPROF_CONV_ALGORITHM` unless given).
    public init(network: Network, pool: ThreadPool, seed: UInt64 = 1, policy: ConvAlgorithm.Policy = .current) {
        self.network = network
        self.pool = pool
        weights = NetworkWeights(network: network, seed: seed)
        plan = ActivationPlan(network: network)
        workspaces = (0..<pool.count).map { _ in GEMM.Workspace() }
        shared = pool.count > 1 ? GEMM.SharedB() : nil
        arena = .allocate(capacity: plan.elements + 16)
        arena.initialize(repeating: 0)
        let base = arena.baseAddress!, offsets = plan.offsets
        outputPointers = offsets.map { base + $0 }
        inputPointers = network.layers.map { l in l.inputs.map { UnsafePointer(base + offsets[$0]) } }
        let w = weights
        let algorithms = network.layers.indices.map { ConvAlgorithm.of(layer: $0, in: network, policy: policy) }
        self.algorithms = algorithms
        packed = network.layers.enumerated().map { i, l in
            guard case .convolution(let c) = l.kind, algorithms[i] != .winograd else { return nil }
            return LayerKernels.ConvWeights.pack(c, inputChannels: network.layers[l.inputs[0]].output.c, outputPixels: l.output.h * l.output.w, weights: w.weights[i]!.baseAddress!)
        }
        winograd = network.layers.enumerated().map { i, l in
            guard case .convolution(let c) = l.kind, algorithms[i] == .winograd else { return nil }
            let x = network.layers[l.inputs[0]].output
            let plan = WinogradConvolution.Plan(conv: c, input: x, output: l.output, threads: pool.count)
            return WinogradWeights(weights: w.weights[i]!.baseAddress!, outputChannels: l.output.c, inputChannels: x.c,
                                   kernel: plan.gemmKernel())
        }
        let winogradFloats = network.layers.enumerated().map { i, l -> Int in
            guard case .convolution(let c) = l.kind, algorithms[i] == .winograd else { return 0 }
            return WinogradConvolution.Plan(conv: c, input: network.layers[l.inputs[0]].output, output: l.output, threads: pool.count).workspaceFloats
        }.max() ?? 0
        winogradWorkspace = winogradFloats > 0 ? WinogradConvolution.Workspace(floats: winogradFloats) : nil
    }

    /// Bytes of the weights packed for the GEMM (a second copy of most convolution weights) and
    /// transformed for Winograd (four times a layer's weights).
    public var packedWeightBytes: Int64 {
        packed.reduce(0) { $0 + ($1?.reduce(0) { $0 + $1.bytes } ?? 0) } + winograd.reduce(0) { $0 + ($1?.bytes ?? 0) }
    }

    deinit { arena.deallocate() }

    /// Bytes of the activation arena.
    public var activationBytes: Int64 { Int64(plan.elements) * 4 }
    /// Bytes of the GEMM and Winograd workspaces.
    public var workspaceBytes: Int64 {
        Int64(workspaces.count * GEMM.Workspace.bytes) + Int64(shared?.capacity ?? 0) * 4 + (winogradWorkspace?.bytes ?? 0)
    }

    /// A layer's output in the arena (valid until a later layer reuses its slot).
    public func output(of layer: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: arena[plan.offsets[layer]..<(plan.offsets[layer] + network.layers[layer].output.count)])
    }

    /// Fills the input with a deterministic image (values in [0, 1)).
    public func setDeterministicInput(seed: UInt64 = 7) {
        var rng = SplitMix64(seed: seed)
        let input = output(of: 0)
        for i in input.indices { input[i] = rng.uniform(0, 1) }
    }

    /// Runs every layer after the input. `beforeLayer`/`afterLayer` are called on the calling
    /// thread at each layer boundary, when no thread is working (the profiler reads counters
    /// there). Returns the network's output.
    @discardableResult
    public func run(beforeLayer: (Int) -> Void = { _ in }, afterLayer: (Int) -> Void = { _ in }) -> UnsafeMutableBufferPointer<Float> {
        // Non-escaping hooks: nothing is boxed per image.
        for i in 1..<network.layers.count {
            beforeLayer(i)
            runLayer(i)
            afterLayer(i)
        }
        return output(of: network.layers.count - 1)
    }

    /// Runs one layer.
    public func runLayer(_ i: Int) {
        let layer = network.layers[i]
        let out = outputPointers[i]
        let inputs = inputPointers[i]
        let x = network.layers[layer.inputs.first ?? 0].output
        switch layer.kind {
        case .input:
            break
        case .convolution(let c):
            LayerKernels.convolution(c, input: inputs[0], x: x, output: out, y: layer.output,
                                     weights: .init(weights: weights.weights[i]!.baseAddress!, bias: weights.biases[i]!.baseAddress!, packed: packed[i],
                                                    winograd: winograd[i]),
                                     activation: layer.activation, pool: pool, workspaces: workspaces, shared: shared, winograd: winogradWorkspace)
        case .fullyConnected(let outputs):
            LayerKernels.fullyConnected(input: inputs[0], inputs: x.count, output: out, outputs: outputs,
                                        weights: weights.weights[i]!.baseAddress!, bias: weights.biases[i]!.baseAddress!,
                                        activation: layer.activation, pool: pool)
        case .pooling(let p):
            LayerKernels.pooling(p, input: inputs[0], x: x, output: out, y: layer.output, pool: pool)
        case .lrn(let n):
            LayerKernels.lrn(n, input: inputs[0], x: x, output: out, pool: pool)
        case .concat:
            var offset = 0
            for (k, j) in layer.inputs.enumerated() {
                let s = network.layers[j].output
                LayerKernels.concatCopy(inputs[k], channels: s.c, plane: s.h * s.w, into: out, offset: offset, pool: pool)
                offset += s.c
            }
        case .add:
            LayerKernels.add(inputs[0], inputs[1], output: out, count: layer.output.count, activation: layer.activation, pool: pool)
        case .softmax:
            LayerKernels.softmax(inputs[0], output: out, count: layer.output.count)
        }
    }
}
