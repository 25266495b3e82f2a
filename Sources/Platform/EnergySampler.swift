import Counters
import Foundation
import LinuxSystem

/// Energy of one sensor over one interval.
public struct SensorEnergy: Sendable, Codable {
    /// The sensor.
    public let sensor: String
    /// Its rail and cluster, if known.
    public let rail: String?
    public let cluster: String?
    /// Energy over the interval, J (mean power over the readings times the interval's length);
    /// nil when fewer than two readings were taken.
    public let joules: Double?
    /// Mean power, W; nil as above.
    public let meanWatts: Double?
    /// Readings used.
    public let samples: Int
    /// Length of the interval, s.
    public let seconds: Double
    /// Readings dropped because they were no valid reading (NaN, infinite, negative, not a
    /// number), and the first of them as read.
    public var dropped: Int = 0
    public var droppedExample: String? = nil

    /// "sensor: 3 readings dropped (read 'nan'): NaN, infinite, negative or not a number", or nil.
    public var droppedNote: String? {
        guard dropped > 0 else { return nil }
        return "\(sensor): \(dropped) reading(s) dropped (read '\(droppedExample ?? "?")'): NaN, infinite, negative or not a number; "
            + (samples >= 2 ? "its energy is from its \(samples) valid readings" : "too few valid readings, so no energy from it")
    }
}

/// Samples power sensors on a thread and integrates energy over an interval: power sensors
/// (W) by the trapezoid rule over timestamped readings, energy counters (J) as the difference of
/// the first and last readings, allowing for wraparound.
// Sendable: the readings (`samples`, the drop counts) are guarded by `lock`; the sampling thread is
// started and joined by `start` and `stop` on the owner's thread.
public final class EnergySampler: @unchecked Sendable {
    public let root: SystemRoot
    public let sensors: [PowerSensor]
    /// Time between readings, ns.
    public let periodNanoseconds: UInt64

    private let lock = NSLock()
    private var samples: [[(t: UInt64, v: Double)]]
    /// Per sensor: readings that were no valid reading, and the first as read.
    private var invalid: [(count: Int, example: String?)]
    private var running = false
    private var done = DispatchSemaphore(value: 0)
    private var window: (start: UInt64, end: UInt64) = (0, 0)
    /// The last interval in Unix time (s), to integrate an external meter's log over the same one.
    public private(set) var wallWindow: (Double, Double) = (0, 0)

    public init(root: SystemRoot, sensors: [PowerSensor], periodNanoseconds: UInt64 = 10_000_000) {
        self.root = root
        self.sensors = sensors
        self.periodNanoseconds = max(1_000_000, periodNanoseconds)
        self.samples = Array(repeating: [], count: sensors.count)
        self.invalid = Array(repeating: (0, nil), count: sensors.count)
    }

    /// Reads every sensor; invalid readings are counted (call with `lock` held for `record`).
    private func readAll() -> [PowerSensor.Reading] { sensors.map { $0.reading(root: root) } }

    /// Keeps the valid readings at `t` and counts the invalid ones; `lock` must be held.
    private func record(_ readings: [PowerSensor.Reading], at t: UInt64) {
        for (i, r) in readings.enumerated() {
            switch r {
            case .value(let v): samples[i].append((t, v))
            case .invalid(let text):
                invalid[i].count += 1
                if invalid[i].example == nil { invalid[i].example = text }
            case .unreadable: break
            }
        }
    }

    /// The clock readings are stamped with: DispatchTime's uptime, ns.
    public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Enables INA231 sensors and starts sampling. Returns problems enabling sensors.
    @discardableResult
    public func start() -> [String] {
        let problems = sensors.compactMap { $0.enable(root: root) }
        lock.lock()
        samples = Array(repeating: [], count: sensors.count)
        invalid = Array(repeating: (0, nil), count: sensors.count)
        running = true
        // The wall-clock start is stamped beside the monotonic one, and the wall window's end is
        // its start plus the monotonic length: sensors and meter integrate over one interval.
        wallWindow.0 = Date().timeIntervalSince1970
        window.start = Self.now()
        // A first reading now, so that the interval is covered from its start.
        record(readAll(), at: window.start)
        lock.unlock()
        done = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            while true {
                let t = Self.now()
                let values = readAll()
                lock.lock()
                record(values, at: t)
                let go = running
                lock.unlock()
                if !go { break }
                let elapsed = Self.now() - t
                if elapsed < periodNanoseconds { usleep(UInt32((periodNanoseconds - elapsed) / 1000)) }
            }
            done.signal()
        }
        thread.name = "socprof-energy"
        thread.start()
        return problems
    }

    /// Stops sampling (after one last reading) and returns each sensor's energy since `start()`.
    public func stop() -> [SensorEnergy] {
        lock.lock()
        running = false
        window.end = Self.now()
        wallWindow.1 = wallWindow.0 + Double(window.end - window.start) / 1e9
        lock.unlock()
        done.wait()
        lock.lock(); defer { lock.unlock() }
        // A last reading now, so that the interval is covered to its end.
        let t = Self.now()
        record(readAll(), at: t)
        let seconds = Double(window.end - window.start) / 1e9
        return sensors.enumerated().map { i, s in
            let j = s.measuresEnergy ? Self.energyDifference(samples[i].map(\.v), wrapJoules: s.wrapMicrojoules.map { Double($0) / 1e6 })
                                     : Self.trapezoid(samples[i])
            // The readings span from the first to the last sample, which can start late and end
            // up to one period after stop(): report the mean power over that span times the
            // interval's own length.
            let span = samples[i].count >= 2 ? Double(samples[i].last!.t - samples[i].first!.t) / 1e9 : 0
            let watts = j.flatMap { span > 0 ? $0 / span : nil }
            var e = SensorEnergy(sensor: s.label, rail: s.rail, cluster: s.cluster, joules: watts.map { $0 * seconds },
                                 meanWatts: watts, samples: samples[i].count, seconds: seconds)
            e.dropped = invalid[i].count
            e.droppedExample = invalid[i].example
            return e
        }
    }

    /// ∫P dt over timestamped power readings (ns, W), in J; nil with fewer than two readings.
    public static func trapezoid(_ s: [(t: UInt64, v: Double)]) -> Double? {
        guard s.count >= 2 else { return nil }
        var j = 0.0
        for k in 1..<s.count { j += (s[k].v + s[k - 1].v) / 2 * Double(s[k].t - s[k - 1].t) / 1e9 }
        return j
    }

    /// Energy between the first and last cumulative readings (J); a reading lower than the one
    /// before is a wraparound at `wrapJoules`. nil with fewer than two readings, or a decrease
    /// with no known wrap value.
    public static func energyDifference(_ values: [Double], wrapJoules: Double?) -> Double? {
        guard values.count >= 2 else { return nil }
        var j = 0.0
        for k in 1..<values.count {
            let d = values[k] - values[k - 1]
            if d >= 0 { j += d } else {
                guard let wrap = wrapJoules, wrap > 0 else { return nil }
                j += d + wrap
            }
        }
        return j
    }

    /// Energy of sensor `index` between two instants (ns on DispatchTime's clock), J, from the
    /// readings of the last `start()`/`stop()`: power sensors by the trapezoid rule with the ends
    /// interpolated, energy counters as the interpolated difference. nil when the readings do not
    /// cover the interval.
    public func joules(sensor index: Int, from t0: UInt64, to t1: UInt64) -> Double? {
        lock.lock(); defer { lock.unlock() }
        return Self.joules(samples[index], measuresEnergy: sensors[index].measuresEnergy,
                           wrapJoules: sensors[index].wrapMicrojoules.map { Double($0) / 1e6 }, from: t0, to: t1)
    }

    /// Energy between two instants (ns) from one sensor's timestamped readings (ns, W or J): power
    /// readings by the trapezoid rule with the ends interpolated, cumulative energy readings as the
    /// interpolated difference (a reading below the one before is a wrap at `wrapJoules`). nil when
    /// the readings do not cover the interval, or a counter wraps with no known wrap value.
    public static func joules(_ readings: [(t: UInt64, v: Double)], measuresEnergy: Bool, wrapJoules: Double?,
                              from t0: UInt64, to t1: UInt64) -> Double? {
        var s = readings
        guard t1 > t0, s.count >= 2, s[0].t <= t0, s[s.count - 1].t >= t1 else { return nil }
        if measuresEnergy {
            // Unwrap the cumulative counter into a running total first.
            var offset = 0.0
            var previous = s[0].v
            for k in s.indices {
                let raw = s[k].v
                if raw < previous { guard let wrapJoules else { return nil }; offset += wrapJoules }
                previous = raw
                s[k].v = raw + offset
            }
        }
        // First sample at or after t (binary search: these are called for every layer).
        func firstAtOrAfter(_ t: UInt64) -> Int {
            var lo = 0, hi = s.count
            while lo < hi { let mid = (lo + hi) / 2; if s[mid].t < t { lo = mid + 1 } else { hi = mid } }
            return lo
        }
        func value(at t: UInt64) -> Double {
            let k = firstAtOrAfter(t)
            if k >= s.count { return s[s.count - 1].v }
            if k == 0 || s[k].t == t { return s[k].v }
            let a = s[k - 1], b = s[k]
            return a.v + (b.v - a.v) * Double(t - a.t) / Double(b.t - a.t)
        }
        if measuresEnergy { return value(at: t1) - value(at: t0) }
        var pts: [(t: UInt64, v: Double)] = [(t0, value(at: t0))]
        var k = firstAtOrAfter(t0)
        while k < s.count && s[k].t < t1 { if s[k].t > t0 { pts.append(s[k]) }; k += 1 }
        pts.append((t1, value(at: t1)))
        return trapezoid(pts)
    }

    /// Measures the idle power for `seconds` before a run (the baseline energy-efficiency figures
    /// subtract): the mean W of each sensor.
    public func idleBaseline(seconds: Double) -> [SensorEnergy] {
        start()
        usleep(UInt32(max(0.01, seconds) * 1e6))
        return stop()
    }
}

/// A power log written by an external meter: CSV lines `timestamp,watts` (Unix time in seconds,
/// fractional allowed; a header line and `#` comments are skipped).
public struct PowerLog: Sendable {
    /// Readings, ascending by time (s, W).
    public let points: [(t: Double, w: Double)]

    /// Parses a log. Throws `DataFileError` naming the line of a malformed entry.
    public init(csv: String, file: String) throws(DataFileError) {
        var pts: [(Double, Double)] = []
        for (n, raw) in csv.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 2, let t = Double(f[0]), let w = Double(f[1]) else {
                if n == 0 { continue } // header
                throw DataFileError(file: file, place: "line \(n + 1)", problem: "expected timestamp,watts, found '\(line)'")
            }
            guard w >= 0, w.isFinite else { throw DataFileError(file: file, place: "line \(n + 1)", problem: "power \(f[1]) W is not a non-negative number") }
            pts.append((t, w))
        }
        points = pts.sorted { $0.0 < $1.0 }
    }

    /// Energy between two Unix times (s), J, by the trapezoid rule with the readings at the ends
    /// interpolated; nil when the log does not cover the interval.
    public func joules(from t0: Double, to t1: Double) -> Double? {
        guard t1 > t0, let first = points.first, let last = points.last, first.t <= t0, last.t >= t1 else { return nil }
        func at(_ t: Double) -> Double {
            guard let k = points.firstIndex(where: { $0.t >= t }) else { return last.w }
            if k == 0 || points[k].t == t { return points[k].w }
            let a = points[k - 1], b = points[k]
            return a.w + (b.w - a.w) * (t - a.t) / (b.t - a.t)
        }
        var pts: [(t: Double, w: Double)] = [(t0, at(t0))]
        pts += points.filter { $0.t > t0 && $0.t < t1 }
        pts.append((t1, at(t1)))
        var j = 0.0
        for k in 1..<pts.count { j += (pts[k].w + pts[k - 1].w) / 2 * (pts[k].t - pts[k - 1].t) }
        return j
    }
}
