import Counters
import Foundation
import LinuxSystem
import Platform
import Testing
import TestSupport

@Suite("Power sensors and energy", .serialized)
struct PowerTests {
    /// A writable copy of the Odroid-XU3 fixture's INA231 sensors.
    func odroidSensorsCopy() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        let src = Fixtures.root("odroid-xu3").absolute("sys/bus/i2c")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sys/bus"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: src, toPath: dir.appendingPathComponent("sys/bus/i2c").path)
        return dir
    }

    @Test func discoversTheOdroidINA231s() throws {
        let sensors = PowerSensors.discover(root: Fixtures.root("odroid-xu3"))
        #expect(sensors.count == 4)
        #expect(sensors.allSatisfy { $0.kind == .ina231 && $0.enablePath != nil && !$0.measuresEnergy })
        #expect(Set(sensors.compactMap(\.rail)) == ["sensor_arm", "sensor_mem", "sensor_g3d", "sensor_kfc"])
        let arm = try #require(sensors.first { $0.rail == "sensor_arm" })
        #expect(arm.path.hasSuffix("3-0040/sensor_W"))
        #expect(arm.read(root: Fixtures.root("odroid-xu3")) == 0.41715)
    }

    @Test("the sampler integrates power while a thread changes the sensor")
    func integratesChangingPower() throws {
        let dir = try odroidSensorsCopy()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = SystemRoot(path: dir.path)
        let sensor = try #require(PowerSensors.discover(root: root).first { $0.rail == "sensor_arm" })
        let file = root.absolute(sensor.path)
        try "0\n".write(toFile: root.absolute(sensor.enablePath!), atomically: true, encoding: .utf8)
        try "2.000000\n".write(toFile: file, atomically: true, encoding: .utf8)
        let sampler = EnergySampler(root: root, sensors: [sensor], periodNanoseconds: 2_000_000)
        #expect(sampler.start().isEmpty)
        #expect(root.readTrimmed(sensor.enablePath!) == "1", "the sampler enables the INA231")
        // 2 W, then 5 W, then 1 W; the writer records when each level started.
        var marks: [(UInt64, Double)] = [(DispatchTime.now().uptimeNanoseconds, 2)]
        // Levels of 300 ms: a sampler delayed by a busy machine blurs only the edges.
        for watts in [5.0, 1.0] {
            usleep(300_000)
            try String(format: "%.6f\n", watts).write(toFile: file, atomically: true, encoding: .utf8)
            marks.append((DispatchTime.now().uptimeNanoseconds, watts))
        }
        usleep(300_000)
        let end = DispatchTime.now().uptimeNanoseconds
        let result = try #require(sampler.stop().first)
        var expected = 0.0
        for (i, m) in marks.enumerated() {
            let until = i + 1 < marks.count ? marks[i + 1].0 : end
            expected += m.1 * Double(until - m.0) / 1e9
        }
        let joules = try #require(result.joules)
        #expect(result.samples > 20)
        #expect(abs(joules - expected) / expected < 0.1, "integrated \(joules) J, expected \(expected) J")
        let mean = try #require(result.meanWatts)
        #expect(mean > 1.5 && mean < 3.5)
    }

    @Test func energyCountersAndWraparound() {
        #expect(EnergySampler.energyDifference([10, 12, 15], wrapJoules: nil) == 5)
        #expect(EnergySampler.energyDifference([260, 262, 1, 3], wrapJoules: 262.143) == 262.143 - 262 + 3 + 2.0)
        #expect(EnergySampler.energyDifference([5, 1], wrapJoules: nil) == nil, "a decrease with no wrap value is not energy")
        #expect(EnergySampler.energyDifference([5], wrapJoules: nil) == nil)
        #expect(EnergySampler.trapezoid([(0, 2), (1_000_000_000, 4)]) == 3)
    }

    @Test func powercapAndHwmonDiscovery() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Fixtures.write([
            "sys/class/powercap/intel-rapl:0/name": "package-0\n",
            "sys/class/powercap/intel-rapl:0/energy_uj": "123456789\n",
            "sys/class/powercap/intel-rapl:0/max_energy_range_uj": "262143328850\n",
            "sys/class/hwmon/hwmon0/name": "ina226\n",
            "sys/class/hwmon/hwmon0/power1_input": "1500000\n",
            "sys/class/hwmon/hwmon0/power1_label": "vdd_cpu\n",
            "sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0/rail_name_0": "POM_5V_IN\n",
            "sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0/in_power0_input": "2500\n",
        ], under: dir)
        let root = SystemRoot(path: dir.path)
        let sensors = PowerSensors.discover(root: root)
        let rapl = try #require(sensors.first { $0.kind == .powercap })
        #expect(rapl.rail == "package-0" && rapl.measuresEnergy && rapl.wrapMicrojoules == 262_143_328_850)
        #expect(rapl.read(root: root) == 123.456789)
        let hw = try #require(sensors.first { $0.kind == .hwmonPower })
        #expect(hw.rail == "ina226 vdd_cpu" && hw.read(root: root) == 1.5)
        let jetson = try #require(sensors.first { $0.kind == .ina3221 })
        #expect(jetson.rail == "POM_5V_IN" && jetson.read(root: root) == 2.5)
    }

    @Test func externalMeterLog() throws {
        let log = try PowerLog(csv: "timestamp,watts\n100.0,2\n101.0,4\n102.0,4\n# end\n", file: "meter.csv")
        #expect(log.joules(from: 100, to: 102) == 7)
        #expect(log.joules(from: 100.5, to: 101.5) == 3.75) // 3 W at 100.5 s (interpolated), 4 W at 101 s and after
        // Off the midpoint, so that interpolating from the wrong end shows: 2.5 W at 100.25 s.
        #expect(log.joules(from: 100.25, to: 101) == (2.5 + 4) / 2 * 0.75)
        #expect(log.joules(from: 99, to: 101) == nil, "the log must cover the interval")
        #expect {
            try PowerLog(csv: "1,2\n2,abc\n", file: "meter.csv")
        } throws: { error in "\(error)" == "meter.csv (line 2): expected timestamp,watts, found '2,abc'" }
    }

    /// A ramp P(t) = t W sampled every 10 s, integrated by hand: ∫ from 2 s to 13 s of t dt is
    /// (13² - 2²) / 2 = 82.5 J; the trapezoid over the interpolated ends gives it exactly for a
    /// straight line. A step (0 W then 10 W at 10 s) checks that each end takes its own side.
    @Test("the sampler's integration on ramps, steps and a wrapping energy counter, against hand values")
    func integrationByHand() {
        let s: UInt64 = 1_000_000_000
        let ramp: [(t: UInt64, v: Double)] = [(0, 0), (10 * s, 10), (20 * s, 20)]
        #expect(abs((EnergySampler.joules(ramp, measuresEnergy: false, wrapJoules: nil, from: 2 * s, to: 13 * s) ?? 0) - 82.5) < 1e-9)
        let step: [(t: UInt64, v: Double)] = [(0, 0), (10 * s, 0), (10 * s + 1, 10), (20 * s, 10)]
        #expect(abs((EnergySampler.joules(step, measuresEnergy: false, wrapJoules: nil, from: 5 * s, to: 15 * s) ?? 0) - 50) < 1e-6)
        #expect(abs((EnergySampler.joules(step, measuresEnergy: false, wrapJoules: nil, from: 1 * s, to: 9 * s) ?? -1)) < 1e-12)
        // A cumulative counter E(t) = t²/2 J read every 10 s, wrapping at 200 J (raw 0, 50, then 0 for
        // 200 J): linear between readings, E(2 s) = 10 and E(13 s) = 50 + 150 x 0.3 = 95.
        let counter: [(t: UInt64, v: Double)] = [(0, 0), (10 * s, 50), (20 * s, 0)]
        #expect(abs((EnergySampler.joules(counter, measuresEnergy: true, wrapJoules: 200, from: 2 * s, to: 13 * s) ?? 0) - 85) < 1e-9)
        #expect(EnergySampler.joules(counter, measuresEnergy: true, wrapJoules: nil, from: 2 * s, to: 13 * s) == nil,
                "a decrease with no known wrap is not energy")
        #expect(EnergySampler.joules(ramp, measuresEnergy: false, wrapJoules: nil, from: 15 * s, to: 25 * s) == nil, "not covered")
    }
}
