import Counters
import Foundation
import LinuxSystem

/// Where a cluster's supply voltage comes from, for power models (V² terms): a sensor that
/// measures it, or a voltage-frequency table (the board file's or the user's).
public enum VoltageSource: Sendable, Equatable {
    /// A file under the root that reads volts (the INA231's `sensor_V` beside its `sensor_W`).
    case sensor(path: String)
    /// Points by ascending MHz; values between points are interpolated linearly.
    case table([Board.VoltagePoint], source: String)

    /// What the CSV and the report say about the voltage's provenance.
    public var provenance: String {
        switch self {
        case .sensor(let path): "measured (\(path))"
        case .table(_, let source): "table (\(source))"
        }
    }

    /// The voltage sensor beside a power sensor, when its driver has one (INA231 `sensor_V`).
    public static func sensor(besides power: PowerSensor, root: SystemRoot) -> VoltageSource? {
        guard power.kind == .ina231 else { return nil }
        let path = (power.path as NSString).deletingLastPathComponent + "/sensor_V"
        return root.exists(path) ? .sensor(path: path) : nil
    }

    /// Reads the voltage now (a sensor) or looks it up for `mhz` (a table), V.
    /// - Throws: a message naming the file or the table's range when there is no value.
    public func volts(atMHz mhz: Double, root: SystemRoot) throws(DVFSError) -> Double {
        switch self {
        case .sensor(let path):
            guard let text = root.readTrimmed(path), let v = Double(text), v.isFinite, v > 0 else {
                throw DVFSError(file: root.absolute(path), problem: "no voltage could be read (expected volts, e.g. 1.0375)")
            }
            return v
        case .table(let points, let source):
            if let v = Self.interpolate(points, mhz: mhz) { return v }
            let range = points.isEmpty ? "no points" : "\(points.first!.mhz)–\(points.last!.mhz) MHz"
            throw DVFSError(file: nil, problem: "\(mhz) MHz is outside the voltage table (\(range), \(source)); measure the voltage, give --voltage-table with this frequency, or leave it out of --frequencies")
        }
    }

    /// Linear interpolation between the points around `mhz`; nil outside them.
    public static func interpolate(_ points: [Board.VoltagePoint], mhz: Double) -> Double? {
        guard let first = points.first, let last = points.last, mhz >= first.mhz, mhz <= last.mhz else { return nil }
        for (a, b) in zip(points, points.dropFirst()) where mhz <= b.mhz {
            return a.volts + (b.volts - a.volts) * (mhz - a.mhz) / (b.mhz - a.mhz)
        }
        return last.volts
    }

    /// Reads a table from CSV text: lines `MHz,volts` (a header line and `#` comments are skipped).
    public static func parseTable(csv: String, file: String) throws(DataFileError) -> [Board.VoltagePoint] {
        var points: [Board.VoltagePoint] = []
        for (n, raw) in csv.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if points.isEmpty, fields.count == 2, Double(fields[0]) == nil { continue } // header
            guard fields.count == 2, let mhz = Double(fields[0]), let v = Double(fields[1]), mhz > 0, v > 0, v < 5 else {
                throw DataFileError(file: file, place: "line \(n + 1)", problem: "'\(line)' is not MHz,volts (e.g. 1400,1.042)")
            }
            if let last = points.last, mhz <= last.mhz {
                throw DataFileError(file: file, place: "line \(n + 1)", problem: "\(mhz) MHz does not follow \(last.mhz) MHz: list frequencies in ascending order")
            }
            points.append(Board.VoltagePoint(mhz: mhz, volts: v))
        }
        if points.isEmpty { throw DataFileError(file: file, problem: "no MHz,volts lines") }
        return points
    }
}
