import Networks

/// Where each layer's output lives in one arena, planned once per network: a tensor's slot is
/// reused once every layer that reads it has run (greedy best fit by size over the layers'
/// lifetimes). Sizes are bytes, as each layer stores its output (4 per element at fp32, 1 at
/// int8), every tensor 64-byte aligned. An add fused into the convolution before it
/// (`ResidualFusion`) has that convolution's slot, kept for as long as the add's output is read.
/// A tensor held blocked (`LayoutPlan`) takes its channels padded to whole blocks of 8.
///
/// With `rest` above 0, a slot waits that many more layers after its last reader before it is
/// written again. A runner on several threads plans with `threadedRest`: see there.
public struct ActivationPlan: Sendable {
    /// The rest a runner on more than one thread gives its slots (layers): 1, so that a chain of
    /// layers rotates three slots instead of two.
    ///
    /// Why: a cache line one core wrote and the other then read stays in both cores' caches, and
    /// on Zen 4 a store to a line the other core still holds took 10-15x a store to a line it does
    /// not (`scripts/bench/shared-stores`). With two slots, every depthwise layer of MobileNet at
    /// 2 threads wrote over the tensor both threads had just read whole (its pointwise layer's B,
    /// read in place by every thread): its 14 x 14 layers took 0.043 ms against 0.025 with the
    /// rest. `run mobilenet` at 2 threads, 16 rounds in random order: 0.979x the time (a rest of
    /// 2: 0.985x; no reuse at all: 1.027x). docs/kernels.md, "Where the slots start, and how long
    /// they rest".
    public static let threadedRest = 1

    /// How far apart, modulo 1 KiB, consecutive slots start (bytes); with the arena 4 KiB
    /// aligned (`arenaAlignment`), slot k starts 256 x (k mod 4) bytes past a 1 KiB boundary.
    ///
    /// Why: MobileNet's larger tensors are whole KiB (a 112 x 112 plane is 49 KiB), so slots laid
    /// end to end all started on a 1 KiB boundary, and a layer's input and output rows fell at the
    /// same offsets within their 4 KiB pages. Staggered, on Zen 4 (`run mobilenet`, 12 rounds in
    /// random order): 0.975x the time at 1 thread (`Conv2d_2_depthwise` 0.222 -> 0.109 ms,
    /// `Conv2d_1_pointwise` 0.632 -> 0.545), 0.997x at 2; ResNet-50 0.990x. docs/kernels.md,
    /// "Where the slots start, and how long they rest".
    public static let slotStagger = 256

    /// The alignment the arena needs for `slotStagger` to hold (bytes).
    public static let arenaAlignment = 4096

    /// Per layer: byte offset of its output in the arena (a multiple of 64).
    public let offsets: [Int]
    /// Arena size, bytes.
    public let bytes: Int
    /// The sum of all outputs, bytes (what a plan without reuse would need).
    public let unplannedBytes: Int

    /// The plan for `network`, its fused adds and its layout; `rest`: layers a slot stays unwritten
    /// after its tensor's last reader (0: reused by the next layer).
    public init(network: Network, fusion: ResidualFusion? = nil, layout: LayoutPlan? = nil, rest: Int = 0) {
        precondition(rest >= 0, "a slot's rest is a count of layers")
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
            // Free slots: whose current tensor was last read before layer i, `rest` layers before.
            let free = slotSize.indices.filter { slotFreeAt[$0] < i - rest }
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
        for (k, s) in slotSize.enumerated() {
            // Slot k starts `slotStagger` x (k mod 4) bytes past a 1 KiB boundary (see there).
            let phase = k % 4 * Self.slotStagger
            end += (phase - end % 1024 + 1024) % 1024
            slotOffset.append(end)
            end += (s + 63) / 64 * 64 // 64-byte aligned tensors
        }
        offsets = slotOf.map { slotOffset[$0] }
        bytes = end
        unplannedBytes = layers.indices.reduce(0) { $0 + (layout?.storedCount($1, in: network) ?? layers[$1].output.count) * Int(layers[$1].outputElementBytes) }
    }
}
