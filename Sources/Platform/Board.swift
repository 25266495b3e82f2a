import Foundation

/// A number from a board file with where it came from; `value` is nil when no source gave one.
public struct Sourced<T: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
    public let value: T?
    /// The source, or "NOT FOUND: ..." when `value` is nil.
    public let source: String

    public init(value: T?, source: String) {
        self.value = value
        self.source = source
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        value = try c.decodeIfPresent(T.self, forKey: .value)
        source = try c.decode(String.self, forKey: .source)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value) // null, never left out
        try c.encode(source, forKey: .source)
    }

    enum CodingKeys: String, CodingKey { case value, source }
}

/// A board description from `boards/<name>.json` (docs/boards.md).
public struct Board: Codable, Sendable, Hashable {
    public struct Match: Codable, Sendable, Hashable {
        /// Device-tree compatible strings that select the board (most specific first).
        public let compatible: [String]?
        /// Device-tree models that select the board.
        public let model: [String]?
    }

    public struct Cluster: Codable, Sendable, Hashable {
        public let name: String
        public let core: String
        public let cpus: [Int]
        public let max_freq_khz: Sourced<Int64>?
        public let l1d_kib: Sourced<Int>?
        public let l1i_kib: Sourced<Int>?
        public let l2_kib: Sourced<Int>?
        public let l2_shared: Bool?
        public let line_bytes: Sourced<Int>?
        public let fp32_flops_per_cycle: Sourced<Double>?
        public let pmu: String?
        public let counters: Sourced<Int>?
        /// The voltage the cluster runs at per frequency (its DVFS table), for power models when
        /// no sensor measures the voltage; points by ascending frequency.
        public let voltage_table: Sourced<[VoltagePoint]>?

        /// Peak fp32 GFLOP/s of the whole cluster at its maximum frequency, when both are known.
        public var peakGFLOPS: Double? {
            guard let f = fp32_flops_per_cycle?.value, let khz = max_freq_khz?.value else { return nil }
            return f * Double(khz) * 1e3 * Double(cpus.count) / 1e9
        }
    }

    /// One point of a cluster's voltage-frequency table.
    public struct VoltagePoint: Codable, Sendable, Hashable {
        public let mhz: Double
        public let volts: Double
        public init(mhz: Double, volts: Double) {
            self.mhz = mhz
            self.volts = volts
        }
    }

    public struct DRAM: Codable, Sendable, Hashable {
        public let type: String?
        public let channels: Sourced<Int>?
        public let bus_width_bits: Sourced<Int>?
        public let data_rate_mts: Sourced<Double>?
        public let theoretical_bandwidth_gbs: Sourced<Double>?
    }

    public struct PowerSensor: Codable, Sendable, Hashable {
        /// ina231, ina3221, hwmon, powercap, vcgencmd.
        public let kind: String
        /// The rail it measures (VDD_ARM, POM_5V_CPU).
        public let rail: String?
        /// The cluster whose power it measures, if it is one cluster's rail.
        public let cluster: String?
        /// A glob under the root; nil for sensors socprof does not read.
        public let path: String?
        public let source: String?
    }

    public let schema: String?
    public let schema_version: Int?
    public let name: String
    public let description: String?
    public let soc: String?
    public let arch: String?
    public let match: Match?
    public let clusters: [Cluster]
    public let l3_kib: Sourced<Int>?
    public let dram: DRAM?
    public let power_sensors: [PowerSensor]?
    public let notes: [String]?

    /// Reads and checks a board file. Throws `DataFileError` naming the file, the JSON path
    /// and the problem.
    public static func load(contentsOf url: URL) throws(DataFileError) -> Board {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw DataFileError(file: url.path, problem: "cannot read the file")
        }
        let board: Board
        do { board = try JSONDecoder().decode(Board.self, from: data) } catch {
            throw DataFileError.decoding(error, file: url.path)
        }
        try board.check(file: url.path)
        return board
    }

    func check(file: String) throws(DataFileError) {
        if let s = schema, s != "socprof.board" {
            throw DataFileError(file: file, place: "schema", problem: "'\(s)' is not socprof.board")
        }
        if clusters.isEmpty { throw DataFileError(file: file, place: "clusters", problem: "a board has at least one cluster") }
        var seen = Set<Int>()
        for (i, c) in clusters.enumerated() {
            if c.cpus.isEmpty { throw DataFileError(file: file, place: "clusters[\(i)].cpus", problem: "empty") }
            for cpu in c.cpus where !seen.insert(cpu).inserted {
                throw DataFileError(file: file, place: "clusters[\(i)].cpus", problem: "cpu\(cpu) is in two clusters")
            }
            if let v = c.max_freq_khz?.value, v <= 0 {
                throw DataFileError(file: file, place: "clusters[\(i)].max_freq_khz", problem: "\(v) is not a frequency in kHz")
            }
            if let table = c.voltage_table?.value {
                for (k, p) in table.enumerated() where !(p.mhz > 0 && p.volts > 0 && p.volts < 5) || (k > 0 && p.mhz <= table[k - 1].mhz) {
                    throw DataFileError(file: file, place: "clusters[\(i)].voltage_table.value[\(k)]",
                                        problem: "\(p.mhz) MHz, \(p.volts) V: points need MHz > 0 in ascending order and 0 < V < 5")
                }
            }
        }
    }

    /// The cluster with these CPUs, or the one containing the first of them.
    public func cluster(for cpus: CPUSet) -> Cluster? {
        clusters.first { CPUSet($0.cpus) == cpus } ?? clusters.first { $0.cpus.contains(cpus.cpus.first ?? -1) }
    }
}

/// The board files of `boards/`, and how the running board is matched to one.
public struct BoardCatalog: Sendable {
    /// Every board, by name.
    public let boards: [Board]

    /// Loads every `*.json` of `dir`. A malformed file is an error naming it.
    public init(directory dir: URL) throws(DataFileError) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        var boards: [Board] = []
        for n in names { boards.append(try Board.load(contentsOf: dir.appendingPathComponent(n))) }
        self.boards = boards
    }

    public init(boards: [Board]) { self.boards = boards }

    /// What the device tree under `root` says: its compatible strings (most specific first) and model.
    public static func deviceTree(root: SystemRoot) -> (compatible: [String], model: String?) {
        let base = "sys/firmware/devicetree/base"
        let compatible = (root.read("\(base)/compatible") ?? root.read("proc/device-tree/compatible") ?? "")
            .split(separator: "\0").map(String.init).filter { !$0.isEmpty }
        let model = (root.readTrimmed("\(base)/model") ?? root.readTrimmed("proc/device-tree/model")).flatMap { $0.isEmpty ? nil : $0 }
        return (compatible, model)
    }

    /// The board whose `match` fits the device tree under `root`: the most specific compatible
    /// string listed by any board wins, then an exact model.
    public func match(root: SystemRoot) -> Board? {
        let dt = Self.deviceTree(root: root)
        for c in dt.compatible {
            if let b = boards.first(where: { $0.match?.compatible?.contains(c) ?? false }) { return b }
        }
        if let m = dt.model { return boards.first { $0.match?.model?.contains(m) ?? false } }
        return nil
    }

    /// `--board NAME|FILE`: a name from the catalog, or a path to a board file.
    public func select(_ nameOrFile: String) throws(DataFileError) -> Board {
        if nameOrFile.hasSuffix(".json") || nameOrFile.contains("/") {
            return try Board.load(contentsOf: URL(fileURLWithPath: nameOrFile))
        }
        if let b = boards.first(where: { $0.name == nameOrFile.lowercased() }) { return b }
        let near = Counters.Suggestions.closest(to: nameOrFile, in: boards.map(\.name))
        throw DataFileError(file: nameOrFile, problem: "no board named '\(nameOrFile)'; the boards are \(boards.map(\.name).joined(separator: ", "))" +
                            (near.isEmpty ? "" : "; did you mean '\(near[0])'?"))
    }
}

import Counters
