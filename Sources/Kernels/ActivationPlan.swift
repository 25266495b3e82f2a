import Networks

/// Where each layer's output lives in one arena, planned once per network: a tensor's slot is
/// reused once every layer that reads it has run (greedy best fit by size over the layers'
/// lifetimes). Sizes are bytes, as each layer stores its output (4 per element at fp32, 1 at
/// int8), every tensor 64-byte aligned. An add fused into the convolution before it
/// (`ResidualFusion`) has that convolution's slot, kept for as long as the add's output is read.
/// A tensor held blocked (`LayoutPlan`) takes its channels padded to whole blocks of 8.
public struct ActivationPlan: Sendable {
    /// Per layer: byte offset of its output in the arena (a multiple of 64).
    public let offsets: [Int]
    /// Arena size, bytes.
    public let bytes: Int
    /// The sum of all outputs, bytes (what a plan without reuse would need).
    public let unplannedBytes: Int

    public init(network: Network, fusion: ResidualFusion? = nil, layout: LayoutPlan? = nil) {
        let layers = network.layers
        let fusion = fusion ?? ResidualFusion(none: layers.count)
        precondition(fusion.doneBy.count == layers.count, "the fusion is another network's")
        var lastUse = layers.indices.map { $0 }
        for (i, l) in layers.enumerated() { for j in l.inputs { lastUse[j] = max(lastUse[j], i) } }
        lastUse[layers.count - 1] = layers.count // the output stays readable after the run
        lastUse[0] = layers.count // the input image is read again by every run
        // A fused add's output is written by its convolution, into the convolution's slot.
        for (i, j) in fusion.doneBy.enumerated() { if let j { lastUse[j] = max(lastUse[j], lastUse[i]) } }
        var slotSize: [Int] = []
        var slotFreeAt: [Int] = [] // the slot is free for layers after this index
        var slotOf = [Int](repeating: 0, count: layers.count)
        for (i, l) in layers.enumerated() {
            if let j = fusion.doneBy[i] {
                slotOf[i] = slotOf[j]
                continue
            }
            let need = (layout?.storedCount(i, in: network) ?? l.output.count) * Int(l.outputElementBytes)
            // Free slots: whose current tensor was last read before layer i.
            let free = slotSize.indices.filter { slotFreeAt[$0] < i }
            let fitting = free.filter { slotSize[$0] >= need }.min { slotSize[$0] < slotSize[$1] }
            let slot: Int
            if let f = fitting { slot = f }
            else if let grow = free.max(by: { slotSize[$0] < slotSize[$1] }) { slot = grow; slotSize[grow] = need }
            else { slot = slotSize.count; slotSize.append(need); slotFreeAt.append(0) }
            slotOf[i] = slot
            slotFreeAt[slot] = lastUse[i]
        }
        var slotOffset: [Int] = []
        var end = 0
        for s in slotSize {
            slotOffset.append(end)
            end += (s + 63) / 64 * 64 // 64-byte aligned tensors
        }
        offsets = slotOf.map { slotOffset[$0] }
        bytes = end
        unplannedBytes = layers.indices.reduce(0) { $0 + (layout?.storedCount($1, in: network) ?? layers[$1].output.count) * Int(layers[$1].outputElementBytes) }
    }
}
