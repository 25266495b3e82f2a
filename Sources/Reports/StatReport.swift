import Counters
import Foundation
import LinuxSystem
import Platform

/// How an event fared over the runs; the raw values are what `stat --json` writes.
public enum StatStatus: String, Codable, Sendable {
    /// On a counter the whole time in every run.
    case counted
    /// Shared the PMU's counters in some run: the value is scaled.
    case multiplexed
    /// Opened but never on a counter (or never ran where it counts): no value.
    case notCounted = "not_counted"
    /// Could not be opened: no value.
    case notSupported = "not_supported"
}

/// The counts of one `socprof stat` invocation (one or more runs), and its three renderings.
public struct StatReport {
    /// One event's figures over the runs.
    public struct Row {
        public let event: ResolvedEvent
        /// Mean over the runs in which it was counted, in the event's unit after `.scale`; nil when
        /// it was never counted.
        public let mean: Double?
        /// Relative standard error of the mean in percent (perf's "+- x%"); nil for one run.
        public let stddevPercent: Double?
        /// Mean percentage of enabled time the event was on a counter; nil when never counted.
        public let runningPercent: Double?
        public let timeEnabled: UInt64
        public let timeRunning: UInt64
        public let raw: UInt64?
        public let status: StatStatus
        /// Why it has no value, and the fix.
        public let reason: String?
        public let counterError: CounterError?
        /// Counted only while the command ran on this PMU's CPUs (not scaled).
        public let clusterShare: Bool
        /// Mean time running over the runs, ns.
        public let meanTimeRunning: Double
    }

    public let command: [String]
    public let runs: [StatRun]
    public let requestedRepeats: Int
    public let rows: [Row]
    public let energy: EnergyReport?

    /// Events the user gave no `:u`/`:k` that are counted in user space only, because unprivileged
    /// kernel counting is refused at this perf_event_paranoid (perf does the same, as `name:u`).
    public let userSpaceOnly: (events: [String], why: String)?

    public init(command: [String], runs: [StatRun], requestedRepeats: Int, energy: EnergyReport? = nil,
         userSpaceOnly: (events: [String], why: String)? = nil) {
        self.userSpaceOnly = userSpaceOnly
        self.command = command
        self.runs = runs
        self.requestedRepeats = requestedRepeats
        self.energy = energy
        let n = runs.first?.readings.count ?? 0
        rows = (0..<n).map { i in Self.row(runs.map { $0.readings[i] }) }
    }

    public static func row(_ readings: [Reading]) -> Row {
        let event = readings[0].event
        let values = readings.compactMap(\.value)
        var status = StatStatus.counted
        var reason: String? = nil
        var error: CounterError? = nil
        for r in readings {
            switch r.status {
            case .notSupported(let e):
                status = .notSupported; reason = e.explanation; error = e
            case .notCounted where status != .notSupported:
                status = .notCounted
                reason = "the event was opened but never scheduled onto a counter (the PMU was busy or the command never ran on a CPU it covers)"
            case .multiplexed where status == .counted:
                status = .multiplexed
            default: break
            }
        }
        var mean: Double? = nil
        var stddev: Double? = nil
        if !values.isEmpty && values.count == readings.count {
            mean = Statistics.mean(values)
            stddev = Statistics.relativeStandardErrorPercent(values)
        }
        let running = readings.compactMap(\.runningPercent)
        return Row(event: event, mean: mean, stddevPercent: stddev,
                   runningPercent: running.count == readings.count && !running.isEmpty ? running.reduce(0, +) / Double(running.count) : nil,
                   timeEnabled: readings.last!.timeEnabled, timeRunning: readings.last!.timeRunning,
                   raw: readings.last!.raw, status: mean == nil && status == .counted ? .notCounted : status,
                   reason: reason, counterError: error, clusterShare: readings.contains(where: \.isClusterShare),
                   meanTimeRunning: readings.map { Double($0.timeRunning) }.reduce(0, +) / Double(readings.count))
    }

    var meanElapsed: Double { runs.isEmpty ? 0 : runs.map { Double($0.elapsedNanoseconds) }.reduce(0, +) / Double(runs.count) }

    /// Display value and unit: the clock events in msec, as perf prints them.
    static func display(_ row: Row) -> (value: String, unit: String) {
        guard let mean = row.mean else {
            return (row.status == .notSupported ? "<not supported>" : "<not counted>", "")
        }
        if row.event.unit == "ns" { return (String(format: "%.2f", mean / 1e6), "msec") }
        if let unit = row.event.unit { return (String(format: "%.2f", mean), unit) }
        return (String(format: "%.0f", mean), "")
    }

    /// The row counting the generic event `generic` on the same PMU as `row`, with a value.
    func sibling(of row: Row, generic: String) -> Row? {
        rows.first { $0.event.generic == generic && $0.event.pmuName == row.event.pmuName && $0.mean != nil }
    }

    /// perf's shadow metric for a row: CPUs utilized for the clocks, GHz for cycles, insn per
    /// cycle, % of all branches, frontend/backend cycles idle, else a rate per task-clock second.
    public func metric(_ row: Row) -> (value: String, unit: String)? {
        guard let mean = row.mean else { return nil }
        let taskClock = rows.first { $0.event.unit == "ns" && $0.mean != nil }?.mean
        if row.event.unit == "ns" {
            guard meanElapsed > 0 else { return nil }
            return (String(format: "%.3f", mean / meanElapsed), "CPUs utilized")
        }
        switch row.event.generic {
        case "cycles":
            if let t = taskClock, t > 0 { return (String(format: "%.3f", mean / t), "GHz") }
        case "instructions":
            if let c = sibling(of: row, generic: "cycles")?.mean, c > 0 { return (String(format: "%.2f", mean / c), "insn per cycle") }
        case "branch-misses":
            if let b = sibling(of: row, generic: "branches")?.mean, b > 0 { return (String(format: "%.2f%%", 100 * mean / b), "of all branches") }
        case "stalled-cycles-frontend", "stalled-cycles-backend":
            if let c = sibling(of: row, generic: "cycles")?.mean, c > 0 {
                return (String(format: "%.2f%%", 100 * mean / c), row.event.generic == "stalled-cycles-frontend" ? "frontend cycles idle" : "backend cycles idle")
            }
        default: break
        }
        guard row.event.unit == nil, let seconds = (taskClock ?? meanElapsed).nonZero.map({ $0 / 1e9 }) else { return nil }
        let rate = mean / seconds
        let (scaled, prefix): (Double, String) = rate >= 1e9 ? (rate / 1e9, "G") : rate >= 1e6 ? (rate / 1e6, "M") : rate >= 1e3 ? (rate / 1e3, "K") : (rate, "")
        return (String(format: "%.3f", scaled), "\(prefix)/sec")
    }

    var commandText: String { command.joined(separator: " ") }

    var notes: [String] {
        var out: [String] = []
        // One note per distinct reason, naming every event it applies to.
        var order: [String] = []
        var names: [String: [String]] = [:]
        for row in rows where row.reason != nil {
            let key = "\(row.status == .notSupported ? "not supported" : "not counted"): \(row.reason!)"
            if names[key] == nil { order.append(key) }
            names[key, default: []].append(row.event.name)
        }
        for key in order {
            // An event given many times is named once, with its count ("task-clock (x207)").
            var seen: [String] = []
            var count: [String: Int] = [:]
            for n in names[key]! {
                if count[n] == nil { seen.append(n) }
                count[n, default: 0] += 1
            }
            out.append("\(seen.map { count[$0]! > 1 ? "\($0) (x\(count[$0]!))" : $0 }.joined(separator: ", ")): \(key)")
        }
        if let u = userSpaceOnly, !u.events.isEmpty {
            out.append("\(u.events.joined(separator: ", ")): counted in user space only (as with :u): \(u.why)")
        }
        var splits: [String: Int] = [:]
        for r in runs { for (k, v) in r.splits { splits[k] = max(splits[k] ?? 0, v) } }
        for (pmu, n) in splits.sorted(by: { $0.key < $1.key }) {
            out.append(pmu == "software"
                       ? "the software events were split into \(n) groups (a group's read would have exceeded the kernel's limit); software events count all the time, so nothing is scaled"
                       : "the events on \(pmu) did not fit on its counters at once and were split into \(n) groups; the groups took turns (see the running percentages; values are scaled)")
        }
        if runs.count < requestedRepeats {
            out.append("stopped after \(runs.count) of \(requestedRepeats) runs: the command was interrupted")
        }
        return out
    }

    /// The perf-style table.
    public func table() -> String {
        var s = "\n Performance counter stats for '\(commandText)'"
        s += runs.count > 1 ? " (\(runs.count) runs):\n\n" : ":\n\n"
        for row in rows {
            let (value, unit) = Self.display(row)
            var line = value.leftPad(18) + " " + unit.rightPad(6) + " " + row.event.name.rightPad(32)
            if let m = metric(row) {
                line += " # " + m.value.leftPad(8) + " " + m.unit.rightPad(20)
            } else {
                line += String(repeating: " ", count: 33)
            }
            if let sd = row.stddevPercent { line += String(format: "  ( +- %5.2f%% )", sd) }
            if let p = row.runningPercent, p < 99.995 {
                line += row.clusterShare ? String(format: "  (on these CPUs %.2f%% of the time)", p) : String(format: "  (%.2f%%)", p)
            }
            s += line.trimmingTrailingSpaces() + "\n"
        }
        s += "\n" + String(format: "%.9f", meanElapsed / 1e9).leftPad(18) + " seconds time elapsed"
        if runs.count > 1 {
            s += String(format: "  ( +- %.2f%% )", Statistics.relativeStandardErrorPercent(runs.map { Double($0.elapsedNanoseconds) }) ?? 0)
        }
        s += "\n\n"
        let user = runs.map { Double($0.userNanoseconds) }.reduce(0, +) / Double(max(1, runs.count))
        let sys = runs.map { Double($0.systemNanoseconds) }.reduce(0, +) / Double(max(1, runs.count))
        s += String(format: "%.9f", user / 1e9).leftPad(18) + " seconds user\n"
        s += String(format: "%.9f", sys / 1e9).leftPad(18) + " seconds sys\n"
        if let energy {
            s += "\n"
            for e in energy.perSensor() {
                var line = String(format: "%.3f", e.joules).leftPad(18) + " J      " + e.sensor
                if let w = e.watts { line += String(format: "  # %.3f W", w) }
                if let idle = e.idleWatts { line += String(format: ", idle %.3f W, above idle %.3f J", idle, e.joules - idle * e.seconds) }
                s += line + "\n"
            }
            if let j = energy.meanLogJoules {
                s += String(format: "%.3f", j).leftPad(18) + " J      external meter (--power-log)\n"
            }
        }
        let notes = self.notes + (energy?.allNotes ?? [])
        if !notes.isEmpty {
            s += "\n" + notes.map { " note: \($0)" }.joined(separator: "\n") + "\n"
        }
        if let last = runs.last, case .signaled = last.termination {
            s += " note: the command was \(last.termination)\n"
        }
        return s + "\n"
    }

    /// perf's CSV layout (`-x SEP`): value, unit, event, [stddev%,] run time (ns), running %,
    /// metric value, metric unit. Not-counted events carry perf's `<not supported>`/`<not counted>`.
    public func csv(separator sep: String) -> String {
        var s = ""
        for row in rows {
            let (value, unit) = Self.display(row)
            var fields = [value, unit, row.event.name]
            if runs.count > 1 { fields.append(row.stddevPercent.map { String(format: "%.2f%%", $0) } ?? "") }
            fields.append(row.mean == nil ? "0" : String(format: "%.0f", row.meanTimeRunning))
            fields.append(row.runningPercent.map { String(format: "%.2f", $0) } ?? "0.00")
            let m = metric(row)
            fields.append(m?.value ?? "")
            fields.append(m?.unit ?? "")
            s += fields.joined(separator: sep) + "\n"
        }
        return s
    }

    /// The JSON document described in docs/stat.md; `version` is socprof's.
    public func json(version: String) throws -> String {
        struct Event: Encodable {
            let name: String
            let pmu: String?
            let type: UInt32
            let config: String
            let status: StatStatus
            let value: Double?
            let unit: String?
            let raw: UInt64?
            let stddev_percent: Double?
            let time_enabled_ns: UInt64
            let time_running_ns: UInt64
            let running_percent: Double?
            let reason: String?
            let errno: String?
            let cluster_share: Bool

            enum CodingKeys: String, CodingKey {
                case name, pmu, type, config, status, value, unit, raw, stddev_percent, time_enabled_ns,
                     time_running_ns, running_percent, reason, errno, cluster_share
            }

            // Missing figures are written as null, never left out (and never 0).
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(name, forKey: .name)
                try c.encode(pmu, forKey: .pmu)
                try c.encode(type, forKey: .type)
                try c.encode(config, forKey: .config)
                try c.encode(status, forKey: .status)
                try c.encode(value, forKey: .value)
                try c.encode(unit, forKey: .unit)
                try c.encode(raw, forKey: .raw)
                try c.encode(stddev_percent, forKey: .stddev_percent)
                try c.encode(time_enabled_ns, forKey: .time_enabled_ns)
                try c.encode(time_running_ns, forKey: .time_running_ns)
                try c.encode(running_percent, forKey: .running_percent)
                try c.encode(reason, forKey: .reason)
                try c.encode(errno, forKey: .errno)
                try c.encode(cluster_share, forKey: .cluster_share)
            }
        }
        struct Document: Encodable {
            let schema = "socprof.stat"
            let schema_version = 1
            let socprof_version: String
            public let command: [String]
            let runs: Int
            let exit_status: Int32
            let elapsed_ns: Double
            let user_ns: Double
            let system_ns: Double
            let events: [Event]
            let energy: [EnergyReport.Entry]?
            let meter_joules: Double?
            let notes: [String]
        }
        let doc = Document(
            socprof_version: version, command: command, runs: runs.count, exit_status: runs.last?.termination.shellStatus ?? 0,
            elapsed_ns: meanElapsed,
            user_ns: runs.map { Double($0.userNanoseconds) }.reduce(0, +) / Double(max(1, runs.count)),
            system_ns: runs.map { Double($0.systemNanoseconds) }.reduce(0, +) / Double(max(1, runs.count)),
            events: rows.map { r in
                Event(name: r.event.name, pmu: r.event.pmuName, type: r.event.type.rawValue,
                      config: "0x" + String(r.event.config, radix: 16), status: r.status, value: r.mean,
                      unit: r.event.unit, raw: r.raw, stddev_percent: r.stddevPercent,
                      time_enabled_ns: r.timeEnabled, time_running_ns: r.timeRunning,
                      running_percent: r.runningPercent, reason: r.reason,
                      errno: r.counterError?.errno.map(\.name), cluster_share: r.clusterShare)
            },
            energy: energy?.perSensor(), meter_joules: energy?.meanLogJoules,
            notes: notes + (energy?.allNotes ?? []))
        let enc = ReportJSON.encoder()
        return String(decoding: try enc.encode(doc), as: UTF8.self) + "\n"
    }
}

extension Double {
    var nonZero: Double? { self == 0 ? nil : self }
}

/// Energy measured around the counted command (`stat --energy`, `--power-log`).
public struct EnergyReport {
    /// Idle power measured before the first run.
    public var idle: [SensorEnergy] = []
    /// Each run's energy per sensor.
    public var runs: [[SensorEnergy]] = []
    /// Each run's wall-clock window (Unix s), for the external meter.
    public var windows: [(Double, Double)] = []
    /// The meter's energy per run, J.
    public var logJoules: [Double?] = []
    public var notes: [String] = []

    public init() {}

    /// One sensor's figures, means over runs.
    public struct Entry: Encodable {
        public let sensor: String
        public let rail: String?
        public let cluster: String?
        /// Mean energy per run, J.
        public let joules: Double
        /// Mean power during the runs, W.
        public let watts: Double?
        /// Mean run length, s.
        public let seconds: Double
        /// Idle power before the runs, W (null without a baseline).
        public let idleWatts: Double?
        /// Energy above the idle baseline, J (null without one).
        public let joulesAboveIdle: Double?

        enum CodingKeys: String, CodingKey { case sensor, rail, cluster, joules, watts, seconds, idleWatts, joulesAboveIdle }

        // Missing figures are null, never left out.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(sensor, forKey: .sensor)
            try c.encode(rail, forKey: .rail)
            try c.encode(cluster, forKey: .cluster)
            try c.encode(joules, forKey: .joules)
            try c.encode(watts, forKey: .watts)
            try c.encode(seconds, forKey: .seconds)
            try c.encode(idleWatts, forKey: .idleWatts)
            try c.encode(joulesAboveIdle, forKey: .joulesAboveIdle)
        }
    }

    /// Sensors that gave fewer than two readings in some run.
    var unreadSensors: [String] {
        guard let first = runs.first else { return [] }
        return first.indices.filter { i in runs.contains { $0[i].joules == nil } }.map { i in first[i].sensor }
    }

    public func perSensor() -> [Entry] {
        guard let first = runs.first else { return [] }
        return first.indices.compactMap { i in
            let vals = runs.compactMap { $0[i].joules }
            guard vals.count == runs.count, !vals.isEmpty else { return nil }
            let j = vals.reduce(0, +) / Double(vals.count)
            let secs = runs.map { $0[i].seconds }.reduce(0, +) / Double(runs.count)
            let idleW = idle.count > i ? idle[i].meanWatts : nil
            return Entry(sensor: first[i].sensor, rail: first[i].rail, cluster: first[i].cluster, joules: j,
                         watts: secs > 0 ? j / secs : nil, seconds: secs, idleWatts: idleW,
                         joulesAboveIdle: idleW.map { j - $0 * secs })
        }
    }

    public var allNotes: [String] {
        notes + unreadSensors.map { "\($0): fewer than two readings in a run; no energy (the run may be shorter than the sampling period)" }
            + runs.flatMap { $0.compactMap(\.droppedNote) }
    }

    public var meanLogJoules: Double? {
        let v = logJoules.compactMap { $0 }
        return v.isEmpty || v.count != logJoules.count ? nil : v.reduce(0, +) / Double(v.count)
    }
}
