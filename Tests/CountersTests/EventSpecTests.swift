import Counters
import LinuxSystem
import Testing

@Suite("Event syntax")
struct EventSpecTests {
    @Test("generic names and perf's aliases", arguments: [
        ("cycles", PerfEventType.hardware, UInt64(0)), ("cpu-cycles", .hardware, 0), ("instructions", .hardware, 1),
        ("branches", .hardware, 4), ("task-clock", .software, 1), ("page-faults", .software, 2), ("faults", .software, 2),
        ("cs", .software, 3), ("L1-dcache-load-misses", .hardwareCache, 0x10000), ("LLC-loads", .hardwareCache, 2),
        ("dTLB-store-misses", .hardwareCache, 0x10103),
    ])
    func generic(name: String, type: PerfEventType, config: UInt64) throws {
        let spec = try EventSpec.parse(name)
        guard case .generic(let g) = spec.kind else { Issue.record("\(name) parsed as \(spec.kind)"); return }
        #expect(g.type == type)
        #expect(g.config == config)
    }

    @Test func rawCodes() throws {
        #expect(try EventSpec.parse("r17").kind == .raw(0x17))
        #expect(try EventSpec.parse("r0011:u").kind == .raw(0x11))
        #expect(try EventSpec.parse("r0011:u").levels == .user)
        #expect(try EventSpec.parse("rffffffffffffffff").kind == .raw(.max))
    }

    @Test("malformed raw codes say what is wrong", arguments: [
        ("r0x17", "hex without 0x"), ("r11112222333344445", "64 bits"),
    ])
    func malformedRaw(text: String, fragment: String) {
        #expect {
            try EventSpec.parse(text)
        } throws: { error in
            "\(error)".contains(fragment)
        }
    }

    @Test func sysfsSyntax() throws {
        let s = try EventSpec.parse("armv8_cortex_a53/event=0x17,name=l2refill/:u")
        #expect(s.kind == .pmu(name: "armv8_cortex_a53", terms: [.init(name: "event", value: "0x17"), .init(name: "name", value: "l2refill")]))
        #expect(s.levels == .user)
        let alias = try EventSpec.parse("armv7_cortex_a15/l2d_cache_refill/")
        #expect(alias.kind == .pmu(name: "armv7_cortex_a15", terms: [.init(name: "l2d_cache_refill", value: nil)]))
    }

    @Test func libpfmNames() throws {
        #expect(try EventSpec.parse("arm_ac15::L2D_CACHE_REFILL").kind == .pfm("arm_ac15::L2D_CACHE_REFILL"))
        #expect(try EventSpec.parse("perf::TASK-CLOCK").kind == .pfm("perf::TASK-CLOCK"))
    }

    @Test func listsSplitOutsideSlashes() throws {
        let list = try EventSpec.parseList("cycles,armv8_cortex_a53/event=0x17,long/,task-clock:u,l2d_cache_refill")
        #expect(list.map(\.text) == ["cycles", "armv8_cortex_a53/event=0x17,long/", "task-clock:u", "l2d_cache_refill"])
        #expect(list[3].kind == .alias("l2d_cache_refill"))
    }

    @Test("bad syntax is one clear error", arguments: [
        ("", "empty"), ("cycles:z", "unknown modifier 'z'"), ("cycles:", "nothing after ':'"),
        ("armv8_cortex_a53/event=0x17", "missing closing '/'"), ("/event=1/", "no PMU name"),
        ("armv8_cortex_a53/event=/", "needs a name and a value"), ("armv8_cortex_a53/event=1,,/", "empty term"),
        ("cyc les", "is not an event name"),
    ])
    func badSyntax(text: String, fragment: String) {
        #expect {
            try EventSpec.parseList(text)
        } throws: { error in
            let message = "\(error)"
            return message.contains(fragment) && !message.contains("\n")
        }
    }

    @Test func cpuLists() throws {
        #expect(try CPUSet(parsing: "0-3,6,8-9\n").cpus == [0, 1, 2, 3, 6, 8, 9])
        #expect(try CPUSet(parsing: "").cpus == [])
        #expect(CPUSet([9, 0, 1, 2, 3, 6, 8]).description == "0-3,6,8-9")
        #expect(throws: CPUListError.self) { try CPUSet(parsing: "0-").cpus }
        #expect(throws: CPUListError.self) { try CPUSet(parsing: "3-1").cpus }
        #expect(throws: CPUListError.self) { try CPUSet(parsing: "a").cpus }
    }

    @Test func formatFields() throws {
        let f = try #require(PMUFormatField(parsing: "config:0-7,32-35\n"))
        #expect(f.word == 0 && f.width == 12)
        #expect(f.encode(0xABC) == 0xA_0000_00BC)
        #expect(f.encode(0x1000) == nil)
        let long = try #require(PMUFormatField(parsing: "config1:0"))
        #expect(long.word == 1 && long.encode(1) == 1)
        #expect(PMUFormatField(parsing: "bogus") == nil)
        #expect(PMUFormatField(parsing: "config:7-3") == nil)
    }
}
