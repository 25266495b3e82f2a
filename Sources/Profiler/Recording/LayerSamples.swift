import Counters
import Kernels

/// One counter's change over one layer on one thread: the differences of two raw readings, taken
/// at the layer's two boundaries. Nothing is scaled yet.
public struct CounterDelta: Equatable, Sendable {
    /// Events counted (raw, before multiplex scaling and the event's unit scale).
    public var count: UInt64
    /// Nanoseconds the event was enabled.
    public var enabled: UInt64
    /// Nanoseconds the event was on a hardware counter.
    public var running: UInt64

    public init(count: UInt64, enabled: UInt64, running: UInt64) {
        self.count = count
        self.enabled = enabled
        self.running = running
    }

    /// The difference of two cumulative readings (wrapping, as the kernel's counters do).
    public init(from a: (count: UInt64, enabled: UInt64, running: UInt64), to b: (count: UInt64, enabled: UInt64, running: UInt64)) {
        self.init(count: b.count &- a.count, enabled: b.enabled &- a.enabled, running: b.running &- a.running)
    }
}

/// One event's count in one layer, summed over the threads: the one delta-and-scaling rule of
/// the profiler (`combine`).
public enum LayerCount: Equatable, Sendable {
    /// On a counter the whole time on every thread: the sum of the deltas.
    case counted(Double)
    /// Some thread's counter shared the PMU (running < enabled): that thread's delta was scaled by
    /// enabled / running, as perf does. An estimate.
    case scaled(Double)
    /// Some thread's group was enabled but never on a counter in this layer: no value.
    case neverOnCounter
    /// A read at one of the layer's boundaries failed: no value.
    case readFailed

    /// The count in events (before the event's unit scale); nil when there is none.
    public var value: Double? {
        switch self {
        case .counted(let v), .scaled(let v): v
        case .neverOnCounter, .readFailed: nil
        }
    }

    /// How much worse than a plain count: the worst over repeats decides a figure's source.
    var severity: Int {
        switch self {
        case .counted: 0
        case .scaled: 1
        case .neverOnCounter: 2
        case .readFailed: 3
        }
    }

    /// Sums one event's per-thread deltas over a layer. A thread whose counter ran only part of
    /// the time it was enabled is scaled by enabled / running when `scalesWithTime`; an event bound
    /// to one cluster's PMU whose group was not split is not (running < enabled then means the
    /// thread ran on another cluster: the count is what this cluster did). A thread with nothing
    /// enabled (it did not run) adds 0.
    public static func combine(_ deltas: some Sequence<CounterDelta>, readFailed: Bool, scalesWithTime: Bool) -> LayerCount {
        if readFailed { return .readFailed }
        var sum = 0.0, scaled = false
        for d in deltas {
            if d.enabled > 0 && d.running == 0 { return .neverOnCounter }
            if scalesWithTime && d.running > 0 && d.running < d.enabled {
                sum += Double(d.count) * Double(d.enabled) / Double(d.running)
                scaled = true
            } else {
                sum += Double(d.count)
            }
        }
        return scaled ? .scaled(sum) : .counted(sum)
    }
}

/// Per repeat, layer, event and thread: one `CounterDelta`, and per repeat and layer whether a
/// read failed. Allocated whole before the timed runs.
public struct CountTable: Sendable {
    public let repeats: Int, layers: Int, events: Int, threads: Int
    private var deltas: [CounterDelta]
    private var failed: [Bool]

    public init(repeats: Int, layers: Int, events: Int, threads: Int) {
        self.repeats = repeats
        self.layers = layers
        self.events = events
        self.threads = threads
        deltas = Array(repeating: CounterDelta(count: 0, enabled: 0, running: 0), count: repeats * layers * events * threads)
        failed = Array(repeating: false, count: repeats * layers)
    }

    private func index(_ r: Int, _ layer: Int, _ e: Int, _ t: Int) -> Int {
        precondition(r < repeats && layer < layers && e < events && t < threads, "count table index out of range")
        return ((r * layers + layer) * events + e) * threads + t
    }

    /// One thread's delta of event `e` in `layer` of repeat `r`.
    public subscript(repeat r: Int, layer layer: Int, event e: Int, thread t: Int) -> CounterDelta {
        get { deltas[index(r, layer, e, t)] }
        set { deltas[index(r, layer, e, t)] = newValue }
    }

    /// Every thread's delta of event `e` in `layer` of repeat `r`.
    public func threads(repeat r: Int, layer: Int, event e: Int) -> ArraySlice<CounterDelta> {
        let i = index(r, layer, e, 0)
        return deltas[i..<(i + threads)]
    }

    /// Whether a read at either boundary of `layer` failed in repeat `r`.
    public func readFailed(repeat r: Int, layer: Int) -> Bool { failed[r * layers + layer] }
    public mutating func setReadFailed(_ value: Bool, repeat r: Int, layer: Int) { failed[r * layers + layer] = value }
}

/// A span on the monotonic clock (`DispatchTime`'s uptime, the energy sampler's clock), ns.
public struct Window: Equatable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public init(start: UInt64, end: UInt64) {
        self.start = start
        self.end = end
    }
    /// Its length, s.
    public var seconds: Double { Double(end &- start) / 1e9 }
}

/// Everything a profiling run recorded, before any arithmetic beyond the deltas: what the
/// profiler hands to `ProfileAnalysis`. Layer 0 is the network's input (never timed).
public struct LayerSamples: Sendable {
    /// Counted on the pool's threads (hardware events on the cluster's PMU, software events).
    public let events: [ResolvedEvent]
    /// Counted system-wide on one CPU each (a memory controller's PMU), in the first pass only.
    public let systemEvents: [ResolvedEvent]
    /// Threads counted (index 0 the calling thread).
    public let threads: Int
    /// Layers of the network, the input included.
    public let layers: Int
    /// Repeats asked for, and untimed warm-up runs before them.
    public let repeats: Int
    public let warmup: Int
    /// Event indices counted together in each pass (one pass unless the events did not fit).
    public var passes: [[Int]]
    /// Repeats each pass finished.
    public var passRuns: [Int]
    /// An event that could not be opened or enabled on some thread: why.
    public var failures: [Int: CounterError] = [:]
    /// The same for the system-wide events.
    public var systemFailures: [Int: CounterError] = [:]
    /// Per repeat and layer, when it ran (first pass).
    public var windows: [[Window]]
    /// Per repeat, the whole network's run.
    public var runWindows: [Window]
    /// The thread events' deltas (`threads` per event).
    public var counts: CountTable
    /// The system-wide events' deltas (one "thread" each).
    public var systemCounts: CountTable
    /// What the run itself noticed (passes, multiplexing, dropped sensor readings).
    public var notes: [String] = []
    /// The adds the runner did inside the convolutions before them; nil: none.
    public var fusion: ResidualFusion? = nil
    /// The int8 GEMM kernel the int8 layers ran; nil without int8 convolutions.
    public var int8Kernel: Int8Kernel? = nil

    public init(events: [ResolvedEvent], systemEvents: [ResolvedEvent], threads: Int, layers: Int, repeats: Int, warmup: Int, passes: [[Int]]) {
        self.events = events
        self.systemEvents = systemEvents
        self.threads = threads
        self.layers = layers
        self.repeats = repeats
        self.warmup = warmup
        self.passes = passes
        passRuns = Array(repeating: 0, count: passes.count)
        windows = Array(repeating: Array(repeating: Window(start: 0, end: 0), count: layers), count: repeats)
        runWindows = Array(repeating: Window(start: 0, end: 0), count: repeats)
        counts = CountTable(repeats: repeats, layers: layers, events: events.count, threads: threads)
        systemCounts = CountTable(repeats: repeats, layers: layers, events: systemEvents.count, threads: 1)
    }

    /// Timed repeats completed (those of the first pass, which times the layers).
    public var completed: Int { passRuns.first ?? 0 }

    /// The pass that counts event `e`: software events are counted in every pass and recorded
    /// from the first; a hardware event in the pass of its group.
    public func pass(of e: Int) -> Int {
        if events[e].type == .software { return 0 }
        return passes.lastIndex { $0.contains(e) } ?? 0
    }
}
