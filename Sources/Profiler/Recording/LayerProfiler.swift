import Counters
import Foundation
import Kernels
import LinuxSystem
import Networks
import Platform
import ProfileModel

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
    /// For an int8 network: the images its activations are calibrated on before the runs.
    public let calibrationImages: Int

    /// `events` are the counted events (hardware events already placed on the cluster's PMU);
    /// `metrics` the platform's formulas for the cluster, computed from those events. `system`
    /// opens the events (the kernel; tests substitute a PMU with fewer counters). `systemEvents`
    /// are counted system-wide, in the first pass.
    public init(network: Network, pool: ThreadPool, events: [ResolvedEvent], metrics: [ResolvedMetric], registry: PMURegistry, permissions: PerfPermissions,
                systemEvents: [ResolvedEvent] = [], system: any PerfEventSystem = KernelPerfEventSystem(),
                calibrationImages: Int = CalibrationImages.defaultCount) {
        self.network = network
        self.calibrationImages = calibrationImages
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

    /// The passes for groups that did not fit together: one per hardware group (each fits on the
    /// counters), every software event in each pass. Event indices, in order.
    public static func passes(groups: [[Int]], isSoftware: (Int) -> Bool) -> [[Int]] {
        let software = groups.filter { !$0.isEmpty && isSoftware($0[0]) }.flatMap { $0 }
        let hardware = groups.filter { !$0.isEmpty && !isSoftware($0[0]) }
        return hardware.isEmpty ? [software] : hardware.map { software + $0 }
    }

    /// Profiles `repeats` runs after `warmup` untimed ones and analyses them
    /// (`record`, then `ProfileAnalysis.report` and, with `energy`, `EnergyAttribution.apply`).
    public func profile(placement: String, warmup: Int, repeats: Int, seed: UInt64 = 1,
                        energy: (sampler: EnergySampler, idle: [SensorEnergy])? = nil, allowMultiplexing: Bool = false,
                        progress: ((Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil,
                        boundary: ((Int) -> Void)? = nil) -> NetworkProfile {
        let samples = record(warmup: warmup, repeats: repeats, seed: seed, sampler: energy?.sampler, allowMultiplexing: allowMultiplexing,
                             progress: progress, shouldStop: shouldStop, boundary: boundary)
        var result = ProfileAnalysis.report(samples, network: network, metrics: metrics, placement: placement)
        if let energy { EnergyAttribution.apply(EnergyRecord(sampler: energy.sampler, idle: energy.idle), samples: samples, to: &result) }
        return result
    }

    /// Runs the network `repeats` times after `warmup` untimed runs and records, per repeat,
    /// layer, event and thread, the counters' deltas, and when each layer ran. When the events do
    /// not fit on the PMU's counters at once, the network runs once per group of events that fits
    /// (several passes) unless `allowMultiplexing`. `sampler`, if given, runs during the first
    /// pass's timed repeats. `progress` is called after each run with the runs done; `shouldStop`
    /// ends the runs early (what was completed is kept). `boundary`, if given, is called in the
    /// first pass's timed repeats with 0 before the first layer and with each layer's index after
    /// it (after its counters are read): gem5's m5ops go there.
    public func record(warmup: Int, repeats: Int, seed: UInt64 = 1, sampler: EnergySampler? = nil, allowMultiplexing: Bool = false,
                       progress: ((Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil,
                       boundary: ((Int) -> Void)? = nil) -> LayerSamples {
        let runner = NetworkRunner(network: network, pool: pool, seed: seed, calibrationImages: calibrationImages)
        runner.setDeterministicInput()
        // Each pool thread's tid, to open its counters.
        let tids = UnsafeMutableBufferPointer<pid_t>.allocate(capacity: pool.count)
        defer { tids.deallocate() }
        pool.run { t in tids[t] = ThreadID.current() }
        func openSets(_ indices: [Int]) -> [CounterSet] {
            tids.map { tid in
                CounterSet(events: indices.map { events[$0] }, options: CounterOptions(target: .thread(tid), permissions: permissions, userSpaceReads: true), registry: registry, system: system)
            }
        }
        // A probe with every event says whether they fit on the counters at once.
        let all = Array(events.indices)
        let probe = openSets(all)
        var notes: [String] = []
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
        // Allocated whole before the timed runs.
        var s = LayerSamples(events: events, systemEvents: systemEvents, threads: nThreads, layers: layers, repeats: repeats, warmup: warmup, passes: passes)
        s.notes = notes
        s.fusion = runner.fusion
        s.int8Kernel = runner.int8Kernel
        // An event that could not be opened on any thread, in any pass, has no value.
        func merge(_ sets: [CounterSet], _ indices: [Int]) {
            for set in sets { for (k, f) in set.failures where s.failures[indices[k]] == nil { s.failures[indices[k]] = f } }
        }
        merge(probe, all)
        // One slot of raw readings per layer boundary (slot 0 before the first layer, slot i after
        // layer i): at a boundary the profiler only reads; deltas are taken after the run, so no
        // bookkeeping is counted into the next layer.
        let size = max(1, nThreads * nEvents)
        let slots = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: size * layers)
        let slotsE = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: size * layers)
        let slotsR = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: size * layers)
        let slotFailed = UnsafeMutableBufferPointer<Bool>.allocate(capacity: layers)
        defer { slots.deallocate(); slotsE.deallocate(); slotsR.deallocate(); slotFailed.deallocate() }
        // System-wide events: one set per CPU, over a contiguous range of `systemEvents`, opened
        // for the first pass only.
        let nSystem = systemEvents.count
        var systemSets: [(set: CounterSet, range: Range<Int>)] = []
        do {
            var k = 0
            while k < nSystem {
                let cpu = systemEvents[k].cpus?.first ?? 0
                var end = k + 1
                while end < nSystem && (systemEvents[end].cpus?.first ?? 0) == cpu { end += 1 }
                let set = CounterSet(events: Array(systemEvents[k..<end]), options: CounterOptions(target: .cpu(cpu), permissions: permissions),
                                     registry: registry, system: system)
                for (m, f) in set.failures { s.systemFailures[k + m] = f }
                do { try set.enable() } catch { for m in k..<end where s.systemFailures[m] == nil { s.systemFailures[m] = error } }
                systemSets.append((set, k..<end))
                k = end
            }
        }
        defer { for x in systemSets { x.set.close() } }
        let sysSlots = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(1, nSystem * layers))
        let sysE = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(1, nSystem * layers))
        let sysR = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(1, nSystem * layers))
        let sysFailed = UnsafeMutableBufferPointer<Bool>.allocate(capacity: layers)
        defer { sysSlots.deallocate(); sysE.deallocate(); sysR.deallocate(); sysFailed.deallocate() }
        sysSlots.initialize(repeating: 0); sysE.initialize(repeating: 0); sysR.initialize(repeating: 0)
        sysFailed.initialize(repeating: false)
        var scratch = [UInt64](repeating: 0, count: 64)
        if passes.count > 1 { for set in probe { set.close() } }
        for (p, pass) in passes.enumerated() {
            let sets = passes.count == 1 ? probe : openSets(pass)
            defer { for x in sets { x.close() } }
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
                    for e in pass where s.failures[e] == nil { s.failures[e] = error }
                }
            }
            // Later passes record only their own hardware events (software ones come from pass 0).
            let recorded = pass.enumerated().filter { first || events[$0.element].type != .software }
            for _ in 0..<warmup where !(shouldStop?() ?? false) { runner.run() } // Ctrl-C reaches the warm-up too
            // The workers' first readings, taken by an empty job.
            pool.setJobEndHook(SelfReads.hook, context: Unmanaged.passUnretained(reader).toOpaque())
            reader.slot = 0
            pool.run { _ in }
            if first, let sampler { sampler.start() }
            let runs = first ? repeats : s.completed
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
                    if first {
                        boundary?(i)
                        s.windows[r][i] = Window(start: t0, end: t1)
                    }
                    t0 = DispatchTime.now().uptimeNanoseconds
                })
                // Deltas, after the run.
                for i in 1..<layers {
                    let a = (i - 1) * stride, b = i * stride
                    s.counts.setReadFailed(slotFailed[i] || slotFailed[i - 1], repeat: r, layer: i)
                    for (local, e) in recorded {
                        for t in 0..<nThreads {
                            let k = t * width + local
                            s.counts[repeat: r, layer: i, event: e, thread: t] = CounterDelta(from: (slots[a + k], slotsE[a + k], slotsR[a + k]),
                                                                                             to: (slots[b + k], slotsE[b + k], slotsR[b + k]))
                        }
                    }
                }
                if first {
                    for i in 1..<layers {
                        let a = (i - 1) * nSystem, b = i * nSystem
                        s.systemCounts.setReadFailed(sysFailed[i] || sysFailed[i - 1], repeat: r, layer: i)
                        for k in 0..<nSystem where s.systemFailures[k] == nil {
                            s.systemCounts[repeat: r, layer: i, event: k, thread: 0] = CounterDelta(from: (sysSlots[a + k], sysE[a + k], sysR[a + k]),
                                                                                                   to: (sysSlots[b + k], sysE[b + k], sysR[b + k]))
                        }
                    }
                    s.runWindows[r] = Window(start: start, end: DispatchTime.now().uptimeNanoseconds)
                }
                s.passRuns[p] += 1
                progress?(p * repeats + r + 1)
            }
            if first, let sampler {
                for e in sampler.stop() { if let n = e.droppedNote { s.notes.append(n) } }
            }
        }
        return s
    }
}
