import Counters
import Foundation
import Kernels
import LinuxSystem
import Networks
import Platform

/// How a network is spread over several units.
public enum CoExecutionMode: String, Sendable, Encodable, CaseIterable {
    /// Each unit runs whole images from a shared queue, with its own pool and weights.
    case data
    /// The layers are split into consecutive stages, one per unit; images stream through them.
    case pipeline
}

/// A 64-bit FNV-1a hash of a tensor's bit patterns: equal hashes mean (but for a collision) equal
/// outputs, bit for bit.
public func outputHash(_ x: UnsafeMutableBufferPointer<Float>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for v in x {
        var b = v.bitPattern
        for _ in 0..<4 {
            h = (h ^ UInt64(b & 0xff)) &* 0x100_0000_01b3
            b >>= 8
        }
    }
    return h
}

/// A few distinct deterministic images; image i of a run is `images[i % count]`.
public struct InputImages: Sendable {
    public let images: [[Float]]

    /// `count` images made by `runner.setDeterministicInput(seed: seed + k)` (its input is left
    /// holding the last).
    public init(runner: NetworkRunner, count: Int, seed: UInt64 = 7) {
        images = (0..<max(1, count)).map { k in
            runner.setDeterministicInput(seed: seed &+ UInt64(k))
            return Array(runner.output(of: 0))
        }
    }

    /// Copies image `i` into the runner's input.
    public func load(_ i: Int, into runner: NetworkRunner) {
        let dst = runner.output(of: 0)
        images[i % images.count].withUnsafeBufferPointer { src in _ = dst.update(fromContentsOf: src) }
    }
}

/// One stage of a pipeline: a unit and the layers it runs.
public struct PipelineStage: Sendable, Encodable, Equatable {
    public let unit: String
    /// Its layers, first and last (indices into the network's layers; 1 is the first after the input).
    public let first: Int
    public let last: Int
    public let firstName: String
    public let lastName: String
    /// Its time per image from the per-layer times measured on its unit, ms.
    public let predictedMs: Double

    enum CodingKeys: String, CodingKey {
        case unit, first, last, firstName = "first_name", lastName = "last_name", predictedMs = "predicted_ms"
    }
}

/// The split of a network's layers into consecutive stages that makes the slowest stage fastest,
/// over every order of the units (Pipe-it's criterion: the slowest stage decides throughput).
public enum PipelineSplit {
    /// - Parameter times: `times[u][l]`, seconds of layer l (l >= 1) on unit u.
    /// - Returns: per stage, the unit's index and its layer range, and the bottleneck time.
    public static func best(times: [[Double]], layers: Int) -> (stages: [(unit: Int, range: ClosedRange<Int>)], bottleneck: Double) {
        let k = times.count
        precondition(k >= 1 && layers - 1 >= k, "each stage needs a layer")
        var best: (stages: [(unit: Int, range: ClosedRange<Int>)], bottleneck: Double) = ([], .infinity)
        for order in permutations(Array(0..<k)) {
            // prefix[s][l]: the time of layers 1..<l on unit order[s].
            let prefix = order.map { u -> [Double] in
                var p = [0.0, 0.0]
                for l in 1..<layers { p.append(p.last! + times[u][l]) }
                return p
            }
            func cost(_ s: Int, _ a: Int, _ b: Int) -> Double { prefix[s][b + 1] - prefix[s][a] } // layers a...b
            // dp[s][l]: the least bottleneck with stages 0...s covering layers 1...l.
            var dp = [[Double]](repeating: [Double](repeating: .infinity, count: layers), count: k)
            var cut = [[Int]](repeating: [Int](repeating: 0, count: layers), count: k)
            for l in 1..<layers { dp[0][l] = cost(0, 1, l) }
            for s in 1..<k {
                for l in (s + 1)..<layers {
                    for a in (s + 1)...l where dp[s - 1][a - 1] < .infinity {
                        let v = max(dp[s - 1][a - 1], cost(s, a, l))
                        if v < dp[s][l] { dp[s][l] = v; cut[s][l] = a }
                    }
                }
            }
            let total = dp[k - 1][layers - 1]
            if total < best.bottleneck {
                var stages: [(Int, ClosedRange<Int>)] = []
                var end = layers - 1
                for s in stride(from: k - 1, through: 0, by: -1) {
                    let a = s == 0 ? 1 : cut[s][end]
                    stages.insert((order[s], a...end), at: 0)
                    end = a - 1
                }
                best = (stages.map { (unit: $0.0, range: $0.1) }, total)
            }
        }
        return best
    }

    static func permutations(_ a: [Int]) -> [[Int]] {
        if a.count <= 1 { return [a] }
        return a.indices.flatMap { i -> [[Int]] in
            var rest = a
            let x = rest.remove(at: i)
            return permutations(rest).map { [x] + $0 }
        }
    }

    /// The tensors that cross the cut before layer `start`: outputs of layers before it read by it
    /// or by a later layer.
    public static func liveTensors(network: Network, before start: Int) -> [Int] {
        var live = Set<Int>()
        for l in start..<network.layers.count { for j in network.layers[l].inputs where j < start { live.insert(j) } }
        return live.sorted()
    }
}

/// What a unit did on its own, or together with others.
public struct CoExecutionRun: Sendable, Encodable, Equatable {
    /// "cpus 0" for a unit alone, "data" or "pipeline" for the co-execution.
    public let label: String
    public let images: Int
    public let seconds: Double
    public var imagesPerSecond: Double { Double(images) / seconds }
    /// Images each unit ran (data mode), by unit name.
    public let imagesPerUnit: [String: Int]
    /// Joules per image from the sensors summed over the run, when there are sensors.
    public let joulesPerImage: Double?

    enum CodingKeys: String, CodingKey {
        case label, images, seconds, imagesPerSecond = "images_per_second", imagesPerUnit = "images_per_unit", joulesPerImage = "joules_per_image"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(label, forKey: .label)
        try c.encode(images, forKey: .images)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(imagesPerSecond, forKey: .imagesPerSecond)
        try c.encode(imagesPerUnit, forKey: .imagesPerUnit)
        try c.encode(joulesPerImage, forKey: .joulesPerImage)
    }
}

/// The report of `coexec`: each unit alone and all together in the same run (the study's Table II).
public struct CoExecutionReport: Sendable, Encodable {
    public var schema = "socprof.coexec"
    public var schema_version = 1
    public let network: String
    public let mode: CoExecutionMode
    public let units: [ComputeUnit]
    public let images: Int
    public let warmup: Int
    public let single: [CoExecutionRun]
    public let together: CoExecutionRun
    /// The pipeline's stages, as chosen from the per-layer times.
    public let stages: [PipelineStage]?
    /// Per unit, the per-layer times the split was chosen from, ms (pipeline mode).
    public let layerTimesMs: [String: [Double]]?
    /// (together / best single - 1) x 100.
    public var gainPercent: Double { (together.imagesPerSecond / bestSingle.imagesPerSecond - 1) * 100 }
    public var bestSingle: CoExecutionRun { single.max { $0.imagesPerSecond < $1.imagesPerSecond }! }
    /// The sum of the single rates: what perfect co-execution would give.
    public var idealImagesPerSecond: Double { single.reduce(0) { $0 + $1.imagesPerSecond } }
    /// Whether every co-executed image's output equals, bit for bit, the same image's output on
    /// one unit alone; and how many were compared.
    public let outputsIdentical: Bool
    public let outputsCompared: Int
    public let notes: [String]

    enum CodingKeys: String, CodingKey {
        case schema, schema_version, network, mode, units, images, warmup, single, together, stages, layerTimesMs = "layer_times_ms"
        case outputsIdentical = "outputs_identical", outputsCompared = "outputs_compared", notes
        case gainPercent = "gain_percent", bestSingle = "best_single", idealImagesPerSecond = "ideal_images_per_second"
    }

    public init(network: String, mode: CoExecutionMode, units: [ComputeUnit], images: Int, warmup: Int, single: [CoExecutionRun],
                together: CoExecutionRun, stages: [PipelineStage]?, layerTimesMs: [String: [Double]]?, outputsIdentical: Bool,
                outputsCompared: Int, notes: [String]) {
        self.network = network
        self.mode = mode
        self.units = units
        self.images = images
        self.warmup = warmup
        self.single = single
        self.together = together
        self.stages = stages
        self.layerTimesMs = layerTimesMs
        self.outputsIdentical = outputsIdentical
        self.outputsCompared = outputsCompared
        self.notes = notes
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(schema_version, forKey: .schema_version)
        try c.encode(network, forKey: .network)
        try c.encode(mode, forKey: .mode)
        try c.encode(units, forKey: .units)
        try c.encode(images, forKey: .images)
        try c.encode(warmup, forKey: .warmup)
        try c.encode(single, forKey: .single)
        try c.encode(together, forKey: .together)
        try c.encode(stages, forKey: .stages)
        try c.encode(layerTimesMs, forKey: .layerTimesMs)
        try c.encode(gainPercent, forKey: .gainPercent)
        try c.encode(bestSingle, forKey: .bestSingle)
        try c.encode(idealImagesPerSecond, forKey: .idealImagesPerSecond)
        try c.encode(outputsIdentical, forKey: .outputsIdentical)
        try c.encode(outputsCompared, forKey: .outputsCompared)
        try c.encode(notes, forKey: .notes)
    }
}

/// A thread of its own for one unit: its pool is made on it (so that the thread is pinned to the
/// unit's first CPU and runs the pool's index 0) and it runs what it is given.
// Sendable: `work`, `busy` and `stop` are guarded by `condition`; `pool` and `runner` are written once
// on the unit's thread before `ready` is signalled, then only read.
final class UnitThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var work: (() -> Void)?
    private var busy = false
    private var stop = false
    // Set once on the unit's thread before `ready` is signalled, then only read.
    private(set) var pool: ThreadPool!
    private(set) var runner: NetworkRunner!

    init(unit: ComputeUnit, network: Network) {
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            pool = ThreadPool(threads: unit.threads, cpus: unit.cpus)
            runner = NetworkRunner(network: network, pool: pool, layout: .nchw)
            ready.signal()
            while true {
                condition.lock()
                while work == nil && !stop { condition.wait() }
                if stop { condition.unlock(); break }
                let job = work!
                condition.unlock()
                job()
                condition.lock()
                work = nil
                busy = false
                condition.broadcast()
                condition.unlock()
            }
        }
        thread.name = "socprof-\(unit.name)"
        thread.stackSize = 8 << 20
        thread.start()
        ready.wait()
    }

    /// Starts `job` on the unit's thread.
    func start(_ job: @escaping () -> Void) {
        condition.lock()
        while busy { condition.wait() }
        busy = true
        work = job
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the job started last.
    func wait() {
        condition.lock()
        while busy { condition.wait() }
        condition.unlock()
    }

    func finish() {
        condition.lock()
        stop = true
        condition.broadcast()
        condition.unlock()
    }
}

/// The hand-off between two pipeline stages: one slot holding the tensors that cross the cut.
// Sendable: `slot`, `full` and `image` are guarded by `condition`; `layers` never changes.
final class Handoff: @unchecked Sendable {
    let layers: [Int]
    private let condition = NSCondition()
    private var slot: [[Float]]
    private var full = false
    private var image = 0

    init(network: Network, layers: [Int]) {
        self.layers = layers
        slot = layers.map { [Float](repeating: 0, count: network.layers[$0].output.count) }
    }

    /// Copies the crossing tensors of image `i` out of `runner` (waits while the slot is full).
    func send(_ i: Int, from runner: NetworkRunner) {
        condition.lock()
        while full { condition.wait() }
        for (k, l) in layers.enumerated() {
            let src = runner.output(of: l)
            slot[k].withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: src) }
        }
        image = i
        full = true
        condition.broadcast()
        condition.unlock()
    }

    /// Copies the next image's crossing tensors into `runner` (waits while the slot is empty).
    /// Returns the image's index.
    func receive(into runner: NetworkRunner) -> Int {
        condition.lock()
        while !full { condition.wait() }
        for (k, l) in layers.enumerated() {
            let dst = runner.output(of: l)
            slot[k].withUnsafeBufferPointer { _ = dst.update(fromContentsOf: $0) }
        }
        let i = image
        full = false
        condition.broadcast()
        condition.unlock()
        return i
    }
}

/// Runs one network on several units, each alone and then together (data-parallel or pipelined),
/// in one run, and checks that every co-executed image's output equals its output on a unit alone.
public final class CoExecution {
    public let network: Network
    public let units: [ComputeUnit]
    public let root: SystemRoot
    public let sensors: [PowerSensor]
    let threads: [UnitThread]
    let inputs: InputImages
    /// Checked between images (and between the runs): when it says stop, the images left are not
    /// run and `run` returns nil. A pipeline finishes the stream it started.
    public var shouldStop: @Sendable () -> Bool = { false }

    /// Sets every unit up (its pool and its own copy of the weights), on its own thread.
    public init(network: Network, units: [ComputeUnit], root: SystemRoot, sensors: [PowerSensor], distinctImages: Int = 4) {
        self.network = network
        self.units = units
        self.root = root
        self.sensors = sensors
        threads = units.map { UnitThread(unit: $0, network: network) }
        inputs = InputImages(runner: threads[0].runner, count: distinctImages)
    }

    deinit { for t in threads { t.finish() } }

    /// Why a unit's pool has fewer threads than asked for, by unit name (empty when all started).
    public var startFailures: [String: String] {
        Dictionary(zip(units, threads).compactMap { u, t in t.pool.startFailure.map { (u.name, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    /// Threads the kernel refused to pin, by unit name (empty when all were pinned).
    public var unpinned: [String: Int] {
        Dictionary(zip(units, threads).compactMap { u, t in t.pool.unpinnedThreads > 0 ? (u.name, t.pool.unpinnedThreads) : nil }, uniquingKeysWith: { a, _ in a })
    }

    func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Runs `body` with the sensors sampled; returns its seconds and the joules per image.
    func measured(images: Int, _ body: () -> Void) -> (seconds: Double, joulesPerImage: Double?) {
        let sampler = sensors.isEmpty ? nil : EnergySampler(root: root, sensors: sensors)
        sampler?.start()
        let t0 = now()
        body()
        let seconds = Double(now() - t0) / 1e9
        let readings = sampler?.stop() ?? []
        let watts = !readings.isEmpty && readings.allSatisfy { $0.meanWatts != nil } ? readings.reduce(0) { $0 + $1.meanWatts! } : nil
        return (seconds, watts.map { $0 * seconds / Double(images) })
    }

    /// Each unit alone: `warmup` untimed images, then `images` timed ones. Also the reference
    /// outputs (the hash of each distinct input's output) of the first unit.
    public func runAlone(images: Int, warmup: Int) -> (runs: [CoExecutionRun], reference: [UInt64]) {
        var runs: [CoExecutionRun] = []
        var reference = [UInt64](repeating: 0, count: inputs.images.count)
        for (u, t) in zip(units, threads) {
            let runner = t.runner!
            t.start { for i in 0..<warmup where !self.shouldStop() { self.inputs.load(i, into: runner); _ = runner.run() } }
            t.wait()
            let m = measured(images: images) {
                t.start { for i in 0..<images where !self.shouldStop() { self.inputs.load(i, into: runner); _ = runner.run() } }
                t.wait()
            }
            runs.append(CoExecutionRun(label: u.name, images: images, seconds: m.seconds, imagesPerUnit: [u.name: images], joulesPerImage: m.joulesPerImage))
            if runs.count == 1 {
                t.start {
                    for k in 0..<self.inputs.images.count { self.inputs.load(k, into: runner); reference[k] = outputHash(runner.run()) }
                }
                t.wait()
            }
        }
        return (runs, reference)
    }

    /// All units take whole images from one queue. Returns the run and each image's output hash.
    public func runData(images: Int, warmup: Int) -> (run: CoExecutionRun, hashes: [UInt64]) {
        for t in threads {
            let runner = t.runner!
            t.start { for i in 0..<warmup where !self.shouldStop() { self.inputs.load(i, into: runner); _ = runner.run() } }
        }
        for t in threads { t.wait() }
        let next = Counter()
        let hashes = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: images)
        defer { hashes.deallocate() }
        hashes.initialize(repeating: 0)
        // One slot per unit, each written by its own thread only.
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: units.count)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0)
        let m = measured(images: images) {
            for (k, t) in threads.enumerated() {
                let runner = t.runner!
                t.start {
                    var done = 0
                    while !self.shouldStop() {
                        let i = next.take()
                        if i >= images { break }
                        self.inputs.load(i, into: runner)
                        hashes[i] = outputHash(runner.run())
                        done += 1
                    }
                    counts[k] = done
                }
            }
            for t in threads { t.wait() }
        }
        let perUnit = Dictionary(zip(units.map(\.name), Array(counts)).map { ($0, $1) }, uniquingKeysWith: { a, _ in a })
        return (CoExecutionRun(label: "data", images: images, seconds: m.seconds, imagesPerUnit: perUnit, joulesPerImage: m.joulesPerImage), Array(hashes))
    }

    /// Per-layer times on each unit (the median of `images` images after one warm-up), s.
    public func layerTimes(images: Int) -> [[Double]] {
        threads.map { t in
            let runner = t.runner!
            var times = [[Double]](repeating: [], count: network.layers.count)
            t.start {
                self.inputs.load(0, into: runner)
                _ = runner.run()
                for _ in 0..<max(1, images) {
                    var start = self.now()
                    _ = runner.run(beforeLayer: { _ in start = self.now() }, afterLayer: { l in times[l].append(Double(self.now() - start) / 1e9) })
                }
            }
            t.wait()
            return times.map { Statistics.median($0) ?? 0 }
        }
    }

    /// The units as consecutive stages of the network's layers, streaming `images` images.
    public func runPipeline(stages: [(unit: Int, range: ClosedRange<Int>)], images: Int, warmup: Int) -> (run: CoExecutionRun, hashes: [UInt64]) {
        let handoffs = stages.dropFirst().map { Handoff(network: network, layers: PipelineSplit.liveTensors(network: network, before: $0.range.lowerBound)) }
        let hashes = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: images)
        defer { hashes.deallocate() }
        hashes.initialize(repeating: 0)
        func stream(_ count: Int, record: Bool) {
            for (s, stage) in stages.enumerated() {
                let t = threads[stage.unit], runner = t.runner!
                t.start {
                    for n in 0..<count {
                        let i = s == 0 ? n : handoffs[s - 1].receive(into: runner)
                        if s == 0 { self.inputs.load(i, into: runner) }
                        for l in stage.range { runner.runLayer(l) }
                        if s < stages.count - 1 {
                            handoffs[s].send(i, from: runner)
                        } else if record {
                            hashes[i] = outputHash(runner.output(of: self.network.layers.count - 1))
                        }
                    }
                }
            }
            for stage in stages { threads[stage.unit].wait() }
        }
        stream(warmup, record: false)
        let m = measured(images: images) { stream(images, record: true) }
        return (CoExecutionRun(label: "pipeline", images: images, seconds: m.seconds,
                               imagesPerUnit: Dictionary(stages.map { (units[$0.unit].name, images) }, uniquingKeysWith: { a, _ in a }),
                               joulesPerImage: m.joulesPerImage), Array(hashes))
    }

    /// The whole experiment: each unit alone, then together in `mode`, and the outputs compared.
    /// nil when `shouldStop` said stop.
    public func run(mode: CoExecutionMode, images: Int, warmup: Int, layerTimingImages: Int = 3) -> CoExecutionReport? {
        let (alone, reference) = runAlone(images: images, warmup: warmup)
        if shouldStop() { return nil }
        var notes: [String] = []
        var stages: [PipelineStage]? = nil
        var layerMs: [String: [Double]]? = nil
        let together: CoExecutionRun
        let hashes: [UInt64]
        switch mode {
        case .data:
            (together, hashes) = runData(images: images, warmup: warmup)
        case .pipeline:
            let times = layerTimes(images: layerTimingImages)
            if shouldStop() { return nil }
            layerMs = Dictionary(zip(units.map(\.name), times.map { $0.map { $0 * 1e3 } }), uniquingKeysWith: { a, _ in a })
            let split = PipelineSplit.best(times: times, layers: network.layers.count)
            stages = split.stages.map { s in
                PipelineStage(unit: units[s.unit].name, first: s.range.lowerBound, last: s.range.upperBound,
                              firstName: network.layers[s.range.lowerBound].name, lastName: network.layers[s.range.upperBound].name,
                              predictedMs: s.range.reduce(0) { $0 + times[s.unit][$1] } * 1e3)
            }
            (together, hashes) = runPipeline(stages: split.stages, images: images, warmup: warmup)
            notes.append("the split was chosen from per-layer times measured on each unit (median of \(layerTimingImages) images); the slowest stage decides throughput")
        }
        if shouldStop() { return nil }
        let identical = hashes.enumerated().allSatisfy { i, h in h == reference[i % reference.count] }
        if Set(units.map(\.threads)).count > 1 {
            notes.append("the units run different thread counts; outputs are compared bit for bit all the same")
        }
        return CoExecutionReport(network: network.name, mode: mode, units: units, images: images, warmup: warmup, single: alone, together: together,
                                 stages: stages, layerTimesMs: layerMs, outputsIdentical: identical, outputsCompared: hashes.count, notes: notes)
    }
}

/// An atomic counter handing out image indices.
// Sendable: `value` is guarded by `lock`.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func take() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value - 1
    }
}
