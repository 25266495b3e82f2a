import Counters
import Foundation
import LinuxSystem

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
    /// and the problem; a value outside `Limits` names the range it must lie in.
    public static func load(contentsOf url: URL) throws(DataFileError) -> Board {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw DataFileError(file: url.path, problem: "cannot read the file")
        }
        let board: Board
        do { board = try JSONDecoder().decode(Board.self, from: data) } catch {
            // A literal such as 1e999 overflows a Double: depending on the Foundation version the
            // decoder either rejects the whole document or reads infinity (which `check` refuses).
            // Name the literal's place and range rather than "not valid JSON".
            if let (place, literal) = nonFiniteNumber(in: data) {
                throw DataFileError(file: url.path, place: place, problem: "\(literal) is not a finite number; the allowed range is " +
                                    (Limits.allowed(field: Limits.field(of: place)) ?? "a finite number"))
            }
            throw DataFileError.decoding(error, file: url.path)
        }
        try board.check(file: url.path)
        return board
    }

    /// The ranges a board file's values must lie in (docs/boards.md, "What a board file may hold").
    /// A value outside them is a typo or a unit slip (MHz for kHz, bytes for KiB), refused on load.
    public enum Limits {
        /// The only `schema_version` this socprof reads.
        public static let schemaVersion = 1
        /// 10 MHz to 10 GHz.
        public static let maxFreqKHz: ClosedRange<Int64> = 10_000...10_000_000
        /// 1 KiB to 1 GiB, for every cache size (`l1d_kib`, `l1i_kib`, `l2_kib`, `l3_kib`).
        public static let cacheKiB: ClosedRange<Int> = 1...1_048_576
        /// A power of two in this range.
        public static let lineBytes: ClosedRange<Int> = 16...256
        /// Programmable counters per core (the cycle counter not included).
        public static let counters: ClosedRange<Int> = 1...64
        /// Peak fp32 FLOP per cycle per core.
        public static let fp32FlopsPerCycle: ClosedRange<Double> = 0.5...256
        /// DRAM channels.
        public static let dramChannels: ClosedRange<Int> = 1...64
        /// Total DRAM bus width, a multiple of 8 bits.
        public static let dramBusWidthBits: ClosedRange<Int> = 8...8192
        /// DRAM transfers per second, in MT/s.
        public static let dramDataRateMTs: ClosedRange<Double> = 100...40_000
        /// Theoretical DRAM bandwidth, GB/s (10^9 bytes/s).
        public static let dramBandwidthGBs: ClosedRange<Double> = 0.1...2000
        /// CPU numbers.
        public static let cpu: ClosedRange<Int> = 0...8191
        /// Voltage-table voltages, exclusive bounds (0 < V < 5).
        public static let volts: ClosedRange<Double> = 0...5

        /// The field a JSON path names: its last key other than `value`, without indices
        /// ("clusters[0].max_freq_khz.value" is max_freq_khz, "clusters[1].cpus[0]" is cpus).
        static func field(of place: String) -> String {
            place.split(separator: ".").map { String($0.split(separator: "[", maxSplits: 1).first ?? "") }
                .reversed().first { $0 != "value" && !$0.isEmpty } ?? place
        }

        /// The unit printed after a field's values.
        static func unit(field: String) -> String {
            switch field {
            case "max_freq_khz": return " kHz"
            case "l1d_kib", "l1i_kib", "l2_kib", "l3_kib": return " KiB"
            case "line_bytes": return " bytes"
            case "counters": return " counters"
            case "fp32_flops_per_cycle": return " FLOP/cycle"
            case "channels": return " channels"
            case "bus_width_bits": return " bits"
            case "data_rate_mts": return " MT/s"
            case "theoretical_bandwidth_gbs": return " GB/s"
            default: return ""
            }
        }

        /// What a field of a board file may hold, as error messages print it; nil for fields
        /// without a numeric range.
        public static func allowed(field: String) -> String? {
            func text<T>(_ r: ClosedRange<T>, _ note: String = "") -> String { "\(r.lowerBound)...\(r.upperBound)\(unit(field: field))\(note)" }
            switch field {
            case "schema_version": return "\(schemaVersion)...\(schemaVersion) (this socprof reads version \(schemaVersion) only)"
            case "cpus": return text(cpu, " (a CPU number)")
            case "max_freq_khz": return text(maxFreqKHz, " (10 MHz to 10 GHz)")
            case "l1d_kib", "l1i_kib", "l2_kib", "l3_kib": return text(cacheKiB, " (1 KiB to 1 GiB)")
            case "line_bytes": return "a power of two in \(text(lineBytes))"
            case "counters": return text(counters)
            case "fp32_flops_per_cycle": return text(fp32FlopsPerCycle)
            case "channels": return text(dramChannels)
            case "bus_width_bits": return "a multiple of 8 in \(text(dramBusWidthBits))"
            case "data_rate_mts": return text(dramDataRateMTs)
            case "theoretical_bandwidth_gbs": return text(dramBandwidthGBs)
            case "mhz", "volts": return "points with MHz > 0 in ascending order and 0 < V < 5"
            default: return nil
            }
        }
    }

    func check(file: String) throws(DataFileError) {
        func refuse(_ place: String, _ problem: String) -> DataFileError { DataFileError(file: file, place: place, problem: problem) }
        func inRange<T: Comparable>(_ v: T?, _ r: ClosedRange<T>, _ place: String) throws(DataFileError) {
            guard let v, !r.contains(v) else { return }
            let f = Limits.field(of: place)
            throw refuse(place, "\(v)\(Limits.unit(field: f)) is outside the allowed range \(Limits.allowed(field: f)!)")
        }
        func inRange(_ v: Double?, _ r: ClosedRange<Double>, _ place: String) throws(DataFileError) {
            guard let v else { return }
            let f = Limits.field(of: place)
            if !v.isFinite { throw refuse(place, "\(v) is not a finite number; the allowed range is \(Limits.allowed(field: f)!)") }
            if !r.contains(v) { throw refuse(place, "\(v)\(Limits.unit(field: f)) is outside the allowed range \(Limits.allowed(field: f)!)") }
        }

        if let s = schema, s != "socprof.board" {
            throw refuse("schema", "'\(s)' is not socprof.board")
        }
        if let v = schema_version, v != Limits.schemaVersion {
            throw refuse("schema_version", "version \(v) is unknown; the allowed range is \(Limits.allowed(field: "schema_version")!)")
        }
        if clusters.isEmpty { throw refuse("clusters", "a board has at least one cluster") }
        var seen = Set<Int>()
        var names: [String: Int] = [:]
        for (i, c) in clusters.enumerated() {
            let at = "clusters[\(i)]"
            if let first = names[c.name] {
                throw refuse("\(at).name", "'\(c.name)' is also the name of clusters[\(first)]; cluster names must be unique")
            }
            names[c.name] = i
            if c.cpus.isEmpty { throw refuse("\(at).cpus", "empty") }
            for (k, cpu) in c.cpus.enumerated() {
                try inRange(cpu, Limits.cpu, "\(at).cpus[\(k)]")
                if !seen.insert(cpu).inserted { throw refuse("\(at).cpus", "cpu\(cpu) is in two clusters") }
            }
            try inRange(c.max_freq_khz?.value, Limits.maxFreqKHz, "\(at).max_freq_khz.value")
            try inRange(c.l1d_kib?.value, Limits.cacheKiB, "\(at).l1d_kib.value")
            try inRange(c.l1i_kib?.value, Limits.cacheKiB, "\(at).l1i_kib.value")
            try inRange(c.l2_kib?.value, Limits.cacheKiB, "\(at).l2_kib.value")
            if let line = c.line_bytes?.value, !Limits.lineBytes.contains(line) || line & (line - 1) != 0 {
                throw refuse("\(at).line_bytes.value", "\(line) bytes is not in the allowed range: \(Limits.allowed(field: "line_bytes")!)")
            }
            try inRange(c.fp32_flops_per_cycle?.value, Limits.fp32FlopsPerCycle, "\(at).fp32_flops_per_cycle.value")
            try inRange(c.counters?.value, Limits.counters, "\(at).counters.value")
            if let table = c.voltage_table?.value {
                for (k, p) in table.enumerated() where !(p.mhz.isFinite && p.mhz > 0 && p.volts > Limits.volts.lowerBound && p.volts < Limits.volts.upperBound)
                    || (k > 0 && p.mhz <= table[k - 1].mhz) {
                    throw refuse("\(at).voltage_table.value[\(k)]",
                                 "\(p.mhz) MHz, \(p.volts) V: points need MHz > 0 in ascending order and 0 < V < 5")
                }
            }
        }
        try inRange(l3_kib?.value, Limits.cacheKiB, "l3_kib.value")
        if let d = dram {
            try inRange(d.channels?.value, Limits.dramChannels, "dram.channels.value")
            if let w = d.bus_width_bits?.value, !Limits.dramBusWidthBits.contains(w) || w % 8 != 0 {
                throw refuse("dram.bus_width_bits.value", "\(w) bits is not in the allowed range: \(Limits.allowed(field: "bus_width_bits")!)")
            }
            try inRange(d.data_rate_mts?.value, Limits.dramDataRateMTs, "dram.data_rate_mts.value")
            try inRange(d.theoretical_bandwidth_gbs?.value, Limits.dramBandwidthGBs, "dram.theoretical_bandwidth_gbs.value")
        }
    }

    /// The JSON path and text of the first number literal in `data` that overflows a Double
    /// (1e999), if any. A small scanner: it tracks object keys and array indices only.
    static func nonFiniteNumber(in data: Data) -> (place: String, literal: String)? {
        enum Container { case object(key: String?), array(index: Int) }
        let bytes = [UInt8](data)
        var stack: [Container] = []
        var expectKey = false
        var i = 0
        func path() -> String {
            var p = ""
            for c in stack {
                switch c {
                case .object(let key?): p += p.isEmpty ? key : ".\(key)"
                case .object(nil): break
                case .array(let index): p += "[\(index)]"
                }
            }
            return p
        }
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "{"):
                stack.append(.object(key: nil))
                expectKey = true
            case UInt8(ascii: "["):
                stack.append(.array(index: 0))
                expectKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
            case UInt8(ascii: ","):
                switch stack.last {
                case .array(let index)?: stack[stack.count - 1] = .array(index: index + 1)
                case .object?: stack[stack.count - 1] = .object(key: nil); expectKey = true
                case nil: break
                }
            case UInt8(ascii: "\""):
                var j = i + 1
                var text: [UInt8] = []
                while j < bytes.count && bytes[j] != UInt8(ascii: "\"") {
                    if bytes[j] == UInt8(ascii: "\\") { j += 1 }
                    if j < bytes.count { text.append(bytes[j]) }
                    j += 1
                }
                if expectKey, case .object? = stack.last {
                    stack[stack.count - 1] = .object(key: String(decoding: text, as: UTF8.self))
                    expectKey = false
                }
                i = j
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                var j = i
                while j < bytes.count, "+-.eE0123456789".utf8.contains(bytes[j]) { j += 1 }
                let literal = String(decoding: bytes[i..<j], as: UTF8.self)
                if let v = Double(literal), !v.isFinite { return (path(), literal) }
                i = j - 1
            default:
                break
            }
            i += 1
        }
        return nil
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
