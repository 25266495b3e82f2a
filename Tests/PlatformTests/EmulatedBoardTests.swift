import Counters
import Foundation
import LinuxSystem
import Platform
import Testing
import TestSupport

/// The emulated arm64 board's tree (QEMU virt, Cortex-A53): the core comes from the MIDR although
/// the PMU has the generic name, and every metric whose events the PMU does not implement is
/// unavailable with that reason instead of a formula that would count 0.
@Suite("The emulated arm64 board (QEMU virt) from its sysfs tree")
struct EmulatedBoardTests {
    @Test func oneClusterCoreFromMIDRAndImplementedMetricsOnly() throws {
        let platform = try PlatformDescription.load(root: Fixtures.root(Fixtures.emulatedBoard))
        #expect(platform.topology.clusters.count == 1)
        let cluster = try #require(platform.topology.clusters.first)
        #expect(cluster.core?.id == "cortex-a53")
        #expect(cluster.cpus.cpus == [0, 1])
        #expect(cluster.pmu?.name == "armv8_pmuv3")
        #expect(platform.eventTable(for: cluster) != nil, "the A53 table, chosen by MIDR 0xd03")
        #expect(platform.permissions.paranoid == 3)
        let metrics = Dictionary(uniqueKeysWithValues: platform.resolvedMetrics(for: cluster).map { ($0.metric.name, $0) })
        #expect(metrics["cycles"]?.isAvailable == true)
        for (name, event) in [("instructions", "INST_RETIRED (0x08)"), ("l1d_refills", "L1D_CACHE_REFILL (0x03)"),
                              ("l2_refills", "L2D_CACHE_REFILL (0x17)"), ("l2_writebacks", "L2D_CACHE_WB (0x18)")] {
            let m = try #require(metrics[name])
            #expect(!m.isAvailable, "\(name) must not be counted: the PMU does not implement it")
            #expect(m.reason?.contains("armv8_pmuv3 does not implement \(event)") == true, "\(name): \(m.reason ?? "")")
        }
        // Metrics built on them say which input is missing.
        #expect(metrics["ipc"]?.isAvailable == false)
        #expect(metrics["ipc"]?.reason?.hasPrefix("instructions is unavailable: armv8_pmuv3 does not implement") == true)
        #expect(metrics["dram_read_bytes"]?.isAvailable == false)
    }

    @Test("with -icount the PMU lists inst_retired, and instructions and IPC become available")
    func icountAddsInstructions() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("root")
        try FileManager.default.copyItem(at: Fixtures.directory.appendingPathComponent(Fixtures.emulatedBoard), to: copy)
        try Fixtures.write(["sys/devices/armv8_pmuv3/events/inst_retired": "event=0x0008\n"], under: copy)
        let platform = try PlatformDescription.load(root: SystemRoot(path: copy.path))
        let cluster = try #require(platform.topology.clusters.first)
        let metrics = Dictionary(uniqueKeysWithValues: platform.resolvedMetrics(for: cluster).map { ($0.metric.name, $0) })
        #expect(metrics["instructions"]?.isAvailable == true)
        #expect(metrics["ipc"]?.isAvailable == true)
        #expect(metrics["l1d_refills"]?.isAvailable == false)
    }
}
