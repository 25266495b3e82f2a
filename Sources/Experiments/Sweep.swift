import Counters
import Foundation
import Kernels
import LinuxSystem
import Networks
import Platform

/// One column of a sweep: a unit, at a frequency (pinned) or as it is.
public struct SweepColumnPlan: Sendable {
    public let unit: ComputeUnit
    /// The frequency to pin its policies to for its cells, kHz; nil leaves them.
    public let pinKHz: Int64?
    /// The column's name: the unit's, with "@MHz" when several frequencies are swept.
    public let name: String

    public init(unit: ComputeUnit, pinKHz: Int64?, name: String? = nil) {
        self.unit = unit
        self.pinKHz = pinKHz
        self.name = name ?? unit.name
    }
}

/// What a sweep was asked to do; a resumed sweep must be asked the same.
public struct SweepSettings: Sendable, Codable, Equatable {
    public var networks: [String]
    public var columns: [String]
    /// "max", "current", or the MHz list.
    public var frequency: String
    /// "all" or a number.
    public var threads: String
    public var repeats: Int
    public var warmup: Int
    /// Idle power measured per column before its cells, s (0: none).
    public var idleSeconds: Double
    /// The precision every network runs in (`Network.quantized`); nil for fp32, so that sweeps
    /// started before precisions existed resume with the same settings.
    public var precision: Precision?

    /// The precision, fp32 when none was given.
    public var networkPrecision: Precision { precision ?? .fp32 }

    public init(networks: [String], columns: [String], frequency: String, threads: String, repeats: Int, warmup: Int, idleSeconds: Double,
                precision: Precision = .fp32) {
        self.precision = precision == .fp32 ? nil : precision
        self.networks = networks
        self.columns = columns
        self.frequency = frequency
        self.threads = threads
        self.repeats = repeats
        self.warmup = warmup
        self.idleSeconds = idleSeconds
    }
}

/// One network on one column: its figures, or why it failed.
public struct SweepCell: Sendable, Codable, Equatable {
    public let network: String
    public let column: String
    /// "ok" or "failed".
    public let status: String
    public let error: String?
    public let figures: ThroughputFigures?
    /// Where the figures came from, in words: images, threads, CPUs, frequency, sensors.
    public let provenance: String
    /// When it finished (ISO 8601).
    public let finished: String

    public var ok: Bool { status == "ok" }

    public static func failed(network: String, column: String, error: String) -> SweepCell {
        SweepCell(network: network, column: column, status: "failed", error: error, figures: nil, provenance: "", finished: ISO8601DateFormatter().string(from: Date()))
    }
}

/// A column as the report describes it.
public struct SweepColumn: Sendable, Codable, Equatable {
    public let name: String
    public let cpus: String
    public let threads: Int
    public let core: String?
    /// The frequency pinned for its cells, MHz; nil when left as it was.
    public let pinned_mhz: Double?
    /// The governor found (for `--frequency current`).
    public let governor: String?
    /// The sensors summed for its energy, and whether they measure only its cluster.
    public let sensors: [String]
    public let sensors_are_own: Bool
    /// The idle power measured before its cells, W.
    public let idle_watts: Double?

    public init(name: String, cpus: String, threads: Int, core: String?, pinned_mhz: Double?, governor: String?, sensors: [String],
                sensors_are_own: Bool, idle_watts: Double?) {
        self.name = name
        self.cpus = cpus
        self.threads = threads
        self.core = core
        self.pinned_mhz = pinned_mhz
        self.governor = governor
        self.sensors = sensors
        self.sensors_are_own = sensors_are_own
        self.idle_watts = idle_watts
    }
}

/// The sweep's results in the study's Table I layout: a row per network, a column per unit.
public struct SweepReport: Sendable, Codable {
    public struct Row: Sendable, Codable {
        public let network: String
        /// Column name to cell; a column with no entry was not run (stopped).
        public let cells: [String: SweepCell]
    }
    public var schema = "socprof.sweep"
    public var schema_version = 1
    public let board: String
    public let started: String
    public let settings: SweepSettings
    public let columns: [SweepColumn]
    public let rows: [Row]
    public let notes: [String]
    /// true when the sweep was stopped before every cell ran.
    public let incomplete: Bool

    public init(board: String, started: String, settings: SweepSettings, columns: [SweepColumn], cells: [SweepCell], notes: [String]) {
        self.board = board
        self.started = started
        self.settings = settings
        self.columns = columns
        self.rows = settings.networks.map { n in
            Row(network: n, cells: Dictionary(cells.filter { $0.network == n }.map { ($0.column, $0) }, uniquingKeysWith: { _, b in b }))
        }
        self.notes = notes
        self.incomplete = rows.contains { r in columns.contains { r.cells[$0.name] == nil } }
    }
}

/// Where a sweep keeps its finished cells, so that a stopped one can be resumed: `settings.json`,
/// `columns.json` and one `cells/<network>@<column>.json` per finished cell, each written
/// atomically as soon as the cell is done.
public struct SweepStore: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    var cellsDirectory: URL { directory.appendingPathComponent("cells") }

    /// The settings a previous run wrote, if any.
    public func settings() throws -> SweepSettings? {
        let url = directory.appendingPathComponent("settings.json")
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        do { return try JSONDecoder().decode(SweepSettings.self, from: data) } catch {
            throw SweepError("\(url.path): not a sweep's settings (\(error.localizedDescription))")
        }
    }

    /// Starts a store: the directory and the settings.
    public func begin(_ settings: SweepSettings, started: String) throws {
        try FileManager.default.createDirectory(at: cellsDirectory, withIntermediateDirectories: true)
        try ReportJSON.encoder().encode(settings).write(to: directory.appendingPathComponent("settings.json"), options: .atomic)
        let startedURL = directory.appendingPathComponent("started")
        if !FileManager.default.fileExists(atPath: startedURL.path) { try Data(started.utf8).write(to: startedURL, options: .atomic) }
    }

    /// When the first run of this sweep started.
    public var started: String? {
        FileManager.default.contents(atPath: directory.appendingPathComponent("started").path).map { String(decoding: $0, as: UTF8.self) }
    }

    public func fileName(network: String, column: String) -> URL {
        let safe = { (s: String) in String(s.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" }) }
        return cellsDirectory.appendingPathComponent("\(safe(network))@\(safe(column)).json")
    }

    public func save(_ cell: SweepCell) throws {
        try ReportJSON.encoder().encode(cell).write(to: fileName(network: cell.network, column: cell.column), options: .atomic)
    }

    public func save(columns: [SweepColumn]) throws {
        try ReportJSON.encoder().encode(columns).write(to: directory.appendingPathComponent("columns.json"), options: .atomic)
    }

    public func columns() -> [SweepColumn] {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("columns.json").path) else { return [] }
        return (try? JSONDecoder().decode([SweepColumn].self, from: data)) ?? []
    }

    /// The cells finished so far (a file that cannot be read is left out: its cell runs again).
    public func cells() -> [SweepCell] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: cellsDirectory.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.sorted().compactMap { f in
            FileManager.default.contents(atPath: cellsDirectory.appendingPathComponent(f).path).flatMap { try? JSONDecoder().decode(SweepCell.self, from: $0) }
        }
    }
}

public struct SweepError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Where a sweep is, for a progress line.
public struct SweepProgress: Sendable {
    /// The cell running (from 1) and the cells to run in this invocation.
    public let cell: Int
    public let cells: Int
    public let network: String
    public let column: String
    /// Timed images done in this cell, of `images`.
    public let image: Int
    public let images: Int
    /// An estimate of the time left, s (nil before anything was timed).
    public let secondsLeft: Double?
}

/// Runs every network on every column (Table I of the study): per cell, images/s (median and
/// spread), the frequency seen, and with sensors the power, the energy per image and images/s per
/// watt with and without the idle baseline. Each finished cell goes to the store at once; cells
/// already there are not run again (resume). A cell that fails is recorded and the sweep goes on.
public final class Sweep {
    public let root: SystemRoot
    public let columns: [SweepColumnPlan]
    public let settings: SweepSettings
    public let store: SweepStore?

    public init(root: SystemRoot, columns: [SweepColumnPlan], settings: SweepSettings, store: SweepStore?) {
        self.root = root
        self.columns = columns
        self.settings = settings
        self.store = store
    }

    /// Checks that every column to pin can be pinned (pins and restores each once), so that a
    /// sweep that cannot set the frequency stops before it runs anything.
    public func checkPinning() throws(DVFSError) {
        for c in columns {
            guard let khz = c.pinKHz else { continue }
            for d in c.unit.domains {
                let pin = try FrequencyPin(root: root, domain: d, targetKHz: khz)
                try pin.restore()
            }
        }
    }

    /// The cells that `run` will run: those not in the store yet (failed ones run again).
    public func pending() -> [(network: String, column: Int)] {
        let done = Set((store?.cells() ?? []).filter(\.ok).map { "\($0.network)@\($0.column)" })
        var out: [(String, Int)] = []
        for (ci, c) in columns.enumerated() {
            for n in settings.networks where !done.contains("\(n)@\(c.name)") { out.append((n, ci)) }
        }
        return out
    }

    /// Runs the pending cells, column by column.
    /// - Returns: this run's cells, the columns as measured, and whether it was stopped.
    /// - Throws: `DVFSError` when a frequency cannot be pinned or restored (pins are restored
    ///   first); errors of the store.
    public func run(progress: (SweepProgress) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> (cells: [SweepCell], columns: [SweepColumn], stopped: Bool) {
        let todo = pending()
        var cells: [SweepCell] = []
        var described: [String: SweepColumn] = Dictionary((store?.columns() ?? []).map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
        let started = DispatchTime.now().uptimeNanoseconds
        var cellIndex = 0
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        func record(_ cell: SweepCell) throws {
            cells.append(cell)
            try store?.save(cell)
        }
        for (ci, column) in columns.enumerated() {
            let networks = todo.filter { $0.column == ci }.map(\.network)
            if networks.isEmpty { continue }
            let unit = column.unit
            if unit.cpus.isEmpty {
                for n in networks {
                    cellIndex += 1
                    try record(.failed(network: n, column: column.name, error: "\(column.name): no CPU of it is available to this process (offline, or outside this process's cpuset)"))
                }
                continue
            }
            var pins: [FrequencyPin] = []
            defer { for p in pins.reversed() { try? p.restore() } }
            if let khz = column.pinKHz {
                for d in unit.domains { pins.append(try FrequencyPin(root: root, domain: d, targetKHz: khz)) }
                usleep(200_000) // let the clock settle
            }
            let pool = ThreadPool(threads: unit.threads, cpus: unit.cpus)
            let sampler = unit.sensors.isEmpty ? nil : EnergySampler(root: root, sensors: unit.sensors)
            var idle: Double? = nil
            if let sampler, settings.idleSeconds > 0, !shouldStop() {
                let readings = sampler.idleBaseline(seconds: settings.idleSeconds)
                if readings.allSatisfy({ $0.meanWatts != nil }) { idle = readings.reduce(0) { $0 + $1.meanWatts! } }
            }
            let freqFile = unit.domains.first.map { "\(FrequencyPin.directory(of: $0))/scaling_cur_freq" }
            let pinnedMHz = column.pinKHz.map { Double($0) / 1000 }
            described[column.name] = SweepColumn(
                name: column.name, cpus: CPUSet(unit.cpus).description, threads: unit.threads, core: unit.core, pinned_mhz: pinnedMHz,
                governor: unit.domains.first.flatMap { root.readTrimmed("\(FrequencyPin.directory(of: $0))/scaling_governor") },
                sensors: unit.sensors.map(\.label), sensors_are_own: unit.sensorsAreOwn, idle_watts: idle)
            try store?.save(columns: columns.compactMap { described[$0.name] })
            for network in networks {
                cellIndex += 1
                if shouldStop() { return (cells, columns.compactMap { described[$0.name] }, true) }
                if let why = pool.startFailure {
                    try record(.failed(network: network, column: column.name, error: "could start only \(pool.count) of \(unit.threads) thread(s): \(why)"))
                    continue
                }
                if pool.unpinnedThreads > 0 {
                    try record(.failed(network: network, column: column.name,
                                       error: "could not pin \(pool.unpinnedThreads) of \(unit.threads) thread(s) to cpus \(CPUSet(unit.cpus).description)"))
                    continue
                }
                guard let net = NetworkCatalog.network(named: network) else {
                    try record(.failed(network: network, column: column.name, error: "unknown network '\(network)'"))
                    continue
                }
                let cellStart = elapsed()
                let doneBefore = Double(cellIndex - 1)
                progress(SweepProgress(cell: cellIndex, cells: todo.count, network: network, column: column.name, image: 0, images: settings.repeats,
                                       secondsLeft: doneBefore > 0 ? cellStart / doneBefore * Double(todo.count - cellIndex + 1) : nil))
                let runner = NetworkRunner(network: net.quantized(settings.networkPrecision), pool: pool)
                runner.setDeterministicInput()
                let figures = Throughput.measure(
                    runner: runner, warmup: settings.warmup, images: settings.repeats, root: root, frequencyFile: freqFile, pinnedMHz: pinnedMHz,
                    sampler: sampler, idleWatts: idle,
                    progress: { i in
                        let inCell = elapsed() - cellStart
                        let perCell = inCell / Double(i) * Double(self.settings.repeats) // an estimate of this cell's length
                        let left = perCell - inCell + perCell * Double(todo.count - cellIndex)
                        progress(SweepProgress(cell: cellIndex, cells: todo.count, network: network, column: column.name, image: i,
                                               images: self.settings.repeats, secondsLeft: left))
                    }, shouldStop: shouldStop)
                guard let figures else { return (cells, columns.compactMap { described[$0.name] }, true) }
                var words = "median of \(settings.repeats) images after \(settings.warmup) warm-up, \(unit.threads) thread(s) on cpus \(CPUSet(unit.cpus).description)"
                if let p = settings.precision { words += ", precision \(p.rawValue)" }
                if let p = pinnedMHz { words += ", pinned to \(String(format: "%g", p)) MHz" } else { words += ", frequency as found" }
                if let f = figures.frequency { words += String(format: ", seen %.0f–%.0f MHz", f.min, f.max) + (f.moved ? " (moved)" : "") }
                if figures.energy != nil {
                    words += "; energy from \(unit.sensors.map { $0.rail ?? $0.label }.joined(separator: " + "))" + (unit.sensorsAreOwn ? "" : " (not this cluster's own rail)")
                }
                try record(SweepCell(network: network, column: column.name, status: "ok", error: nil, figures: figures, provenance: words,
                                     finished: ISO8601DateFormatter().string(from: Date())))
            }
            for p in pins.reversed() { try p.restore() }
            pins.removeAll()
        }
        return (cells, columns.compactMap { described[$0.name] }, false)
    }
}
