import Counters
import Foundation
import Kernels
import LinuxSystem
import Platform
import Profiler

/// One row of a power-model samples file: a workload at one pinned frequency, with the cluster's
/// mean power and voltage and the per-core event rates over the same window.
public struct PowerCollectRow: Sendable, Equatable {
    public let workload: String
    /// The frequency pinned, MHz.
    public let freqMHz: Double
    /// The mean of `scaling_cur_freq` read at the start and end of each counting window, MHz;
    /// nil when the kernel does not say.
    public let freqReadMHz: Double?
    /// Mean supply voltage, V.
    public let voltageV: Double
    /// Mean power of the cluster's sensor, W (time-weighted over the passes).
    public let powerW: Double
    /// Length of the counting windows together, s.
    public let seconds: Double
    /// Units of work done (images, passes, chunks), over all passes.
    public let units: Int
    /// Per event column: events per second per core (the count over the window, summed over the
    /// threads, divided by its length and by the cluster's CPUs).
    public let rates: [Double]

    public init(workload: String, freqMHz: Double, freqReadMHz: Double?, voltageV: Double, powerW: Double, seconds: Double,
                units: Int, rates: [Double]) {
        self.workload = workload
        self.freqMHz = freqMHz
        self.freqReadMHz = freqReadMHz
        self.voltageV = voltageV
        self.powerW = powerW
        self.seconds = seconds
        self.units = units
        self.rates = rates
    }

    /// Whether the frequency read back differs from the one pinned by more than 1 % (thermal
    /// throttling, or a driver that ignores the limits).
    public var frequencyMoved: Bool { freqReadMHz.map { abs($0 - freqMHz) > 0.01 * freqMHz } ?? false }
}

/// What `powermodel collect` does, and where: the plan of a collection.
public struct PowerCollectPlan: Sendable {
    /// The frequencies to pin, kHz.
    public var frequenciesKHz: [Int64]
    public var workloads: [Workload]
    /// Counting window per row and pass, s (whole units of work, at least one).
    public var seconds: Double
    /// Wait after pinning before counting, s.
    public var settleSeconds: Double

    public init(frequenciesKHz: [Int64], workloads: [Workload], seconds: Double, settleSeconds: Double) {
        self.frequenciesKHz = frequenciesKHz
        self.workloads = workloads
        self.seconds = seconds
        self.settleSeconds = settleSeconds
    }
}

/// Why a collection stopped.
public struct PowerCollectError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs workloads on a pool at each of a cluster's frequencies with per-thread counters and a power
/// sensor, and hands over one `PowerCollectRow` per workload and frequency (Powmon's method: the
/// same workloads across DVFS levels, so that a least-squares fit can separate the dynamic,
/// event-driven power from the static, voltage- and frequency-driven power).
///
/// Every frequency domain given is pinned while its rows are measured and restored afterwards,
/// also when the collection stops with an error or is interrupted (`shouldStop`).
public final class PowerSampleCollector {
    public let root: SystemRoot
    /// The cpufreq policies of the cluster (all pinned to each frequency).
    public let domains: [FrequencyDomain]
    public let pool: ThreadPool
    /// The cluster's CPUs, for the per-core average.
    public let cores: Int
    public let events: [ResolvedEvent]
    public let sensor: PowerSensor
    public let voltage: VoltageSource
    let registry: PMURegistry
    let permissions: PerfPermissions
    let system: any PerfEventSystem
    /// The event indices counted in each pass (one pass when they fit on the counters).
    public private(set) var passes: [[Int]] = []
    private var sets: [CounterSet] = []

    /// Opens the events on every pool thread.
    /// - Throws: `PowerCollectError` when an event cannot be counted on every thread (its rate
    ///   would be wrong or empty).
    public init(root: SystemRoot, domains: [FrequencyDomain], pool: ThreadPool, cores: Int, events: [ResolvedEvent],
                sensor: PowerSensor, voltage: VoltageSource, registry: PMURegistry, permissions: PerfPermissions,
                system: any PerfEventSystem = KernelPerfEventSystem()) throws(PowerCollectError) {
        self.root = root
        self.domains = domains
        self.pool = pool
        self.cores = max(1, cores)
        self.events = events
        self.sensor = sensor
        self.voltage = voltage
        self.registry = registry
        self.permissions = permissions
        self.system = system
        let tids = UnsafeMutableBufferPointer<pid_t>.allocate(capacity: pool.count)
        defer { tids.deallocate() }
        pool.run { t in tids[t] = ThreadID.current() }
        sets = tids.map { tid in
            CounterSet(events: events, options: CounterOptions(target: .thread(tid), permissions: permissions), registry: registry, system: system)
        }
        for (i, e) in events.enumerated() {
            // An event missing on one thread would make its rate a part of the threads' counts.
            if let (t, failure) = sets.enumerated().lazy.compactMap({ t, set in set.failures[i].map { (t, $0) } }).first {
                for s in sets { s.close() }
                throw PowerCollectError("event \(e.name) cannot be counted on pool thread \(t) of \(sets.count): \(failure.description)")
            }
        }
        if sets.contains(where: { !$0.splits.isEmpty }) {
            passes = LayerProfiler.passes(groups: sets[0].memberIndex, isSoftware: { events[$0].type == .software })
        } else {
            passes = [Array(events.indices)]
        }
    }

    deinit { for s in sets { s.close() } }

    /// Collects the plan's rows, workload by workload (each set up once) and frequency by
    /// frequency. `row` gets each row as soon as it is measured (write it out at once);
    /// `progress` gets (rows done, rows in all, the workload and MHz about to run).
    /// - Returns: the rows, also when stopped early (`stopped` is then true).
    /// - Throws: `DVFSError` when a frequency cannot be pinned or a voltage read, `PowerCollectError`
    ///   when a counter cannot be enabled or read (the pins are
    ///   restored first), or the error `row` throws.
    public func collect(_ plan: PowerCollectPlan, row: (PowerCollectRow) throws -> Void = { _ in },
                        progress: (Int, Int, Workload, Double) -> Void = { _, _, _, _ in },
                        shouldStop: () -> Bool = { false }) throws -> (rows: [PowerCollectRow], stopped: Bool) {
        var rows: [PowerCollectRow] = []
        let total = plan.workloads.count * plan.frequenciesKHz.count
        for workload in plan.workloads {
            if shouldStop() { return (rows, true) }
            let runner = Workload.Runner(workload, pool: pool)
            for khz in plan.frequenciesKHz {
                if shouldStop() { return (rows, true) }
                progress(rows.count, total, workload, Double(khz) / 1000)
                var pins: [FrequencyPin] = []
                defer { for p in pins.reversed() { try? p.restore() } }
                for d in domains { pins.append(try FrequencyPin(root: root, domain: d, targetKHz: khz)) }
                if plan.settleSeconds > 0 { usleep(UInt32(min(plan.settleSeconds, 60) * 1e6)) }
                guard let r = try measure(runner, mhz: Double(khz) / 1000, seconds: plan.seconds, shouldStop: shouldStop) else {
                    return (rows, true)
                }
                for p in pins.reversed() { try p.restore() }
                pins.removeAll()
                rows.append(r)
                try row(r)
            }
        }
        return (rows, false)
    }

    /// One row: each pass runs the workload for `seconds` with its events counted and the sensor
    /// sampled. nil when stopped in the middle.
    func measure(_ runner: Workload.Runner, mhz: Double, seconds: Double, shouldStop: () -> Bool) throws -> PowerCollectRow? {
        var rates = [Double](repeating: 0, count: events.count)
        var joules = 0.0, time = 0.0, units = 0
        var volts: [Double] = [], freqs: [Double] = []
        let sampler = EnergySampler(root: root, sensors: [sensor])
        let domainDir = domains.first.map(FrequencyPin.directory(of:))
        func readFreq() { if let d = domainDir, let khz = root.readInt("\(d)/scaling_cur_freq") { freqs.append(Double(khz) / 1000) } }
        func readVolts() throws(DVFSError) { volts.append(try voltage.volts(atMHz: mhz, root: root)) }
        for pass in passes {
            do { for s in sets { try s.reset() } } catch { throw PowerCollectError("resetting the counters failed: \(error.description)") }
            readFreq()
            try readVolts()
            sampler.start()
            do { for s in sets { try s.enable() } } catch { throw PowerCollectError("enabling the counters failed: \(error.description)") }
            let done = runner.run(seconds: seconds, shouldStop: shouldStop)
            for s in sets { try? s.disable() }
            let energy = sampler.stop()
            try readVolts()
            readFreq()
            if shouldStop() { return nil }
            let readings = sets.map { $0.read() }
            for e in pass {
                // A reading without a value (a failed read, never on a counter) stops the row: it is
                // never summed as 0. A thread that never ran while counting (an idle pool thread)
                // did count nothing.
                var sum = 0.0
                for (t, r) in readings.enumerated() {
                    guard let v = r[e].value ?? (r[e].neverEnabled ? 0 : nil) else {
                        throw PowerCollectError("\(events[e].name) gave no value on pool thread \(t) (\(r[e].description)); the row is not written")
                    }
                    sum += v
                }
                rates[e] = sum / done.seconds / Double(cores)
            }
            joules += (energy.first?.meanWatts ?? .nan) * done.seconds
            time += done.seconds
            units += done.units
        }
        guard joules.isFinite else {
            throw DVFSError(file: root.absolute(sensor.path), problem: "fewer than two power readings in \(String(format: "%.2f", time)) s: lengthen --seconds")
        }
        return PowerCollectRow(workload: runner.workload.description, freqMHz: mhz,
                               freqReadMHz: freqs.isEmpty ? nil : freqs.reduce(0, +) / Double(freqs.count),
                               voltageV: volts.reduce(0, +) / Double(volts.count), powerW: joules / time,
                               seconds: time, units: units, rates: rates)
    }
}
