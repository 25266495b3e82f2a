import CPerfEvent
import Counters
import Foundation
import Kernels
import Networks
import Platform

/// One figure of a report and where it came from (DESIGN.md: never a silent zero).
public struct Figure: Codable, Sendable {
    /// The value; nil when unavailable.
    public let value: Double?
    /// "measured", "estimated", "datasheet" or "unavailable".
    public let source: String
    /// Which events or formula, or why it is unavailable.
    public let detail: String?

    public static func measured(_ v: Double?, _ detail: String) -> Figure { Figure(value: v, source: v == nil ? "unavailable" : "measured", detail: detail) }
    public static func unavailable(_ why: String) -> Figure { Figure(value: nil, source: "unavailable", detail: why) }

    enum CodingKeys: String, CodingKey { case value, source, detail }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value) // null, never left out
        try c.encode(source, forKey: .source)
        try c.encode(detail, forKey: .detail)
    }
}

/// Per-layer counts of one network run on one cluster.
public struct LayerProfile: Codable, Sendable {
    public let name: String
    public let kind: String
    public let output: TensorShape
    public let macs: Int64
    public let ops: Int64
    /// Median over repeats, s.
    public let time_s: Double
    /// Fastest and slowest repeat, s.
    public let time_min_s: Double
    public let time_max_s: Double
    public let gops: Double
    /// ops / minimum bytes (the cost model).
    public let oi_theoretical: Double
    /// ops / measured DRAM bytes, when DRAM bytes were measured.
    public let oi_empirical: Figure
    /// Events summed over the threads, medians over repeats, by event name.
    public let events: [String: Figure]
    /// Metrics from the platform's formulas (cycles, ipc, dram_bytes, ...).
    public let metrics: [String: Figure]
    /// Energy of the layer per image (all sensors), J; unavailable without a power sensor.
    public var energy_j: Figure = .unavailable("no power sensor")
    /// min(peak, OI x DRAM bandwidth) from the measured ceilings, GOP/s.
    public var attainable_gops: Figure = .unavailable("no ceilings")
    /// "memory" or "compute" (below or above the ridge point), nil without ceilings.
    public var bound: String? = nil
    /// Which intensity decided the bound: "oi_empirical" (measured) or "oi_theoretical".
    public var bound_basis: String? = nil
}

/// The roofline a profile is placed under.
public struct Roofline: Codable, Sendable {
    /// Peak fp32 GFLOP/s of the threads used.
    public let peak_gflops: Double
    /// DRAM read bandwidth, GB/s.
    public let dram_gbs: Double
    /// Where they come from (a measured ceilings file).
    public let source: String
    public init(peak_gflops: Double, dram_gbs: Double, source: String) {
        self.peak_gflops = peak_gflops
        self.dram_gbs = dram_gbs
        self.source = source
    }
    /// Ops per byte where the bandwidth roof meets the compute roof.
    public var ridge: Double { peak_gflops / dram_gbs }
}

/// Energy of the timed runs, from the board's power sensors.
public struct EnergyFigures: Codable, Sendable {
    /// The sensors summed.
    public let sensors: [String]
    /// Mean power while the network ran, W (all sensors).
    public let mean_watts: Figure
    /// Idle power measured before the runs, W.
    public let idle_watts: Figure
    public let joules_per_image: Figure
    /// Energy per image above the idle baseline (what running the network added), J.
    public let joules_per_image_above_idle: Figure
    public let images_per_second_per_watt: Figure
    /// Images/s per watt above the idle baseline.
    public let images_per_second_per_watt_above_idle: Figure
}

/// One layer of the last repeat, as it ran: when, and what each thread counted.
public struct LayerRun: Codable, Sendable {
    public let layer: String
    /// Start and end from the start of the run, s.
    public let start_s: Double
    public let end_s: Double
    /// Per worker thread (index 0 = the calling thread): each event's count in this layer.
    public let per_thread: [[String: Double]]
}

/// A network profiled layer by layer.
public struct NetworkProfile: Codable, Sendable {
    public let schema: String
    public let schema_version: Int
    public let network: String
    public let placement: String
    public let threads: Int
    public let repeats: Int
    public let warmup: Int
    /// Images per second from the median of whole-network times.
    public let throughput_ips: Double
    public var layers: [LayerProfile]
    public var notes: [String]
    /// The ceilings the layers are placed under, nil when none were measured.
    public var roofline: Roofline? = nil
    /// The last repeat layer by layer, per thread (the basis of `--trace`).
    public var last_run: [LayerRun] = []
    /// Energy per image and per watt, when the board has power sensors.
    public var energy: EnergyFigures? = nil

    /// Places every layer under `roofline`: attainable GOP/s and the bound, from OI_e where it was
    /// measured, else OI_t (and says which).
    public mutating func place(under roofline: Roofline) {
        self.roofline = roofline
        for i in layers.indices {
            let measured = layers[i].oi_empirical.value
            let oi = measured ?? layers[i].oi_theoretical
            let basis = measured != nil ? "oi_empirical" : "oi_theoretical"
            layers[i].attainable_gops = Figure(value: min(roofline.peak_gflops, oi * roofline.dram_gbs), source: "estimated",
                                               detail: "min(peak \(String(format: "%.1f", roofline.peak_gflops)) GFLOP/s, \(basis) x DRAM \(String(format: "%.1f", roofline.dram_gbs)) GB/s), \(roofline.source)")
            layers[i].bound = oi < roofline.ridge ? "memory" : "compute"
            layers[i].bound_basis = basis
        }
    }
}

/// Where each pool thread's own counter readings go: one slot per layer boundary, `width`
/// values per thread. Every thread, the caller included, reads its own counters at the end of its
/// share of each job (the pool's job-end hook), so the reads of one boundary run in parallel and
/// a thread's count for a layer runs from the end of its share of the previous layer to the end
/// of its share of this one.
final class SelfReads: @unchecked Sendable {
    let sets: [CounterSet]
    let slots, enabled, running: UnsafeMutableBufferPointer<UInt64>
    let width: Int, threads: Int, slotCount: Int
    /// The boundary the current job's readings belong to (set by the caller between jobs; the
    /// pool's mutex hands it to the workers).
    var slot = 0
    /// Per thread, the slot it last wrote.
    let lastSlot: UnsafeMutableBufferPointer<Int>
    /// Per slot and thread: the read failed.
    let failed: UnsafeMutableBufferPointer<Bool>
    /// Per thread, the buffer a group read goes through (one object each: no sharing).
    let scratch: [Scratch]
    final class Scratch { var values = [UInt64](repeating: 0, count: 64) }

    init(sets: [CounterSet], slots: UnsafeMutableBufferPointer<UInt64>, enabled: UnsafeMutableBufferPointer<UInt64>,
         running: UnsafeMutableBufferPointer<UInt64>, width: Int, slotCount: Int) {
        self.sets = sets
        self.slots = slots
        self.enabled = enabled
        self.running = running
        self.width = width
        self.slotCount = slotCount
        threads = sets.count
        lastSlot = .allocate(capacity: threads)
        lastSlot.initialize(repeating: 0)
        failed = .allocate(capacity: slotCount * threads)
        failed.initialize(repeating: false)
        scratch = sets.map { _ in Scratch() }
    }

    deinit {
        lastSlot.deallocate()
        failed.deallocate()
    }

    /// The pool's job-end hook: a worker reads its own counters into the current slot.
    static let hook: ThreadPool.JobFunction = { context, t in
        Unmanaged<SelfReads>.fromOpaque(context!)._withUnsafeGuaranteedRef { $0.read(thread: t) }
    }

    func read(thread t: Int, slot: Int? = nil) {
        let slot = slot ?? self.slot
        guard slot < slotCount else { return }
        let base = slot * threads * width + t * width
        let range = base..<(base + width)
        failed[slot * threads + t] = !sets[t].readValues(into: UnsafeMutableBufferPointer(rebasing: slots[range]), enabled: UnsafeMutableBufferPointer(rebasing: enabled[range]),
                                                         running: UnsafeMutableBufferPointer(rebasing: running[range]), scratch: &scratch[t].values)
        lastSlot[t] = slot
    }

    /// A thread that ran no job since slot `from`: its readings there stand for slot `to`.
    func carry(thread t: Int, from: Int, to: Int) {
        let a = from * threads * width + t * width, b = to * threads * width + t * width
        for k in 0..<width {
            slots[b + k] = slots[a + k]
            enabled[b + k] = enabled[a + k]
            running[b + k] = running[a + k]
        }
        failed[to * threads + t] = failed[from * threads + t]
        lastSlot[t] = to
    }
}

/// Runs a network on a pinned pool with counters opened on every worker thread, which each
/// thread reads itself at the end of its share of a layer; per-thread values summed per layer.
public final class LayerProfiler {
    public let network: Network
    public let pool: ThreadPool
    public let events: [ResolvedEvent]
    let metrics: [ResolvedMetric]
    let registry: PMURegistry
    let permissions: PerfPermissions
    let system: any PerfEventSystem
    /// Events counted system-wide (a memory controller's PMU, such as rockchip_ddr): opened per
    /// CPU on their PMU's CPU (its `cpumask`), read by the calling thread at each boundary. A
    /// layer's value counts everything in the system during the layer, not only this network.
    public let systemEvents: [ResolvedEvent]

    /// `events` are the counted events (hardware events already placed on the cluster's PMU);
    /// `metrics` the platform's formulas for the cluster, computed from those events. `system`
    /// opens the events (the kernel; tests substitute a PMU with fewer counters). `systemEvents`
    /// are counted system-wide, in the first pass.
    public init(network: Network, pool: ThreadPool, events: [ResolvedEvent], metrics: [ResolvedMetric], registry: PMURegistry, permissions: PerfPermissions,
                systemEvents: [ResolvedEvent] = [], system: any PerfEventSystem = KernelPerfEventSystem()) {
        self.network = network
        self.pool = pool
        self.events = events
        self.metrics = metrics
        self.registry = registry
        self.permissions = permissions
        self.system = system
        // Grouped by the CPU they are opened on, so that each CPU's events are one set.
        self.systemEvents = systemEvents.enumerated().sorted { (a, b) in
            (a.element.cpus?.first ?? 0, a.offset) < (b.element.cpus?.first ?? 0, b.offset)
        }.map(\.element)
    }

    /// Profiles `repeats` runs after `warmup` untimed ones. When the events do not fit on the
    /// PMU's counters at once, the network runs once per group of events that fits (several
    /// passes) unless `allowMultiplexing`. `progress` is called after each run.
    /// The passes for groups that did not fit together: one per hardware group (each fits on the
    /// counters), every software event in each pass. Event indices, in order.
    public static func passes(groups: [[Int]], isSoftware: (Int) -> Bool) -> [[Int]] {
        let software = groups.filter { !$0.isEmpty && isSoftware($0[0]) }.flatMap { $0 }
        let hardware = groups.filter { !$0.isEmpty && !isSoftware($0[0]) }
        return hardware.isEmpty ? [software] : hardware.map { software + $0 }
    }

    /// With `energy`, the sampler runs during the timed repeats (after `idle` was measured) and
    /// each layer's energy is its sensors' power integrated over its windows. `boundary`, if
    /// given, is called in the first pass's timed repeats with 0 before the first layer and with
    /// each layer's index after it (after its counters are read): gem5's m5ops go there.
    public func profile(placement: String, warmup: Int, repeats: Int, seed: UInt64 = 1,
                        energy: (sampler: EnergySampler, idle: [SensorEnergy])? = nil, allowMultiplexing: Bool = false,
                        progress: ((Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil,
                        boundary: ((Int) -> Void)? = nil) -> NetworkProfile {
        let runner = NetworkRunner(network: network, pool: pool, seed: seed)
        runner.setDeterministicInput()
        // Each pool thread's tid, to open its counters.
        let tids = UnsafeMutableBufferPointer<pid_t>.allocate(capacity: pool.count)
        defer { tids.deallocate() }
        pool.run { t in tids[t] = socprof_gettid() }
        func openSets(_ indices: [Int]) -> [CounterSet] {
            tids.map { tid in
                CounterSet(events: indices.map { events[$0] }, options: CounterOptions(target: .thread(tid), permissions: permissions, userSpaceReads: true), registry: registry, system: system)
            }
        }
        // A probe with every event says whether they fit on the counters at once.
        let all = Array(events.indices)
        let probe = openSets(all)
        var notes: [String] = []
        var failures: [Int: CounterError] = [:]
        // An event that could not be opened on any thread, in any pass, has no value.
        func merge(_ sets: [CounterSet], _ indices: [Int]) {
            for set in sets { for (k, f) in set.failures where failures[indices[k]] == nil { failures[indices[k]] = f } }
        }
        merge(probe, all)
        var passes: [[Int]] = [all]
        if !probe.flatMap({ $0.splits.keys }).isEmpty {
            if allowMultiplexing {
                notes.append("the events did not fit on the PMU's counters at once and were multiplexed (--allow-multiplexing); their values are scaled estimates")
            } else {
                passes = Self.passes(groups: probe[0].memberIndex, isSoftware: { events[$0].type == .software })
                notes.append("the events did not fit on the PMU's counters at once: the network ran \(passes.count) times, one pass per group of events that fits (--allow-multiplexing would use one pass)")
            }
        }

        let layers = network.layers.count, nEvents = events.count, nThreads = tids.count
        // counts[repeat][layer][event], times[repeat][layer]; allocated before the timed runs.
        var counts = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: nEvents), count: layers), count: repeats)
        // Per repeat, layer and event: 0 counted, 1 scaled for multiplexing, 2 never on a counter, 3 a read failed.
        var flags = [[[UInt8]]](repeating: [[UInt8]](repeating: [UInt8](repeating: 0, count: nEvents), count: layers), count: repeats)
        // Repeats each pass finished, and the pass each event is counted in.
        var passRuns = [Int](repeating: 0, count: passes.count)
        var eventPass = [Int](repeating: 0, count: nEvents)
        for (p, pass) in passes.enumerated() { for e in pass where p == 0 || events[e].type != .software { eventPass[e] = p } }
        var times = [[Double]](repeating: [Double](repeating: 0, count: layers), count: repeats)
        // The latest repeat per thread, and layer start times: kept for the trace.
        var perThread = [[[UInt64]]](repeating: [[UInt64]](repeating: [UInt64](repeating: 0, count: nEvents), count: nThreads), count: layers)
        var starts = [Double](repeating: 0, count: layers)
        // Every repeat's layer windows on the sampler's clock (ns), for the energy per layer.
        var windows = [[(UInt64, UInt64)]](repeating: [(UInt64, UInt64)](repeating: (0, 0), count: layers), count: repeats)
        var runWindows = [(UInt64, UInt64)](repeating: (0, 0), count: repeats)
        var totals = [Double](repeating: 0, count: repeats)
        // One slot of raw readings per layer boundary (slot 0 before the first layer, slot i after
        // layer i): at a boundary the profiler only reads; deltas are computed after the run, so
        // no bookkeeping is counted into the next layer.
        let size = max(1, nThreads * nEvents)
        let slots = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: size * layers)
        let slotsE = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: size * layers)
        let slotsR = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: size * layers)
        let slotFailed = UnsafeMutableBufferPointer<Bool>.allocate(capacity: layers)
        defer { slots.deallocate(); slotsE.deallocate(); slotsR.deallocate(); slotFailed.deallocate() }
        // System-wide events: one set per CPU, over a contiguous range of `systemEvents`, opened
        // for the first pass only; raw readings per boundary, deltas per repeat and layer.
        let nSystem = systemEvents.count
        var systemSets: [(set: CounterSet, range: Range<Int>)] = []
        var systemFailures: [Int: CounterError] = [:]
        do {
            var k = 0
            while k < nSystem {
                let cpu = systemEvents[k].cpus?.first ?? 0
                var end = k + 1
                while end < nSystem && (systemEvents[end].cpus?.first ?? 0) == cpu { end += 1 }
                let set = CounterSet(events: Array(systemEvents[k..<end]), options: CounterOptions(target: .cpu(cpu), permissions: permissions),
                                     registry: registry, system: system)
                for (m, f) in set.failures { systemFailures[k + m] = f }
                do { try set.enable() } catch { for m in k..<end where systemFailures[m] == nil { systemFailures[m] = error } }
                systemSets.append((set, k..<end))
                k = end
            }
        }
        defer { for s in systemSets { s.set.close() } }
        let sysSlots = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(1, nSystem * layers))
        let sysE = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(1, nSystem * layers))
        let sysR = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(1, nSystem * layers))
        let sysFailed = UnsafeMutableBufferPointer<Bool>.allocate(capacity: layers)
        defer { sysSlots.deallocate(); sysE.deallocate(); sysR.deallocate(); sysFailed.deallocate() }
        sysSlots.initialize(repeating: 0); sysE.initialize(repeating: 0); sysR.initialize(repeating: 0)
        sysFailed.initialize(repeating: false)
        var systemCounts = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: nSystem), count: layers), count: repeats)
        var systemFlags = [[[UInt8]]](repeating: [[UInt8]](repeating: [UInt8](repeating: 0, count: nSystem), count: layers), count: repeats)
        var scratch = [UInt64](repeating: 0, count: 64)
        var completed = 0
        if passes.count > 1 { for set in probe { set.close() } }
        for (p, pass) in passes.enumerated() {
            let sets = passes.count == 1 ? probe : openSets(pass)
            defer { for s in sets { s.close() } }
            if passes.count > 1 { merge(sets, pass) }
            let first = p == 0
            let width = pass.count
            let stride = nThreads * width // one slot
            slots.update(repeating: 0)
            slotsE.update(repeating: 0)
            slotsR.update(repeating: 0)
            // Workers read their own counters at the end of their share of each job (the pool's
            // job-end hook): no inter-processor interrupt to read a running thread's counters,
            // and user-space reads where the kernel allows them. The caller reads its own at
            // each boundary.
            let reader = SelfReads(sets: sets, slots: slots, enabled: slotsE, running: slotsR, width: width, slotCount: layers)
            defer { pool.setJobEndHook(nil, context: nil) }
            // Each thread maps its own counters' pages, for reads without a system call.
            pool.run { t in _ = sets[t].mapPagesForUserSpaceReads() }
            func readAll(slot: Int) {
                // The caller reads its own counters here if it ran no pool job in this layer (a
                // softmax runs on it alone).
                if reader.lastSlot[0] != slot { reader.read(thread: 0, slot: slot) }
                var failed = false
                // A worker that ran no job in this layer counted nothing new: its last reading stands.
                for t in 0..<nThreads {
                    if reader.lastSlot[t] != slot { reader.carry(thread: t, from: reader.lastSlot[t], to: slot) }
                    if reader.failed[slot * nThreads + t] { failed = true }
                }
                slotFailed[slot] = failed
                if first {
                    var sysFail = false
                    for (set, r) in systemSets {
                        let range = (slot * nSystem + r.lowerBound)..<(slot * nSystem + r.upperBound)
                        if !set.readValues(into: UnsafeMutableBufferPointer(rebasing: sysSlots[range]), enabled: UnsafeMutableBufferPointer(rebasing: sysE[range]),
                                           running: UnsafeMutableBufferPointer(rebasing: sysR[range]), scratch: &scratch) { sysFail = true }
                    }
                    sysFailed[slot] = sysFail
                }
            }
            for set in sets {
                do { try set.enable() } catch {
                    for e in pass where failures[e] == nil { failures[e] = error }
                }
            }
            // Later passes record only their own hardware events (software ones come from pass 0).
            let recorded = pass.enumerated().filter { first || events[$0.element].type != .software }
            for _ in 0..<warmup where !(shouldStop?() ?? false) { runner.run() } // Ctrl-C reaches the warm-up too
            // The workers' first readings, taken by an empty job.
            pool.setJobEndHook(SelfReads.hook, context: Unmanaged.passUnretained(reader).toOpaque())
            reader.slot = 0
            pool.run { _ in }
            if first, let energy { energy.sampler.start() }
            let runs = first ? repeats : completed
            for r in 0..<runs {
                if shouldStop?() == true { break }
                // Only reads at the boundaries: the read after a layer is the read before the next.
                readAll(slot: 0)
                reader.slot = 1
                if first { boundary?(0) }
                var t0 = DispatchTime.now().uptimeNanoseconds
                let start = t0
                runner.run(afterLayer: { i in
                    let t1 = DispatchTime.now().uptimeNanoseconds
                    readAll(slot: i)
                    reader.slot = i + 1
                    if first { boundary?(i) }
                    if first {
                        times[r][i] = Double(t1 - t0) / 1e9
                        windows[r][i] = (t0, t1)
                    }
                    t0 = DispatchTime.now().uptimeNanoseconds
                })
                // Deltas, after the run.
                for i in 1..<layers {
                    if first { starts[i] = Double(windows[r][i].0 - start) / 1e9 }
                    let a = (i - 1) * stride, b = i * stride
                    for (local, e) in recorded {
                        var sum = 0.0
                        var flag: UInt8 = slotFailed[i] || slotFailed[i - 1] ? 3 : 0
                        for t in 0..<nThreads {
                            let k = t * width + local
                            let d = slots[b + k] &- slots[a + k]
                            let en = slotsE[b + k] &- slotsE[a + k], ru = slotsR[b + k] &- slotsR[a + k]
                            perThread[i][t][e] = d
                            if en > 0 && ru == 0 {
                                flag = max(flag, 2) // the group never got a counter in this layer
                            } else if ru < en && ru > 0 && !events[e].clusterBound {
                                sum += Double(d) * Double(en) / Double(ru) // multiplexed: scaled
                                flag = max(flag, 1)
                            } else {
                                sum += Double(d)
                            }
                        }
                        counts[r][i][e] = sum
                        flags[r][i][e] = flag
                    }
                }
                if first {
                    for i in 1..<layers {
                        let a = (i - 1) * nSystem, b = i * nSystem
                        for k in 0..<nSystem where systemFailures[k] == nil {
                            let d = sysSlots[b + k] &- sysSlots[a + k]
                            let en = sysE[b + k] &- sysE[a + k], ru = sysR[b + k] &- sysR[a + k]
                            var flag: UInt8 = sysFailed[i] || sysFailed[i - 1] ? 3 : 0
                            var v = Double(d)
                            if en > 0 && ru == 0 { flag = max(flag, 2) } else if ru < en && ru > 0 { v *= Double(en) / Double(ru); flag = max(flag, 1) }
                            systemCounts[r][i][k] = v
                            systemFlags[r][i][k] = flag
                        }
                    }
                    let end = DispatchTime.now().uptimeNanoseconds
                    totals[r] = Double(end - start) / 1e9
                    runWindows[r] = (start, end)
                    completed += 1
                }
                passRuns[p] += 1
                progress?(p * repeats + r + 1)
            }
            if first, let energy {
                for e in energy.sampler.stop() { if let n = e.droppedNote { notes.append(n) } }
            }
        }
        let fewest = passRuns.min() ?? 0
        if fewest < repeats {
            notes.append("stopped after \(completed) of \(repeats) repeats" + (passes.count > 1 ? " (passes finished \(passRuns.map(String.init).joined(separator: ", ")) repeats)" : "") +
                         ": interrupted; the figures cover the completed ones")
        }
        guard completed > 0 else {
            notes.append("no repeat completed: nothing was measured")
            return NetworkProfile(schema: "socprof.profile", schema_version: 1, network: network.name, placement: placement, threads: pool.count,
                                  repeats: 0, warmup: warmup, throughput_ips: 0, layers: [], notes: notes)
        }
        let n = completed
        /// The median (the mean of the two middle values for an even count).
        func median(_ v: [Double]) -> Double {
            let s = v.sorted()
            if s.isEmpty { return 0 }
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }

        let costs = network.costs()
        let dram = metrics.first { $0.metric.name == "dram_bytes" }
        var profiles: [LayerProfile] = []
        for i in 1..<layers {
            let layer = network.layers[i]
            let ts = (0..<n).map { times[$0][i] }
            let t = median(ts)
            var eventFigures: [String: Figure] = [:]
            var byName: [String: Double] = [:]
            for (e, ev) in events.enumerated() {
                if let failure = failures[e] {
                    eventFigures[ev.name] = .unavailable(failure.explanation)
                    continue
                }
                let runs = passRuns[eventPass[e]]
                guard runs > 0 else {
                    eventFigures[ev.name] = .unavailable("interrupted before pass \(eventPass[e] + 1) of \(passes.count), which counts it")
                    continue
                }
                let f = (0..<runs).map { flags[$0][i][e] }.max() ?? 0
                if f == 3 { eventFigures[ev.name] = .unavailable("a read of its counters failed in this layer"); continue }
                if f == 2 { eventFigures[ev.name] = .unavailable("its group never got onto a counter in this layer (the PMU was busy; see --allow-multiplexing)"); continue }
                let v = median((0..<runs).map { counts[$0][i][e] }) * ev.scale
                let detail = "\(ev.pmuName ?? "core")/config=0x\(String(ev.config, radix: 16)), summed over \(pool.count) thread(s)"
                eventFigures[ev.name] = f == 1 ? Figure(value: v, source: "estimated", detail: detail + ", scaled for multiplexing") : .measured(v, detail)
                byName[ev.name] = v
            }
            var whyNot: [String: String] = [:]
            for (k, ev) in systemEvents.enumerated() {
                if let failure = systemFailures[k] {
                    eventFigures[ev.name] = .unavailable(failure.explanation)
                    whyNot[ev.name] = failure.explanation
                    continue
                }
                let f = (0..<n).map { systemFlags[$0][i][k] }.max() ?? 0
                if f == 3 { eventFigures[ev.name] = .unavailable("a read of its counter failed in this layer"); continue }
                if f == 2 { eventFigures[ev.name] = .unavailable("it never got onto a counter in this layer (the PMU was busy)"); continue }
                let v = median((0..<n).map { systemCounts[$0][i][k] }) * ev.scale
                let detail = "\(ev.pmuName ?? "core")/config=0x\(String(ev.config, radix: 16)), system-wide on cpu\(ev.cpus?.first ?? 0): everything in the system during the layer"
                eventFigures[ev.name] = f == 1 ? Figure(value: v, source: "estimated", detail: detail + ", scaled for multiplexing") : .measured(v, detail)
                byName[ev.name] = v
            }
            for (e, ev) in events.enumerated() { if let failure = failures[e] { whyNot[ev.name] = failure.explanation } }
            var metricFigures: [String: Figure] = [:]
            var metricValues: [String: Double] = [:]
            for m in metrics {
                guard let f = m.formula else { metricFigures[m.metric.name] = .unavailable(m.reason ?? "no formula"); continue }
                let values = Dictionary(uniqueKeysWithValues: m.events.compactMap { e in byName[e.spec].map { (e.name, $0) } })
                if let v = m.evaluate(events: values, metrics: metricValues) {
                    metricValues[m.metric.name] = v
                    let scope = f.scope == "system" ? ", counted system-wide" : ""
                    metricFigures[m.metric.name] = Figure(value: v, source: "measured", detail: f.text + (f.note.map { " (\($0))" } ?? "") + scope)
                } else {
                    let reason = m.events.lazy.compactMap { whyNot[$0.spec] }.first.map { ": \($0)" } ?? ""
                    metricFigures[m.metric.name] = .unavailable("an event of \(f.text) was not counted" + reason)
                }
            }
            let ops = costs[i].ops
            let oiE: Figure
            if let bytes = metricValues["dram_bytes"], bytes > 0 {
                oiE = Figure(value: Double(ops) / bytes, source: "measured", detail: "ops / dram_bytes (\(dram?.formula?.text ?? ""))")
            } else {
                oiE = .unavailable(metricFigures["dram_bytes"]?.detail ?? "DRAM bytes not measured")
            }
            profiles.append(LayerProfile(name: layer.name, kind: layer.kind.name, output: layer.output, macs: costs[i].macs, ops: ops,
                                         time_s: t, time_min_s: ts.min() ?? 0, time_max_s: ts.max() ?? 0,
                                         gops: t > 0 ? Double(ops) / t / 1e9 : 0, oi_theoretical: costs[i].oiTheoretical,
                                         oi_empirical: oiE, events: eventFigures, metrics: metricFigures))
        }
        let total = median(Array(totals.prefix(n)))
        var lastRun: [LayerRun] = []
        if completed > 0 {
            let last = completed - 1
            for i in 1..<layers {
                lastRun.append(LayerRun(layer: network.layers[i].name, start_s: starts[i], end_s: starts[i] + times[last][i],
                                        per_thread: (0..<nThreads).map { t in
                                            var m: [String: Double] = [:]
                                            for (e, ev) in events.enumerated() where failures[e] == nil { m[ev.name] = Double(perThread[i][t][e]) * ev.scale }
                                            return m
                                        }))
            }
        }
        var result = NetworkProfile(schema: "socprof.profile", schema_version: 1, network: network.name, placement: placement, threads: pool.count,
                                    repeats: completed, warmup: warmup, throughput_ips: total > 0 ? 1 / total : 0, layers: profiles, notes: notes)
        result.last_run = lastRun
        if let energy, completed > 0 {
            let sampler = energy.sampler
            let names = sampler.sensors.map(\.label)
            func joules(_ w: (UInt64, UInt64)) -> Double? {
                var sum = 0.0
                for k in sampler.sensors.indices {
                    guard let j = sampler.joules(sensor: k, from: w.0, to: w.1) else { return nil }
                    sum += j
                }
                return sum
            }
            let detail = "\(names.joined(separator: " + ")), sampled every \(sampler.periodNanoseconds / 1_000_000) ms; per layer: power interpolated over its windows in \(completed) repeats"
            let period = Double(sampler.periodNanoseconds) / 1e9
            for i in 1..<layers {
                let per = (0..<completed).map { joules(windows[$0][i]) }
                if per.allSatisfy({ $0 != nil }) {
                    // A layer shorter than the sampling period gets interpolated power: an estimate.
                    let short = result.layers[i - 1].time_s < period
                    result.layers[i - 1].energy_j = Figure(value: per.reduce(0) { $0 + $1! } / Double(completed), source: short ? "estimated" : "measured",
                                                           detail: detail + (short ? "; shorter than the sampling period" : ""))
                } else {
                    result.layers[i - 1].energy_j = .unavailable("the sensors' readings do not cover the layer's runs")
                }
            }
            let runJ = (0..<completed).map { joules(runWindows[$0]) }
            let seconds = (0..<completed).reduce(0.0) { $0 + Double(runWindows[$1].1 - runWindows[$1].0) / 1e9 }
            let idleW = energy.idle.isEmpty ? nil : energy.idle.reduce(0.0) { $0 + ($1.meanWatts ?? .nan) }
            if runJ.allSatisfy({ $0 != nil }), seconds > 0, runJ.reduce(0, { $0 + $1! }) > 0 {
                let perImage = runJ.reduce(0) { $0 + $1! } / Double(completed)
                let watts = perImage * Double(completed) / seconds
                let ips = Double(completed) / seconds
                let idleFigure: Figure = idleW.map { $0.isFinite ? Figure(value: $0, source: "measured", detail: "idle baseline before the runs") : .unavailable("the idle baseline has no readings") } ?? .unavailable("no idle baseline measured")
                let above = idleW.flatMap { $0.isFinite ? perImage - $0 / ips : nil }
                result.energy = EnergyFigures(
                    sensors: names,
                    mean_watts: Figure(value: watts, source: "measured", detail: detail),
                    idle_watts: idleFigure,
                    joules_per_image: Figure(value: perImage, source: "measured", detail: "all sensors, including idle power"),
                    // Rounding below 0 is 0; a real deficit means the power varied more than the network added.
                    joules_per_image_above_idle: above.map { $0 >= -1e-9 * perImage ? Figure(value: max(0, $0), source: "measured", detail: "minus the idle baseline")
                                                                     : .unavailable("below the idle baseline: the power varied more than the network added") } ?? .unavailable("no idle baseline"),
                    images_per_second_per_watt: Figure(value: ips / watts, source: "measured", detail: "images/s over mean power, including idle power"),
                    images_per_second_per_watt_above_idle: idleW.flatMap { $0.isFinite && watts > $0 ? Figure(value: ips / (watts - $0), source: "measured", detail: "images/s over power above the idle baseline") : nil } ?? .unavailable("no idle baseline, or power not above it"))
            } else {
                result.notes.append("the power sensors' readings do not cover the runs, or read 0 W: no energy per image")
            }
        }
        return result
    }
}
