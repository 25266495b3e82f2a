import Counters
import Foundation
import LinuxSystem

/// A power or energy sensor under the root (docs/boards.md lists the kinds).
public struct PowerSensor: Sendable, Hashable, Codable {
    /// How the sensor is read.
    public enum Kind: String, Sendable, Codable {
        /// hwmon `power<N>_input`, µW.
        case hwmonPower = "hwmon-power"
        /// hwmon `energy<N>_input`, µJ, cumulative.
        case hwmonEnergy = "hwmon-energy"
        /// Hardkernel's INA231 driver (Odroid-XU3): write 1 to `enable`, read `sensor_W`, W.
        case ina231
        /// Jetson's INA3221 (`ina3221x`): `in_power<N>_input`, mW, named by `rail_name_<N>`.
        case ina3221
        /// powercap (RAPL) `energy_uj`, µJ, cumulative, wraps at `max_energy_range_uj`.
        case powercap
    }

    public let kind: Kind
    /// The file read, relative to the root.
    public let path: String
    /// The rail it measures (sensor_arm, POM_5V_CPU, package-0), if known.
    public var rail: String?
    /// The cluster whose power it measures, from the board file.
    public var cluster: String?
    /// INA231: the `enable` file, relative to the root.
    public let enablePath: String?
    /// powercap: `max_energy_range_uj`, µJ.
    public let wrapMicrojoules: UInt64?

    /// Whether it reports cumulative energy (J) rather than power (W).
    public var measuresEnergy: Bool { kind == .hwmonEnergy || kind == .powercap }

    /// "ina231 sensor_arm (sys/bus/i2c/drivers/INA231/3-0040)".
    public var label: String { "\(kind.rawValue) \(rail ?? "?") (\((path as NSString).deletingLastPathComponent))" }

    /// One reading: a value, nothing (the file could not be read), or text that is no reading
    /// (not a number, NaN, infinite or negative), which must never reach an energy figure.
    public enum Reading: Sendable, Equatable {
        case value(Double)
        case unreadable
        case invalid(String)
    }

    /// Reads it: watts for power sensors, joules for energy sensors.
    public func reading(root: SystemRoot) -> Reading {
        guard let text = root.readTrimmed(path) else { return .unreadable }
        guard let v = Double(text), v.isFinite, v >= 0 else { return .invalid(text) }
        switch kind {
        case .hwmonPower: return .value(v / 1e6)
        case .hwmonEnergy, .powercap: return .value(v / 1e6)
        case .ina231: return .value(v)
        case .ina3221: return .value(v / 1e3)
        }
    }

    /// Reads it: watts for power sensors, joules for energy sensors; nil when unreadable or not a
    /// valid reading (NaN, infinite, negative).
    public func read(root: SystemRoot) -> Double? {
        if case .value(let v) = reading(root: root) { return v }
        return nil
    }

    /// Turns an INA231 on (writes 1 to `enable` when it reads 0). Returns a problem, if any.
    public func enable(root: SystemRoot) -> String? {
        guard let enablePath, root.readTrimmed(enablePath) != "1" else { return nil }
        do {
            try "1\n".write(toFile: root.absolute(enablePath), atomically: false, encoding: .utf8)
            return nil
        } catch {
            return "cannot enable \(root.absolute(enablePath)) (\(error.localizedDescription)): run socprof as root or `echo 1 | sudo tee \(root.absolute(enablePath))`"
        }
    }
}

/// Finds power sensors under a root.
public enum PowerSensors {
    /// Every sensor socprof can read under `root`, with rails and clusters from `board` when given.
    public static func discover(root: SystemRoot, board: Board? = nil) -> [PowerSensor] {
        var found: [PowerSensor] = []
        // Hardkernel INA231 (Odroid-XU3 vendor kernels); the i2c bus number differs between kernels.
        let ina231 = "sys/bus/i2c/drivers/INA231"
        for dev in root.list(ina231) where root.exists("\(ina231)/\(dev)/sensor_W") {
            found.append(PowerSensor(kind: .ina231, path: "\(ina231)/\(dev)/sensor_W",
                                     rail: root.readTrimmed("\(ina231)/\(dev)/sensor_name") ?? dev, cluster: nil,
                                     enablePath: root.exists("\(ina231)/\(dev)/enable") ? "\(ina231)/\(dev)/enable" : nil, wrapMicrojoules: nil))
        }
        // Jetson INA3221.
        let ina3221 = "sys/bus/i2c/drivers/ina3221x"
        for dev in root.list(ina3221) {
            for iio in root.list("\(ina3221)/\(dev)") where iio.hasPrefix("iio:device") {
                let dir = "\(ina3221)/\(dev)/\(iio)"
                for f in root.list(dir) where f.hasPrefix("in_power") && f.hasSuffix("_input") {
                    let n = f.dropFirst("in_power".count).dropLast("_input".count)
                    found.append(PowerSensor(kind: .ina3221, path: "\(dir)/\(f)", rail: root.readTrimmed("\(dir)/rail_name_\(n)"),
                                             cluster: nil, enablePath: nil, wrapMicrojoules: nil))
                }
            }
        }
        // hwmon.
        let hwmon = "sys/class/hwmon"
        for h in root.list(hwmon) {
            let dir = "\(hwmon)/\(h)"
            let chip = root.readTrimmed("\(dir)/name")
            for f in root.list(dir) where f.hasSuffix("_input") && (f.hasPrefix("power") || f.hasPrefix("energy")) {
                let stem = String(f.dropLast("_input".count))
                let label = root.readTrimmed("\(dir)/\(stem)_label")
                found.append(PowerSensor(kind: f.hasPrefix("power") ? .hwmonPower : .hwmonEnergy, path: "\(dir)/\(f)",
                                         rail: [chip, label].compactMap { $0 }.joined(separator: " ").nilIfEmpty,
                                         cluster: nil, enablePath: nil, wrapMicrojoules: nil))
            }
        }
        // powercap (Intel RAPL and others).
        let powercap = "sys/class/powercap"
        for z in root.list(powercap) where root.exists("\(powercap)/\(z)/energy_uj") {
            found.append(PowerSensor(kind: .powercap, path: "\(powercap)/\(z)/energy_uj", rail: root.readTrimmed("\(powercap)/\(z)/name") ?? z,
                                     cluster: nil, enablePath: nil,
                                     wrapMicrojoules: root.readInt("\(powercap)/\(z)/max_energy_range_uj").map { UInt64(max(0, $0)) }))
        }
        guard let board else { return found }
        // The board file names the rails and the clusters they power.
        return found.map { s in
            var s = s
            let dir = (s.path as NSString).deletingLastPathComponent
            if let b = board.power_sensors?.first(where: { b in b.path.map { fnmatch($0, dir, 0) == 0 || fnmatch($0, s.path, 0) == 0 } ?? false }) {
                if let r = b.rail { s.rail = s.rail.map { "\(r) (\($0))" } ?? r }
                s.cluster = b.cluster
            }
            return s
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
