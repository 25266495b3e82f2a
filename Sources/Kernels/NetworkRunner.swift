import Networks

/// Runs a network on one image, layer by layer, on a thread pool, in the network's precision
/// (`Network.quantized`): fp32 layers on the fp32 kernels, int8 layers on the int8 kernels, the
/// quantize and dequantize layers between them, int8-weights layers expanding their weights to
/// fp32 as they run. Everything it needs (weights, quantized weights, the planned activation
/// arena, the workspaces) is allocated up front; a run allocates nothing.
// Sendable: one run at a time, driven by the thread that calls `run`; the pool's threads write disjoint
// parts of the arena and their own workspace within a job.
public final class NetworkRunner: @unchecked Sendable {
    public let network: Network
    /// The fp32 weights, by layer of `network` (the same values for every precision: quantized
    /// weights are made from them).
    public let weights: NetworkWeights
    public let plan: ActivationPlan
    public let pool: ThreadPool
    /// By layer: how its output is quantized (int8 and quantize layers); nil for fp32 outputs.
    public let quantization: [QuantParams?]
    let workspaces: [GEMM.Workspace]
    let int8Workspaces: [Int8GEMM.Workspace]
    /// B packed whole and shared by the threads, for int8 layers whose rows are split (nil without
    /// int8 layers or with one thread).
    public let shared: GEMM.SharedB?
    let arena: UnsafeMutableRawBufferPointer
    /// Convolution weights packed for the GEMM once, by layer (fp32 layers).
    let packed: [[PackedA]?]
    /// Each layer's algorithm (`LayoutPlan.algorithms`), nil for layers that are neither
    /// convolutions nor fully connected.
    public let algorithms: [ConvAlgorithm?]
    /// Which outputs are held in the channel-blocked layout (`LayoutPlan`).
    public let layout: LayoutPlan
    /// Convolution weights for the blocked kernels, by layer (the layers whose algorithm is
    /// `.blocked` or `.blockedDepthwise`).
    let blockedWeights: [BlockedConvWeights?]
    /// The adds each convolution does after its GEMM (`ResidualFusion`); none when the runner was
    /// made with `fuseResidualAdds: false`.
    public let fusion: ResidualFusion
    /// Convolution weights transformed for Winograd once, by layer (the layers whose algorithm is
    /// `.winograd`).
    let winograd: [WinogradWeights?]
    /// The Winograd layers' workspace, sized for the largest; nil without such a layer.
    let winogradWorkspace: WinogradConvolution.Workspace?
    /// int8 layers' quantized weights, by layer.
    let int8Weights: [Int8ConvWeights?]
    /// The int8 GEMM kernel the int8 layers were made for (`Int8Kernel.current`); nil without int8 convolutions.
    public var int8Kernel: Int8Kernel? { int8Weights.lazy.compactMap { $0?.kernel }.first }
    /// int8-weights layers' weights as stored, by layer, and the fp32 scratch they expand into.
    let compressed: [WeightQuantization?]
    let expanded: UnsafeMutableBufferPointer<Float>
    /// Each layer's input and output in the arena, resolved once (no allocation per run).
    let inputPointers: [[UnsafeMutableRawPointer]]
    let outputPointers: [UnsafeMutableRawPointer]

    /// A runner for `network` with weights seeded by `seed`. An int8 network needs each tensor's
    /// quantization: `quantization` (by layer, as `QuantizationCalibration.parameters` gives
    /// it), or, when nil, a calibration pass over `calibrationImages` images of the network's fp32
    /// form at construction (`QuantizationCalibration`). fp32 convolutions choose their algorithm
    /// under `policy` (`SOCPROF_CONV_ALGORITHM` unless given). With `fuseResidualAdds`, the adds
    /// `ResidualFusion` finds are done by the convolutions before them (the network's output is
    /// the same float for float; those convolutions' outputs hold the adds' results); without,
    /// every layer's output is its own. fp32 networks hold their tensors as `layout` says
    /// (`SOCPROF_LAYOUT` unless given; `LayoutPlan`).
    public init(network: Network, pool: ThreadPool, seed: UInt64 = 1, quantization: [QuantParams?]? = nil,
                calibrationImages: Int = CalibrationImages.defaultCount, policy: ConvAlgorithm.Policy = .current,
                layout: ConvAlgorithm.Layout = .current, fuseResidualAdds: Bool = true) {
        self.network = network
        self.pool = pool
        weights = NetworkWeights(network: network, seed: seed)
        let layoutPlan = LayoutPlan(network: network, policy: policy, layout: layout)
        self.layout = layoutPlan
        let algorithms = layoutPlan.algorithms
        self.algorithms = algorithms
        fusion = fuseResidualAdds ? ResidualFusion(network: network, algorithms: algorithms) : ResidualFusion(none: network.layers.count)
        plan = ActivationPlan(network: network, fusion: fusion, layout: layoutPlan, rest: pool.count > 1 ? ActivationPlan.threadedRest : 0)
        if network.precision == .int8 {
            if let quantization {
                precondition(quantization.count == network.layers.count, "one quantization per layer")
                self.quantization = quantization
            } else {
                let fp32 = NetworkRunner(network: network.fp32Form, pool: pool, seed: seed, policy: policy, layout: .nchw, fuseResidualAdds: false)
                let ranges = QuantizationCalibration.ranges(runner: fp32, images: calibrationImages)
                self.quantization = QuantizationCalibration.parameters(for: network, ranges: ranges)
            }
        } else {
            self.quantization = Array(repeating: nil, count: network.layers.count)
        }
        workspaces = (0..<pool.count).map { _ in GEMM.Workspace() }
        let hasInt8 = network.layers.contains { $0.precision == .int8 }
        int8Workspaces = hasInt8 ? (0..<pool.count).map { _ in Int8GEMM.Workspace() } : []
        shared = hasInt8 && pool.count > 1 ? GEMM.SharedB() : nil
        arena = .allocate(byteCount: plan.bytes + 64, alignment: ActivationPlan.arenaAlignment)
        arena.initializeMemory(as: UInt8.self, repeating: 0)
        let base = arena.baseAddress!, offsets = plan.offsets
        outputPointers = offsets.map { base + $0 }
        inputPointers = network.layers.map { l in l.inputs.map { base + offsets[$0] } }
        let w = weights, layers = network.layers, q = self.quantization
        packed = layers.enumerated().map { i, l in
            guard l.precision == .fp32, case .convolution(let c) = l.kind,
                  ![.winograd, .direct, .blocked, .blockedDepthwise].contains(algorithms[i]) else { return nil }
            return LayerKernels.ConvWeights.pack(c, inputChannels: layers[l.inputs[0]].output.c, outputPixels: l.output.h * l.output.w, weights: w.weights[i]!.baseAddress!)
        }
        blockedWeights = layers.enumerated().map { i, l in
            guard case .convolution(let c) = l.kind, algorithms[i] == .blocked || algorithms[i] == .blockedDepthwise else { return nil }
            return BlockedConvWeights(c, inputChannels: layers[l.inputs[0]].output.c, weights: w.weights[i]!.baseAddress!,
                                      bias: w.biases[i]?.baseAddress)
        }
        winograd = layers.enumerated().map { i, l in
            guard case .convolution(let c) = l.kind, algorithms[i] == .winograd else { return nil }
            let x = layers[l.inputs[0]].output
            let plan = WinogradConvolution.Plan(conv: c, input: x, output: l.output, threads: pool.count)
            return WinogradWeights(weights: w.weights[i]!.baseAddress!, outputChannels: l.output.c, inputChannels: x.c,
                                   kernel: plan.gemmKernel())
        }
        let winogradFloats = layers.enumerated().map { i, l -> Int in
            guard case .convolution(let c) = l.kind, algorithms[i] == .winograd else { return 0 }
            return WinogradConvolution.Plan(conv: c, input: layers[l.inputs[0]].output, output: l.output, threads: pool.count).workspaceFloats
        }.max() ?? 0
        winogradWorkspace = winogradFloats > 0 ? WinogradConvolution.Workspace(floats: winogradFloats) : nil
        int8Weights = layers.enumerated().map { i, l in
            guard l.precision == .int8, let conv = l.kind.asConvolution(input: layers[l.inputs[0]].output) else { return nil }
            let input = layers[l.inputs[0]].output
            return Int8ConvWeights(quantizing: conv, inputChannels: l.kind.isFullyConnected ? input.count : input.c,
                                   weights: w.weights[i]!.baseAddress!, bias: w.biases[i]!.baseAddress!,
                                   input: q[l.inputs[0]]!, output: q[i]!, outputPixels: l.output.h * l.output.w)
        }
        compressed = layers.enumerated().map { i, l in
            guard l.precision == .int8Weights, let weights = w.weights[i] else { return nil }
            return WeightQuantization(weights.baseAddress!, channels: w.biases[i]!.count, perChannel: weights.count / w.biases[i]!.count)
        }
        let largest = compressed.map { $0?.weights.count ?? 0 }.max() ?? 0
        expanded = .allocate(capacity: max(largest, 1))
        expanded.initialize(repeating: 0)
    }

    /// Bytes of the weights packed for the GEMM (a second copy of most fp32 convolution weights),
    /// transformed for Winograd (four times a layer's weights) and laid out for the blocked
    /// kernels.
    public var packedWeightBytes: Int64 {
        packed.reduce(0) { $0 + ($1?.reduce(0) { $0 + $1.bytes } ?? 0) } + winograd.reduce(0) { $0 + ($1?.bytes ?? 0) }
            + blockedWeights.reduce(0) { $0 + ($1?.bytes ?? 0) }
    }

    deinit {
        arena.deallocate()
        expanded.deallocate()
    }

    /// Bytes of the activation arena.
    public var activationBytes: Int64 { Int64(plan.bytes) }
    /// Bytes of the GEMM and Winograd workspaces.
    public var workspaceBytes: Int64 {
        Int64(workspaces.count * GEMM.Workspace.bytes) + Int64(shared?.capacity ?? 0) * 4 + (winogradWorkspace?.bytes ?? 0)
    }
    /// Bytes of the weights the layers run with, as they keep them: fp32 weights and biases;
    /// int8 layers' int8 weights (packed for the GEMM where they run it), int32 biases and
    /// multipliers; int8-weights layers' int8 weights, scales and fp32 biases. (An int8 runner
    /// also keeps the fp32 weights it quantized, in `weights`.)
    public var weightBytes: Int64 {
        network.layers.indices.reduce(Int64(0)) { total, i in
            let bias = Int64(weights.biases[i]?.count ?? 0) * 4
            if let q = int8Weights[i] { return total + q.bytes + Int64(q.conv.outputChannels) * 4 }
            if let c = compressed[i] { return total + Int64(c.weights.count) + Int64(c.scales.count) * 4 + bias }
            return total + Int64(weights.weights[i]?.count ?? 0) * 4 + bias
        }
    }

    /// A layer's output in the arena, stored as fp32 (valid until a later layer reuses its slot),
    /// in its layout: NCHW, or blocked (`layout.blocked[layer]`: channels padded to whole blocks
    /// of 8; `values(of:)` gives NCHW either way). The network's image and output are NCHW. A
    /// convolution that does the add after it (`fusion`) holds the add's output.
    public func output(of layer: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(network.layers[layer].precision != .int8, "\(network.layers[layer].name) stores int8: int8Output(of:)")
        return UnsafeMutableBufferPointer(start: outputPointers[layer].assumingMemoryBound(to: Float.self), count: layout.storedCount(layer, in: network))
    }

    /// An int8 layer's output in the arena: bytes, quantized as `quantization[layer]`.
    public func int8Output(of layer: Int) -> UnsafeMutableBufferPointer<UInt8> {
        precondition(network.layers[layer].precision == .int8, "\(network.layers[layer].name) stores fp32: output(of:)")
        return UnsafeMutableBufferPointer(start: outputPointers[layer].assumingMemoryBound(to: UInt8.self), count: network.layers[layer].output.count)
    }

    /// A layer's output as real values in NCHW order, dequantized when the layer stores int8,
    /// taken out of the blocked layout when it is held so.
    public func values(of layer: Int) -> [Float] {
        if layout.blocked[layer] {
            let shape = network.layers[layer].output
            var out = [Float](repeating: 0, count: shape.count)
            out.withUnsafeMutableBufferPointer { BlockedLayout.unblock(UnsafePointer(output(of: layer).baseAddress!), shape, into: $0.baseAddress!, pool: pool) }
            return out
        }
        guard let q = quantization[layer] else { return Array(output(of: layer)) }
        return int8Output(of: layer).map { q.dequantize($0) }
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
        switch network.layers[i].precision {
        case .fp32: runFloatLayer(i, weights: weights.weights[i]?.baseAddress, packed: packed[i], winograd: winograd[i])
        case .int8: runInt8Layer(i)
        case .int8Weights:
            if let c = compressed[i] {
                var job = ExpandWeightsJob(q: c, into: expanded.baseAddress!, threads: pool.count)
                pool.run(&job)
            }
            runFloatLayer(i, weights: UnsafeMutablePointer(expanded.baseAddress), packed: nil, winograd: nil)
        }
    }

    private func runFloatLayer(_ i: Int, weights w: UnsafeMutablePointer<Float>?, packed: [PackedA]?, winograd: WinogradWeights?) {
        let layer = network.layers[i]
        let out = outputPointers[i].assumingMemoryBound(to: Float.self)
        let inputs = inputPointers[i]
        func input(_ k: Int) -> UnsafePointer<Float> { UnsafePointer(inputs[k].assumingMemoryBound(to: Float.self)) }
        let x = network.layers[layer.inputs.first ?? 0].output
        switch layer.kind {
        case .input:
            break
        case .convolution(let c):
            // A convolution that does the add after it takes the add's other input and activation.
            let add = fusion.add[i]
            let residual = fusion.residual[i].map { UnsafePointer(outputPointers[$0].assumingMemoryBound(to: Float.self)) }
            if let bw = blockedWeights[i] {
                BlockedConvolution.run(bw, input: input(0), x: x, inputBlocked: layout.blocked[layer.inputs[0]], output: out, y: layer.output,
                                       outputBlocked: layout.blocked[add ?? i], residual: residual,
                                       activation: add.map { network.layers[$0].activation } ?? layer.activation, pool: pool)
                return
            }
            LayerKernels.convolution(c, input: input(0), x: x, output: out, y: layer.output,
                                     weights: .init(weights: w!, bias: weights.biases[i]!.baseAddress!, packed: packed, winograd: winograd,
                                                   direct: algorithms[i] == .direct),
                                     activation: add.map { network.layers[$0].activation } ?? layer.activation, residual: residual,
                                     pool: pool, workspaces: workspaces, winograd: winogradWorkspace)
        case .fullyConnected(let outputs):
            LayerKernels.fullyConnected(input: input(0), inputs: x.count, output: out, outputs: outputs,
                                        weights: w!, bias: weights.biases[i]!.baseAddress!,
                                        activation: layer.activation, pool: pool)
        case .pooling(let p):
            if layout.blocked[i] {
                BlockedPooling.run(p, input: input(0), x: x, output: out, y: layer.output, pool: pool)
            } else {
                LayerKernels.pooling(p, input: input(0), x: x, output: out, y: layer.output, pool: pool)
            }
        case .lrn(let n):
            LayerKernels.lrn(n, input: input(0), x: x, output: out, pool: pool)
        case .concat:
            // Blocked, every input is whole blocks (`LayoutPlan`): its c x plane floats are its
            // blocks, and they go at the same offset as NCHW's.
            var offset = 0
            for (k, j) in layer.inputs.enumerated() {
                let s = network.layers[j].output
                LayerKernels.concatCopy(input(k), channels: s.c, plane: s.h * s.w, into: out, offset: offset, pool: pool)
                offset += s.c
            }
        case .add:
            // Done by the convolution before it, into this layer's slot.
            if fusion.doneBy[i] != nil { break }
            // Blocked: the padding channels too (0 + 0, as the kernels keep them).
            LayerKernels.add(input(0), input(1), output: out, count: layout.storedCount(i, in: network), activation: layer.activation, pool: pool)
        case .softmax:
            LayerKernels.softmax(input(0), output: out, count: layer.output.count)
        case .dequantize:
            let from = layer.inputs[0]
            Int8LayerKernels.dequantize(inputs[0].assumingMemoryBound(to: UInt8.self), count: layer.output.count, quantization[from]!,
                                        output: out, pool: pool)
        case .quantize:
            preconditionFailure("a quantize layer stores int8")
        }
    }

    private func runInt8Layer(_ i: Int) {
        let layer = network.layers[i]
        let out = outputPointers[i].assumingMemoryBound(to: UInt8.self)
        let inputs = inputPointers[i]
        func input(_ k: Int) -> UnsafePointer<UInt8> { UnsafePointer(inputs[k].assumingMemoryBound(to: UInt8.self)) }
        let x = network.layers[layer.inputs[0]].output
        let q = quantization
        switch layer.kind {
        case .quantize:
            Int8LayerKernels.quantize(inputs[0].assumingMemoryBound(to: Float.self), count: layer.output.count, q[i]!, output: out, pool: pool)
        case .convolution:
            Int8LayerKernels.convolution(int8Weights[i]!, input: input(0), x: x, output: out, y: layer.output, activation: layer.activation,
                                         pool: pool, workspaces: int8Workspaces, shared: shared)
        case .fullyConnected:
            Int8LayerKernels.fullyConnected(int8Weights[i]!, input: input(0), output: out, activation: layer.activation, pool: pool)
        case .pooling(let p):
            Int8LayerKernels.pooling(p, input: input(0), x: x, output: out, y: layer.output, params: q[i]!, pool: pool)
        case .add:
            Int8LayerKernels.add(input(0), q[layer.inputs[0]]!, input(1), q[layer.inputs[1]]!, output: out, q[i]!, count: layer.output.count,
                                 activation: layer.activation, pool: pool)
        case .concat:
            var offset = 0
            for (k, j) in layer.inputs.enumerated() {
                let s = network.layers[j].output
                Int8LayerKernels.concat(input(k), q[j]!, channels: s.c, plane: s.h * s.w, into: out, q[i]!, offset: offset, pool: pool)
                offset += s.c
            }
        case .input, .lrn, .softmax, .dequantize:
            preconditionFailure("\(layer.name) (\(layer.kind.name)) has no int8 kernel")
        }
    }

    /// int8 weights to fp32 (scale x q), output channels split between threads.
    struct ExpandWeightsJob: PoolJob {
        let q: WeightQuantization
        let into: UnsafeMutablePointer<Float>
        let threads: Int
        static let function: ThreadPool.JobFunction = { p, t in p!.assumingMemoryBound(to: ExpandWeightsJob.self).pointee.work(t) }

        func work(_ t: Int) {
            let per = q.weights.count / q.scales.count
            q.weights.withUnsafeBufferPointer { w in
                for o in ThreadPool.share(q.scales.count, part: t, of: threads) {
                    let s = q.scales[o], base = o * per
                    for k in base..<(base + per) { into[k] = Float(w[k]) * s }
                }
            }
        }
    }
}

extension LayerKind {
    /// The layer as a convolution over its input: itself, or a fully connected layer as a 1x1
    /// convolution over its input flattened; nil for layers without weights.
    func asConvolution(input: TensorShape) -> Convolution? {
        switch self {
        case .convolution(let c): c
        case .fullyConnected(let outputs): Convolution(outputChannels: outputs, kernel: 1)
        default: nil
        }
    }

    var isFullyConnected: Bool { if case .fullyConnected = self { true } else { false } }
}
