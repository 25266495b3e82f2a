import Counters
import Foundation
import LinuxSystem
import Platform
import Synchronization
import Testing
import TestSupport

/// Everything that pins cpufreq policies, one test at a time: `FrequencyPins` is process-wide, and
/// `restoreAll` must not restore a pin of a test running beside it.
@Suite("cpufreq", .serialized)
enum CPUFrequencySuites {}

/// cpufreq pinning on writable copies of the Odroid-XU3 tree: what is written, what is restored,
/// and what is left when a write fails.
extension CPUFrequencySuites {
@Suite("cpufreq pinning")
struct FrequencyPinTests {
    static let policy = "sys/devices/system/cpu/cpu0/cpufreq"

    static func little(_ root: SystemRoot) throws -> FrequencyDomain {
        let topology = Topology(root: root, catalog: nil, registry: PMURegistry(root: root))
        return try #require(topology.clusters.first { $0.cpus.contains(0) }?.frequencyDomains.first)
    }

    static func limits(_ root: SystemRoot) -> (min: String?, max: String?) {
        (root.read("\(policy)/scaling_min_freq"), root.read("\(policy)/scaling_max_freq"))
    }

    @Test("pinning writes the target to both limits; restoring puts back the files byte for byte")
    func pinAndRestore() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = Self.limits(root)
        #expect(before.min == "200000\n" && before.max == "1400000\n")
        let pin = try FrequencyPin(root: root, domain: try Self.little(root), targetKHz: 1_000_000)
        #expect(Self.limits(root).min == "1000000\n")
        #expect(Self.limits(root).max == "1000000\n")
        #expect(FrequencyPins.active.contains { $0 === pin })
        try pin.restore()
        #expect(Self.limits(root).min == before.min && Self.limits(root).max == before.max)
        #expect(!FrequencyPins.active.contains { $0 === pin })
        try pin.restore() // a second restore changes nothing
        #expect(Self.limits(root).min == before.min)
    }

    @Test("restoreAll (what an interrupted run calls) puts back every pin still in force")
    func restoreAll() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try FrequencyPin(root: root, domain: try Self.little(root), targetKHz: 600_000)
        #expect(Self.limits(root).max == "600000\n")
        #expect(FrequencyPins.restoreAll().isEmpty)
        #expect(Self.limits(root).min == "200000\n" && Self.limits(root).max == "1400000\n")
    }

    @Test("a frequency the policy does not offer is refused with the list, and nothing is written")
    func notOffered() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect {
            try FrequencyPin(root: root, domain: try Self.little(root), targetKHz: 1_050_000)
        } throws: { e in
            let d = (e as? DVFSError)?.description ?? ""
            return d.contains("1050 MHz is not offered") && d.contains("200 MHz, 300 MHz") && d.contains("scaling_available_frequencies")
        }
        #expect(Self.limits(root).min == "200000\n" && Self.limits(root).max == "1400000\n")
    }

    @Test("the writes keep min <= max after each one, when raising and when lowering", arguments: [200_000, 1_400_000, 700_000] as [Int64])
    func orderKeepsMinBelowMax(target: Int64) throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Start from a narrow window away from the target, as a previous pin would leave it.
        try Fixtures.write(["\(Self.policy)/scaling_min_freq": "1000000\n", "\(Self.policy)/scaling_max_freq": "1100000\n"], under: URL(fileURLWithPath: root.path))
        let violations = Mutex<[String]>([])
        let checking = SysfsWriter { (path: String, text: String) throws(DVFSError) in
            try SysfsWriter.files.write(path, text)
            let lo = root.readInt("\(Self.policy)/scaling_min_freq")!, hi = root.readInt("\(Self.policy)/scaling_max_freq")!
            if lo > hi { violations.withLock { $0.append("\(lo) > \(hi) after writing \(path)") } }
        }
        let pin = try FrequencyPin(root: root, domain: try Self.little(root), targetKHz: target, writer: checking)
        #expect(root.readInt("\(Self.policy)/scaling_min_freq") == target && root.readInt("\(Self.policy)/scaling_max_freq") == target)
        try pin.restore()
        #expect(Self.limits(root).min == "1000000\n" && Self.limits(root).max == "1100000\n")
        #expect(violations.withLock { $0 }.isEmpty, "\(violations.withLock { $0 })")
    }

    @Test("a write that fails part-way undoes the writes before it and names the file and the fix", arguments: [1, 2, 3])
    func failedWriteRollsBack(failing: Int) throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A narrow window away from the target, so that every write changes a file.
        try Fixtures.write(["\(Self.policy)/scaling_min_freq": "1000000\n", "\(Self.policy)/scaling_max_freq": "1100000\n"], under: URL(fileURLWithPath: root.path))
        let writes = Mutex(0)
        let flaky = SysfsWriter { (path: String, text: String) throws(DVFSError) in
            let n = writes.withLock { $0 += 1; return $0 }
            if n == failing + 1 { throw DVFSError(file: path, problem: "refused (test)") }
            try SysfsWriter.files.write(path, text)
        }
        #expect {
            try FrequencyPin(root: root, domain: try Self.little(root), targetKHz: 600_000, writer: flaky)
        } throws: { e in (e as? DVFSError)?.description.contains("refused (test)") ?? false }
        #expect(writes.withLock { $0 } > failing) // the failed write, then the undoing ones
        #expect(Self.limits(root).min == "1000000\n" && Self.limits(root).max == "1100000\n")
        #expect(!FrequencyPins.active.contains { $0.root == root })
    }

    @Test("a policy whose limits cannot be read is refused before anything is written")
    func unreadableLimits() throws {
        let (dir, root) = try Fixtures.writableCopy("odroid-xu3")
        defer { try? FileManager.default.removeItem(at: dir) }
        let domain = try Self.little(root)
        try FileManager.default.removeItem(atPath: root.absolute("\(Self.policy)/scaling_max_freq"))
        #expect {
            try FrequencyPin(root: root, domain: domain, targetKHz: 1_000_000)
        } throws: { e in
            let d = (e as? DVFSError)?.description ?? ""
            return d.contains("scaling_max_freq") && d.contains("--frequency current")
        }
        #expect(root.read("\(Self.policy)/scaling_min_freq") == "200000\n")
    }

    @Test("the real writer names the file and the fix when the file cannot be opened")
    func realWriterError() throws {
        #expect {
            try SysfsWriter.files.write("/nonexistent-socprof/scaling_min_freq", "1\n")
        } throws: { e in
            let d = (e as? DVFSError)?.description ?? ""
            return d.hasPrefix("/nonexistent-socprof/scaling_min_freq") && d.contains("No such file") && d.contains("root")
        }
    }
}

}

@Suite("voltage sources")
struct VoltageSourceTests {
    static let a15: [Board.VoltagePoint] = [.init(mhz: 600, volts: 0.912), .init(mhz: 1000, volts: 0.954),
                                            .init(mhz: 1400, volts: 1.042), .init(mhz: 1800, volts: 1.183)]

    @Test("a table is exact at its points, linear between them, and refuses frequencies outside")
    func interpolation() throws {
        #expect(VoltageSource.interpolate(Self.a15, mhz: 1000) == 0.954)
        #expect(abs(VoltageSource.interpolate(Self.a15, mhz: 1200)! - 0.998) < 1e-12)
        #expect(abs(VoltageSource.interpolate(Self.a15, mhz: 1700)! - (1.042 + 0.141 * 0.75)) < 1e-12)
        #expect(VoltageSource.interpolate(Self.a15, mhz: 1800) == 1.183)
        #expect(VoltageSource.interpolate(Self.a15, mhz: 500) == nil)
        #expect(VoltageSource.interpolate(Self.a15, mhz: 2000) == nil)
        #expect {
            try VoltageSource.table(Self.a15, source: "t").volts(atMHz: 2000, root: .live)
        } throws: { e in (e as? DVFSError)?.description.contains("2000.0 MHz is outside the voltage table (600.0–1800.0 MHz") ?? false }
    }

    @Test("the INA231's sensor_V is found beside its sensor_W and read in volts")
    func ina231Voltage() throws {
        let root = Fixtures.root("odroid-xu3")
        let sensors = PowerSensors.discover(root: root)
        let kfc = try #require(sensors.first { $0.path.contains("3-0045") })
        let v = try #require(VoltageSource.sensor(besides: kfc, root: root))
        #expect(v == .sensor(path: "sys/bus/i2c/drivers/INA231/3-0045/sensor_V"))
        #expect(try v.volts(atMHz: 1000, root: root) == 1.0)
    }

    @Test("a voltage table CSV: header and comments skipped; bad lines and order refused with the line")
    func parseTable() throws {
        let t = try VoltageSource.parseTable(csv: "# XU3 A7\nmhz,volts\n200,0.9195\n600, 0.944\n", file: "v.csv")
        #expect(t == [.init(mhz: 200, volts: 0.9195), .init(mhz: 600, volts: 0.944)])
        #expect { try VoltageSource.parseTable(csv: "600,0.9\n200,0.8\n", file: "v.csv") } throws: { e in
            (e as? DataFileError)?.description.contains("line 2") ?? false
        }
        #expect { try VoltageSource.parseTable(csv: "600,900\n", file: "v.csv") } throws: { e in
            (e as? DataFileError)?.description.contains("is not MHz,volts") ?? false
        }
        #expect { try VoltageSource.parseTable(csv: "", file: "v.csv") } throws: { _ in true }
    }

    @Test("the Odroid-XU3 board file carries both clusters' voltage tables")
    func boardTables() throws {
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let board = try Board.load(contentsOf: data.appendingPathComponent("boards/odroid-xu3.json"))
        #expect(board.clusters.first { $0.name == "big" }?.voltage_table?.value == Self.a15)
        #expect(board.clusters.first { $0.name == "little" }?.voltage_table?.value?.last == .init(mhz: 1400, volts: 1.253))
    }
}
