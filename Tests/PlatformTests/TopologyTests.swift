import Counters
import Foundation
import LinuxSystem
import Platform
import Testing
import TestSupport

@Suite("Topology on board fixture trees")
struct TopologyTests {
    static let catalog = try! CoreCatalog(csv: """
        implementer,part,core,name
        0x41,0xc07,cortex-a7,Cortex-A7
        0x41,0xc0f,cortex-a15,Cortex-A15
        0x41,0xd03,cortex-a53,Cortex-A53
        0x41,0xd05,cortex-a55,Cortex-A55
        0x41,0xd08,cortex-a72,Cortex-A72
        0x41,0xd0b,cortex-a76,Cortex-A76
        """, file: "inline")

    struct Expected: Sendable, CustomTestStringConvertible {
        let board: String
        let arch: String
        let clusters: [(core: String, cpus: [Int], pmu: String, maxKHz: Int64, l2: Int64)]
        var testDescription: String { board }
    }

    static let boards: [Expected] = [
        Expected(board: "odroid-xu3", arch: "armv7", clusters: [
            ("cortex-a7", [0, 1, 2, 3], "armv7_cortex_a7", 1_400_000, 512 * 1024),
            ("cortex-a15", [4, 5, 6, 7], "armv7_cortex_a15", 2_000_000, 2048 * 1024)]),
        Expected(board: "rk3399", arch: "arm64", clusters: [
            ("cortex-a53", [0, 1, 2, 3], "armv8_cortex_a53", 1_416_000, 512 * 1024),
            ("cortex-a72", [4, 5], "armv8_cortex_a72", 1_800_000, 1024 * 1024)]),
        Expected(board: "rk3588", arch: "arm64", clusters: [
            ("cortex-a55", [0, 1, 2, 3], "armv8_cortex_a55", 1_800_000, 128 * 1024),
            ("cortex-a76", [4, 5, 6, 7], "armv8_cortex_a76", 2_400_000, 512 * 1024)]),
    ]

    @Test("clusters, core names, PMUs, frequencies and caches", arguments: boards)
    func clusters(expected: Expected) throws {
        let root = Fixtures.root(expected.board)
        let t = Topology(root: root, catalog: Self.catalog, registry: PMURegistry(root: root))
        #expect(t.problems.isEmpty, "\(t.problems)")
        #expect(t.architecture == expected.arch)
        #expect(t.online == CPUSet(0..<(expected.clusters.last!.cpus.last! + 1)))
        #expect(t.clusters.count == expected.clusters.count)
        for (c, e) in zip(t.clusters, expected.clusters) {
            #expect(c.core?.id == e.core)
            #expect(c.cpus.cpus == e.cpus)
            #expect(c.pmu?.name == e.pmu)
            #expect(c.maxKHz == e.maxKHz, "\(c.name) max \(String(describing: c.maxKHz))")
            let l2 = try #require(c.caches.first { $0.level == 2 })
            #expect(l2.sizeBytes == e.l2)
            #expect(c.lineBytes == 64)
            #expect(c.frequencyDomains.allSatisfy { !$0.availableKHz.isEmpty && $0.governor != nil })
        }
        #expect(t.biggestCluster?.core?.id == expected.clusters.last!.core)
        #expect(t.cluster(named: expected.clusters[0].core)?.cpus.cpus == expected.clusters[0].cpus)
    }

    @Test func rk3588BigClusterHasTwoFrequencyDomainsAndAnL3() throws {
        let root = Fixtures.root("rk3588")
        let t = Topology(root: root, catalog: Self.catalog, registry: PMURegistry(root: root))
        let big = try #require(t.cluster(named: "cortex-a76"))
        #expect(big.frequencyDomains.map(\.cpus) == [[4, 5], [6, 7]])
        #expect(big.lastLevel == 3)
        let l3 = try #require(big.caches.first { $0.level == 3 })
        #expect(l3.sizeBytes == 3 * 1024 * 1024 && l3.sharedCPUs == CPUSet(0...7))
        #expect(big.midr?.revisionName == "r4p0")
    }

    @Test func thirtyTwoBitCoresComeFromProcCpuinfo() throws {
        let root = Fixtures.root("odroid-xu3")
        #expect(!root.exists("sys/devices/system/cpu/cpu0/regs"))
        let t = Topology(root: root, catalog: Self.catalog, registry: PMURegistry(root: root))
        let a15 = try #require(t.cluster(named: "cortex-a15"))
        #expect(a15.midr?.part == 0xc0f && a15.midr?.implementer == 0x41 && a15.midr?.revisionName == "r2p3")
        #expect(t.machineName == "Samsung Exynos (Flattened Device Tree)")
    }

    @Test func thisMachine() {
        let t = Topology(root: .live, catalog: Self.catalog, registry: PMURegistry(root: .live))
        #expect(!t.clusters.isEmpty)
        #expect(t.clusters.flatMap(\.cpus.cpus).sorted() == t.online.cpus)
        #if arch(x86_64)
        #expect(t.architecture == "x86_64")
        #expect(t.clusters.count == 1 && t.clusters[0].core?.id == "x86")
        #endif
    }

    @Test func unknownPartsHaveNoName() {
        let root = Fixtures.root("rk3399")
        let partial = try! CoreCatalog(csv: "0x41,0xd03,cortex-a53,Cortex-A53\n", file: "inline")
        let t = Topology(root: root, catalog: partial, registry: PMURegistry(root: root))
        #expect(t.clusters.map { $0.core?.id } == ["cortex-a53", nil])
        #expect(t.clusters[1].midr?.part == 0xd08)
    }

    @Test func cpuinfoAndSizes() {
        let info = CPUInfoFile(text: "processor\t: 0\nCPU implementer\t: 0x41\nCPU variant\t: 0x2\nCPU part\t: 0xc0f\nCPU revision\t: 3\n\nHardware\t: X\n")
        #expect(info.midr(cpu: 0) == MIDR(implementer: 0x41, variant: 2, part: 0xc0f, revision: 3))
        #expect(info.machine["Hardware"] == "X")
        #expect(Topology.parseSize("32K") == 32768 && Topology.parseSize("3M") == 3 << 20 && Topology.parseSize("512") == 512)
        #expect(Topology.parseSize("lots") == nil)
        #expect(MIDR(rawValue: 0x410fd034).part == 0xd03 && MIDR(rawValue: 0x410fd034).revision == 4)
    }

    @Test func malformedCoreCatalog() {
        #expect {
            try CoreCatalog(csv: "implementer,part,core,name\n0x41,zz,cortex-a1,A1\n", file: "cores.csv")
        } throws: { error in
            "\(error)" == "cores.csv (line 2): expected implementer,part,core,name with hex numbers, found '0x41,zz,cortex-a1,A1'"
        }
    }

    @Test func cpuSetsAndPinning() throws {
        #expect(try CPUSet(parsing: "0-2,5").description == "0-2,5")
        let mine = Affinity.current()
        #expect(!mine.isEmpty)
        // Pin this thread to its first allowed CPU, check, and restore.
        // On a thread of its own, so that the test runner's threads keep their affinity.
        let done = DispatchSemaphore(value: 0)
        let target = mine.cpus[0]
        let runner = Thread {
            do {
                try Affinity.pin(to: [target])
                #expect(Affinity.current() == [target])
                #expect(Affinity.currentCPU() == target)
            } catch { Issue.record("\(error)") }
            done.signal()
        }
        runner.start()
        done.wait()
        #expect {
            try Affinity.pin(to: [100_000])
        } throws: { error in "\(error)".contains("EINVAL") }
    }
}
