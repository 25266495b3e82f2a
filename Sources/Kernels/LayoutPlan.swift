import Networks

/// Which tensors of a network are held in the channel-blocked layout (`BlockedLayout`), and so
/// which algorithm each layer runs: planned once per network, so that the layout travels from
/// layer to layer and is not converted per layer.
///
/// Under the blocked layout (fp32 networks only), layers fall in three kinds:
/// - *converters*: ungrouped convolutions the blocked kernel computes and the NCHW plan does not
///   give to Winograd (`ConvAlgorithm.blocked`); they read either layout and write either;
/// - *followers*: depthwise convolutions, pooling, adds, and concats of whole blocks (every
///   input's channels a multiple of 8); they run on the layout of their inputs (all of them
///   alike) and write it;
/// - the rest (Winograd convolutions, LRN, softmax, fully connected layers and convolutions on a
///   plane larger than one pixel, concats of partial blocks, every layer of a quantized network)
///   read and write NCHW.
/// A tensor is blocked when its layer is a converter or a follower and every layer that reads it
/// can read it blocked, followers passing the demand for NCHW back to their inputs, until
/// nothing changes. A tensor of one pixel reads the same in both layouts (its first C floats), so
/// its readers take it either way. The network's image and its output stay NCHW.
public struct LayoutPlan: Sendable, Equatable {
    /// By layer: whether its output is stored blocked (padded to whole blocks of 8 channels).
    public let blocked: [Bool]
    /// By layer: its algorithm with the layout (`ConvAlgorithm.blocked` and `.blockedDepthwise`
    /// where it runs blocked), nil for layers that are neither convolutions nor fully connected.
    public let algorithms: [ConvAlgorithm?]

    /// The plan for `network` under `policy` and `layout` (`auto` resolved for this CPU).
    public init(network: Network, policy: ConvAlgorithm.Policy = .current, layout: ConvAlgorithm.Layout = .current) {
        let layers = network.layers, n = layers.count
        let base = layers.indices.map { ConvAlgorithm.unblocked(layer: $0, in: network, policy: policy) }
        guard layout.resolved == .blocked, n > 1, layers.allSatisfy({ $0.precision == .fp32 }) else {
            blocked = Array(repeating: false, count: n)
            algorithms = base
            return
        }
        enum Kind { case converter, follower, other }
        let kinds: [Kind] = layers.indices.map { i in
            let l = layers[i]
            switch l.kind {
            case .convolution(let c):
                let x = layers[l.inputs[0]].output
                if BlockedConvolution.isDepthwise(c, inputChannels: x.c) { return c.strideH == c.strideW ? .follower : .other }
                guard base[i] != .winograd, base[i] != .matrixVector, BlockedConvolution.applies(c, inputChannels: x.c) else { return .other }
                return .converter
            case .pooling, .add: return .follower
            case .concat: return l.inputs.allSatisfy { layers[$0].output.c % BlockedLayout.lanes == 0 } ? .follower : .other
            default: return .other
            }
        }
        var blocked = kinds.map { $0 != .other }
        blocked[0] = false
        blocked[n - 1] = false
        // Readers that take a tensor blocked: converters and followers, and any reader of a
        // one-pixel tensor.
        func reads(_ j: Int, blockedInput t: Int) -> Bool { kinds[j] != .other || layers[t].output.h * layers[t].output.w == 1 }
        var changed = true
        while changed {
            changed = false
            for (j, l) in layers.enumerated() {
                for t in l.inputs where blocked[t] && !reads(j, blockedInput: t) {
                    blocked[t] = false
                    changed = true
                }
                guard kinds[j] == .follower else { continue }
                // A follower's inputs and output share one layout: NCHW if any of them is.
                if !blocked[j] || l.inputs.contains(where: { !blocked[$0] }) {
                    for t in [j] + l.inputs where blocked[t] {
                        blocked[t] = false
                        changed = true
                    }
                }
            }
        }
        self.blocked = blocked
        algorithms = layers.indices.map { i in
            switch kinds[i] {
            case .converter: .blocked
            case .follower where blocked[i]:
                if case .convolution = layers[i].kind { .blockedDepthwise } else { base[i] }
            default: base[i]
            }
        }
    }

    /// Floats layer `i`'s output takes as stored: whole blocks of 8 channels when blocked.
    public func storedCount(_ i: Int, in network: Network) -> Int {
        blocked[i] ? BlockedLayout.count(network.layers[i].output) : network.layers[i].output.count
    }
}
