import Counters
import LinuxSystem
import Platform
import Testing
import TestSupport

/// `--cluster`, `--cpus` and the default placement on the Odroid-XU3's tree (little cpus 0-3,
/// big 4-7), without running anything.
@Suite("placement: the CPUs a command runs on")
struct PlacementTests {
    let root = Fixtures.root("odroid-xu3")
    let all = CPUSet(Array(0...7))

    @Test("by default the biggest cluster, named as the board names it")
    func biggest() throws {
        let p = try Placement.resolve(.cluster(nil), root: root, allowed: all)
        #expect(p.cpus == [4, 5, 6, 7] && p.label == "cluster big (cpus 4-7)" && p.cluster?.name == "big")
    }

    @Test("a cluster by name keeps only the CPUs this process may use; with none, an error naming them")
    func named() throws {
        let p = try Placement.resolve(.cluster("little"), root: root, allowed: CPUSet([1, 2, 5]))
        #expect(p.cpus == [1, 2] && p.label == "cluster little (cpus 1-2)")
        #expect { try Placement.resolve(.cluster("big"), root: root, allowed: CPUSet([0])) } throws: {
            "\($0)" == "cluster big (cpus 4-7) has no CPU available to this process"
        }
        #expect { try Placement.resolve(.cluster("medium"), root: root, allowed: all) } throws: {
            "\($0)".hasPrefix("no cluster 'medium'; this machine has ") && "\($0)".contains("little") && "\($0)".contains("big")
        }
    }

    @Test("a CPU list: its cluster is the one it overlaps; a CPU outside the affinity is refused")
    func cpus() throws {
        let p = try Placement.resolve(.cpus([3, 4]), root: root, allowed: all)
        #expect(p.cpus == [3, 4] && p.label == "cpus 3-4" && p.cluster?.name == "little")
        #expect(try Placement.resolve(.cpus([6]), root: root, allowed: all).cluster?.name == "big")
        #expect { try Placement.resolve(.cpus([2, 9]), root: root, allowed: all) } throws: {
            "\($0)" == "--cpus 2,9: cpu9 is not available to this process (allowed: 0-7)"
        }
    }
}
