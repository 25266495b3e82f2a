import Counters
import Platform
import Profiler
import Testing
import TestSupport

/// What `profile` counts, planned on the Odroid-XU3's tree without counting anything.
@Suite("profile plan: metrics and the events they need")
struct ProfilePlanTests {
    let platform = try! PlatformDescription.load(root: Fixtures.root("odroid-xu3"))

    var big: Cluster { platform.topology.cluster(named: "big")! }

    @Test("the software events, then each metric's events once, on the cluster's PMU")
    func ipc() throws {
        let plan = try ProfilePlan.make(platform: platform, cluster: big, metricNames: ["ipc", "cycles"], events: [])
        #expect(Set(plan.metrics.map(\.metric.name)) == ["ipc", "cycles"])
        let names = plan.counted.map(\.name)
        #expect(Array(names.prefix(3)) == ProfilePlan.softwareEvents)
        #expect(names.count == Set(names).count, "each event once: \(names)")
        // cycles and instructions on the A15's PMU (0x11, 0x08), nothing system-wide.
        let hardware = plan.counted.dropFirst(3)
        #expect(Set(hardware.map(\.config)) == [0x11, 0x08], "\(names)")
        #expect(hardware.allSatisfy { $0.pmuName == big.pmu?.name })
        #expect(plan.systemWide.isEmpty && plan.notes.isEmpty)
    }

    @Test("-e events are added after the metrics' ones; no cluster: software events and -e only")
    func extraEvents() throws {
        let plan = try ProfilePlan.make(platform: platform, cluster: nil, metricNames: nil, events: ["cpu-migrations,task-clock"])
        #expect(plan.metrics.isEmpty)
        #expect(plan.counted.map(\.name) == ProfilePlan.softwareEvents + ["cpu-migrations"])
    }

    @Test("an unknown metric names the known ones; an event that does not parse says so")
    func refusals() {
        #expect { try ProfilePlan.make(platform: platform, cluster: big, metricNames: ["ipc", "nosuch"], events: []) } throws: {
            "\($0)".hasPrefix("unknown metric 'nosuch'; the metrics are ") && "\($0)".contains("ipc")
        }
        #expect { try ProfilePlan.make(platform: platform, cluster: big, metricNames: nil, events: ["cycles:zz"]) } throws: {
            "\($0)".contains("cycles:zz")
        }
    }
}
