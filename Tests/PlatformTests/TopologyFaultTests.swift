import Counters
import Foundation
import LinuxSystem
import Platform
import Testing
import TestSupport

/// Odd sysfs and procfs trees are said, never merged into a guess.
@Suite("Topology on odd trees")
struct TopologyFaultTests {
    static let catalog = try! CoreCatalog(csv: "0x41,0xd03,cortex-a53,Cortex-A53\n0x41,0xd08,cortex-a72,Cortex-A72\n", file: "inline")

    @Test("a cpuinfo without MIDR keeps big and LITTLE apart (one cluster per cpufreq policy) and says so")
    func noMIDR() throws {
        let (dir, root) = try Fixtures.writableCopy("rk3399")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cpuinfo = try #require(root.read("proc/cpuinfo"))
        try Fixtures.write(["proc/cpuinfo": cpuinfo.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("CPU part") && !$0.hasPrefix("CPU implementer") }.joined(separator: "\n")], under: URL(fileURLWithPath: root.path))
        for cpu in 0..<6 { try? FileManager.default.removeItem(atPath: root.absolute("sys/devices/system/cpu/cpu\(cpu)/regs")) }
        let t = Topology(root: root, catalog: Self.catalog, registry: PMURegistry(root: root))
        #expect(t.clusters.map(\.cpus) == [CPUSet([0, 1, 2, 3]), CPUSet([4, 5])])
        #expect(t.clusters.allSatisfy { $0.core == nil })
        #expect(t.problems.contains { $0.hasPrefix("cpus 0-5: no MIDR") })
    }

    @Test("a cpu_capacity that is not a number is a problem named by path, not an unknown that picks another cluster")
    func badCapacity() throws {
        let (dir, root) = try Fixtures.writableCopy("rk3399")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Fixtures.write(["sys/devices/system/cpu/cpu4/cpu_capacity": "big\n"], under: URL(fileURLWithPath: root.path))
        let t = Topology(root: root, catalog: Self.catalog, registry: PMURegistry(root: root))
        #expect(t.problems.contains { $0.hasSuffix("cpu4/cpu_capacity: 'big' is not a capacity (0 to 1024); cpu4's capacity is unknown, so the biggest cluster is chosen by frequency") })
        // cpu5 still says 1024 and the A72s run faster: the big cluster stays the biggest.
        #expect(t.biggestCluster?.cpus == CPUSet([4, 5]))
    }

    @Test("cpufreq files that do not hold a frequency are problems named by path, once per policy; the rest of the policy is kept")
    func badFrequencies() throws {
        let (dir, root) = try Fixtures.writableCopy("rk3399")
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = "sys/devices/system/cpu/cpu4/cpufreq"
        try Fixtures.write(["\(policy)/scaling_cur_freq": "fast\n", "\(policy)/scaling_available_frequencies": "408000 x 1800000\n"],
                           under: URL(fileURLWithPath: root.path))
        let t = Topology(root: root, catalog: Self.catalog, registry: PMURegistry(root: root))
        let big = try #require(t.clusters.first { $0.cpus.contains(4) }?.frequencyDomains.first)
        #expect(big.currentKHz == nil && big.availableKHz == [408_000, 1_800_000] && big.maxKHz != nil)
        #expect(t.problems.filter { $0.contains("scaling_cur_freq: 'fast' is not a frequency in kHz") }.count == 1, "\(t.problems)")
        #expect(t.problems.contains { $0.contains("scaling_available_frequencies: 'x' is not a frequency in kHz; left out") })
    }
}
