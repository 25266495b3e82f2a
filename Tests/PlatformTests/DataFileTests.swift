import Counters
import Foundation
import LinuxSystem
import Platform
import Testing
import TestSupport

/// The data in events/ and boards/, checked against the reference and against each other.
@Suite("events/ and boards/ data")
struct DataFileTests {
    static let data = DataDirectory.locate()!
    static let mapfile = try! EventMapfile.load(data: data)
    static let metrics = try! MetricCatalog.load(data: data)
    static let tables: [String: EventTable] = Dictionary(uniqueKeysWithValues: mapfile.tables.map { ($0, try! EventTable.load($0, data: data)) })
    static let required = ["cortex-a7", "cortex-a15", "cortex-a53", "cortex-a55", "cortex-a57", "cortex-a72", "cortex-a73", "cortex-a76", "neoverse-n1"]

    @Test func everyRequiredCoreHasATableAndAMIDR() throws {
        let catalog = try CoreCatalog(contentsOf: Self.data.appendingPathComponent("events/cores.csv"))
        for core in Self.required {
            #expect(Self.tables["arm/\(core)"] != nil, "events/arm/\(core).json")
            #expect(catalog.coreIDs.contains(core))
        }
        // The mapfile's MIDRs name the same cores as cores.csv.
        let midrs: [(UInt32, String)] = [(0x410fc070, "cortex-a7"), (0x410fc0f0, "cortex-a15"), (0x410fd030, "cortex-a53"),
                                         (0x410fd050, "cortex-a55"), (0x410fd070, "cortex-a57"), (0x410fd080, "cortex-a72"),
                                         (0x410fd090, "cortex-a73"), (0x410fd0b0, "cortex-a76"), (0x410fd0c0, "neoverse-n1")]
        for (raw, core) in midrs {
            let midr = MIDR(rawValue: raw | 0x00300004) // variant and revision do not matter
            #expect(Self.mapfile.table(for: midr) == "arm/\(core)")
            #expect(catalog.core(for: midr)?.id == core)
        }
    }

    /// Tests/Fixtures/reference/arm-event-availability.tsv is extracted from the reference's
    /// availability matrix (arm-pmu-facts.md §2.1).
    static func referenceMatrix() throws -> [(code: UInt64, name: String, cores: [String: Bool])] {
        let url = Fixtures.directory.appendingPathComponent("reference/arm-event-availability.tsv")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: "\t").map(String.init)
        return lines.dropFirst().map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            var cores: [String: Bool] = [:]
            for (i, h) in header.enumerated().dropFirst(2) { cores[h] = f[i] == "Y" }
            return (UInt64(f[0].dropFirst(2), radix: 16)!, f[1], cores)
        }
    }

    @Test("every event code agrees with the reference", arguments: required)
    func tableAgreesWithReference(core: String) throws {
        let table = try #require(Self.tables["arm/\(core)"])
        let matrix = try Self.referenceMatrix()
        #expect(matrix.count > 30)
        for row in matrix {
            let implemented = try #require(row.cores[core] as Bool?)
            let byCode = table.events.first { $0.code == row.code }
            if implemented {
                #expect(byCode?.name == row.name, "\(core): 0x\(String(row.code, radix: 16)) should be \(row.name)")
            } else {
                #expect(byCode == nil, "\(core) does not implement 0x\(String(row.code, radix: 16)) \(row.name)")
            }
        }
        // No duplicate codes.
        #expect(Set(table.events.map(\.code)).count == table.events.count)
    }

    @Test("each metric formula names only events its cores implement")
    func formulasUseImplementedEvents() throws {
        var checked = 0
        for metric in Self.metrics.metrics {
            for f in metric.formulas where f.unavailable == nil {
                for core in f.cores ?? [] where Self.required.contains(core) {
                    let table = try #require(Self.tables["arm/\(core)"])
                    for name in f.expression.names where name.first!.isUppercase && !name.contains("/") && GenericEvent.named(name) == nil {
                        #expect(table.event(named: name) != nil, "\(metric.name): '\(f.text)' names \(name), which \(core) does not implement")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 40)
    }

    @Test("every metric resolves on every required core, or says why not", arguments: required)
    func everyMetricResolves(core: String) {
        let pmu = PMU(name: "pmu", type: PerfEventType(rawValue: 8), cpus: [0], cpumask: nil, formats: [:], aliases: [:])
        let ctx = MetricContext(core: CoreType(id: core, name: core), isX86: false, table: Self.tables["arm/\(core)"], corePMU: pmu,
                                registry: PMURegistry(root: .live, pmus: [pmu]), permissions: PerfPermissions(paranoid: 2, privileged: false), lineSize: 64)
        for m in Self.metrics.resolveAll(in: ctx) {
            if !m.isAvailable { #expect(m.reason?.isEmpty == false, "\(m.metric.name) unavailable without a reason") }
        }
        let resolved = Dictionary(uniqueKeysWithValues: Self.metrics.resolveAll(in: ctx).map { ($0.metric.name, $0) })
        for name in ["cycles", "instructions", "ipc", "l1d_refills", "l2_refills", "l2_writebacks", "dram_read_bytes"] {
            #expect(resolved[name]?.isAvailable == true, "\(core): \(name): \(resolved[name]?.reason ?? "")")
        }
        let dynamIQ = ["cortex-a55", "cortex-a76", "neoverse-n1"].contains(core)
        #expect(resolved["l3_refills"]?.isAvailable == dynamIQ)
        #expect(resolved["dram_write_bytes"]?.isAvailable == !dynamIQ, "DynamIQ cores have no core event for L3 write-backs")
        // A formula evaluates from counted values (the A55's adds its prefetch L3 refills, none here).
        let read = resolved["dram_read_bytes"]!
        let event = dynamIQ ? "L3D_CACHE_REFILL" : "L2D_CACHE_REFILL"
        #expect(read.evaluate(events: [event: 1000, "L3D_CACHE_REFILL_PREFETCH": 0]) == 64_000)
    }

    @Test("DRAM formulas prefer the memory controller when it may be opened")
    func rockchipDDRPreferredWhenAllowed() throws {
        let root = Fixtures.root("rk3588")
        for (permissions, expectUncore) in [(PerfPermissions(paranoid: 2, privileged: false), false),
                                            (PerfPermissions(paranoid: 0, privileged: false), true)] {
            let registry = PMURegistry(root: root)
            let a76 = try #require(registry.pmu(named: "armv8_cortex_a76"))
            let ctx = MetricContext(core: CoreType(id: "cortex-a76", name: "Cortex-A76"), isX86: false, table: Self.tables["arm/cortex-a76"],
                                    corePMU: a76, registry: registry, permissions: permissions, lineSize: 64)
            let read = Self.metrics.resolve("dram_read_bytes", in: ctx)
            let write = Self.metrics.resolve("dram_write_bytes", in: ctx)
            if expectUncore {
                #expect(read.formula?.text == "rockchip_ddr/read-bytes/ * 1048576" && read.formula?.scope == "system")
                #expect(write.events.map(\.spec) == ["rockchip_ddr/write-bytes/"])
                #expect(read.evaluate(events: ["rockchip_ddr/read-bytes/": 2]) == 2_097_152.0)
            } else {
                #expect(read.formula?.text == "L3D_CACHE_REFILL * line_size")
                #expect(read.events.map(\.spec) == ["armv8_cortex_a76/event=0x2a/"])
                #expect(!write.isAvailable)
                #expect(write.reason?.contains("rockchip_ddr is registered but counts system-wide only") == true)
                #expect(write.reasons.contains { $0.contains("DSU PMU") })
            }
        }
    }

    @Test("all board files load and are sourced", arguments: ["odroid-xu3", "odroid-xu4", "hikey970", "rk3399", "rk3588", "raspberry-pi-4", "raspberry-pi-5", "jetson-nano"])
    func boardFiles(name: String) throws {
        let board = try Board.load(contentsOf: Self.data.appendingPathComponent("boards/\(name).json"))
        #expect(board.name == name)
        let catalog = try CoreCatalog(contentsOf: Self.data.appendingPathComponent("events/cores.csv"))
        for c in board.clusters {
            #expect(catalog.coreIDs.contains(c.core), "\(name): core \(c.core)")
            #expect(Self.tables["arm/\(c.core)"] != nil, "\(name): no event table for \(c.core)")
            for s in [c.max_freq_khz?.source, c.l2_kib?.source, c.fp32_flops_per_cycle?.source, c.counters?.source] {
                #expect(s?.isEmpty == false, "\(name) \(c.name): every figure has a source")
            }
            if let v = c.fp32_flops_per_cycle, v.value == nil { #expect(v.source.contains("NOT FOUND") || v.source.contains("CONFLICT")) }
        }
    }

    @Test("each fixture matches its board file", arguments: [("odroid-xu3", "odroid-xu3"), ("rk3399", "rk3399"), ("rk3588", "rk3588")])
    func boardMatching(fixture: String, board: String) throws {
        let boards = try BoardCatalog(directory: Self.data.appendingPathComponent("boards"))
        #expect(boards.boards.count == 8)
        #expect(boards.match(root: Fixtures.root(fixture))?.name == board)
        let p = try PlatformDescription.load(root: Fixtures.root(fixture))
        #expect(p.board?.name == board)
        // The board file's clusters are the ones sysfs shows.
        for c in p.topology.clusters {
            let sheet = try #require(p.boardCluster(for: c))
            #expect(CPUSet(sheet.cpus) == c.cpus && sheet.core == c.core?.id && sheet.pmu == c.pmu?.name)
            #expect(c.name == sheet.name)
        }
        #expect(try PlatformDescription.load(root: Fixtures.root(fixture), board: "jetson-nano").board?.name == "jetson-nano")
    }

    @Test func thisMachineHasNoBoardFile() throws {
        let p = try PlatformDescription.load(root: .live)
        #if arch(x86_64)
        #expect(p.board == nil)
        #expect(p.boardSelection.contains("sysfs alone"))
        #endif
    }

    @Test("malformed data files name the file, the place and the problem")
    func malformedFiles() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let badBoard = dir.appendingPathComponent("bad.json")
        try Data(#"{"name": "x", "clusters": [{"name": "a", "core": "cortex-a7", "cpus": "0-3"}]}"#.utf8).write(to: badBoard)
        #expect {
            try Board.load(contentsOf: badBoard)
        } throws: { error in
            let d = "\(error)"
            return d.contains("bad.json") && d.contains("clusters[0].cpus") && d.contains("expected Array")
        }
        try Data(#"{"name": "x", "clusters": [{"name": "a", "core": "c", "cpus": [0]}, {"name": "b", "core": "c", "cpus": [0]}]}"#.utf8).write(to: badBoard)
        #expect { try Board.load(contentsOf: badBoard) } throws: { "\($0)".contains("clusters[1].cpus") && "\($0)".contains("cpu0 is in two clusters") }
        try Data("{ not json".utf8).write(to: badBoard)
        #expect { try Board.load(contentsOf: badBoard) } throws: { "\($0)".contains("bad.json") && "\($0)".contains("not valid JSON") }
        #expect {
            try EventTable(name: "t", json: Data(#"[{"EventCode": "17", "EventName": "X"}]"#.utf8), file: "t.json")
        } throws: { "\($0)" == "t.json (entry 0): EventCode '17' is not hex such as \"0x17\"" }
        #expect {
            try EventTable(name: "t", json: Data(#"[{"EventCode": "0x17"}]"#.utf8), file: "t.json")
        } throws: { "\($0)".contains("entry 0 (0x17)") && "\($0)".contains("missing EventName") }
        #expect {
            try MetricCatalog(json: Data(#"{"metrics": [{"name": "m", "formulas": [{"expr": "A +"}]}]}"#.utf8), file: "metrics.json")
        } throws: { "\($0)".contains("metrics[0] (m).formulas[0]") && "\($0)".contains("at character") }
        #expect {
            try MetricCatalog(json: Data(#"{"metrics": [{"name": "m", "formulas": [{"expr": "foo * 2"}]}]}"#.utf8), file: "metrics.json")
        } throws: { "\($0)".contains("'foo' is not an EVENT_NAME") }
        #expect {
            try EventMapfile(csv: "#MIDR,Version,Filename,EventType\nabc,v1,arm/x,core\n", file: "mapfile.csv")
        } throws: { "\($0)".contains("mapfile.csv (line 2)") }
        let boards = try BoardCatalog(directory: Self.data.appendingPathComponent("boards"))
        #expect { try boards.select("odroid-xu5") } throws: { "\($0)".contains("did you mean 'odroid-xu3'") || "\($0)".contains("did you mean 'odroid-xu4'") }
    }
}

/// The corrections of issue 16 part 5 (board-truth review): each value as its source gives it.
extension DataFileTests {
    static func context(_ core: String) -> MetricContext {
        let pmu = PMU(name: "pmu", type: PerfEventType(rawValue: 8), cpus: [0], cpumask: nil, formats: [:], aliases: [:])
        return MetricContext(core: CoreType(id: core, name: core), isX86: false, table: tables["arm/\(core)"], corePMU: pmu,
                             registry: PMURegistry(root: .live, pmus: [pmu]), permissions: PerfPermissions(paranoid: 2, privileged: false), lineSize: 64)
    }

    static func board(_ name: String) throws -> Board {
        try Board.load(contentsOf: data.appendingPathComponent("boards/\(name).json"))
    }

    @Test("the A55 table has 0xC0 L3D_CACHE_REFILL_PREFETCH and its DRAM read formula adds it")
    func a55PrefetchRefills() throws {
        let a55 = try #require(Self.tables["arm/cortex-a55"])
        let e = try #require(a55.events.first { $0.code == 0xc0 })
        #expect(e.name == "L3D_CACHE_REFILL_PREFETCH")
        #expect(a55.event(named: "L3D_CACHE_REFILL_PREFETCH")?.code == 0xc0)
        #expect(a55.events.count == 66)
        // No other core here gains the event: A7/A53 use 0xC0 for their own IMPDEF events.
        #expect(Self.tables["arm/cortex-a76"]?.event(named: "L3D_CACHE_REFILL_PREFETCH") == nil)
        let read = Self.metrics.resolve("dram_read_bytes", in: Self.context("cortex-a55"))
        #expect(read.formula?.text == "(L3D_CACHE_REFILL + L3D_CACHE_REFILL_PREFETCH) * line_size")
        #expect(Set(read.events.map(\.name)) == ["L3D_CACHE_REFILL", "L3D_CACHE_REFILL_PREFETCH"])
        #expect(read.evaluate(events: ["L3D_CACHE_REFILL": 1000, "L3D_CACHE_REFILL_PREFETCH": 500]) == 96_000)
        #expect(read.formula?.note?.contains("0xC0") == true && read.formula?.note?.contains("undercount") == true)
    }

    @Test("the A76/N1 DRAM read note says prefetch-driven refills are missed", arguments: ["cortex-a76", "neoverse-n1"])
    func dynamIQPrefetchCaveat(core: String) {
        let read = Self.metrics.resolve("dram_read_bytes", in: Self.context(core))
        #expect(read.formula?.text == "L3D_CACHE_REFILL * line_size")
        let note = read.formula?.note ?? ""
        #expect(note.contains("Prefetches and stashes that target the L3") || note.contains("prefetches and stashes that target the L3"))
        #expect(note.contains("read low"))
    }

    @Test("write-back notes: A7's L2D_CACHE_WB does not count coherency transfers; A73 has no L1D read/write split")
    func writeBackAndSplitNotes() {
        let a7 = Self.context("cortex-a7")
        let wb = Self.metrics.resolve("l2_writebacks", in: a7).formula?.note ?? ""
        #expect(!wb.contains("includes snoop responses that carry data"))
        #expect(wb.contains("on A7 data transfers made for a coherency request are not counted"))
        let write = Self.metrics.resolve("dram_write_bytes", in: a7).formula?.note ?? ""
        #expect(!write.contains("includes snoop data responses"))
        #expect(write.contains("On A7 data transfers made for a coherency request are not counted"))
        let l1d = Self.metrics.resolve("l1d_refills", in: Self.context("cortex-a73")).formula?.note ?? ""
        #expect(l1d.contains("A7, A53 and A73 have no read/write split"))
        // The A73 table indeed has no 0x42/0x43.
        #expect(Self.tables["arm/cortex-a73"]?.events.contains { $0.code == 0x42 || $0.code == 0x43 } == false)
    }

    @Test("Broadcom Brahma-B53's MIDR resolves to the cortex-a53 table")
    func brahmaB53() throws {
        let midr = MIDR(rawValue: 0x420f1000 | 0x00100002)
        #expect(midr.implementer == 0x42 && midr.part == 0x100)
        #expect(Self.mapfile.table(for: midr) == "arm/cortex-a53")
        let catalog = try CoreCatalog(contentsOf: Self.data.appendingPathComponent("events/cores.csv"))
        #expect(catalog.core(for: midr)?.id == "brahma-b53")
        #expect(Self.mapfile.tables.count == 9, "no new table: Brahma-B53 shares the A53's")
    }

    @Test("Odroid-XU3/XU4 A7 and A15 clusters have 64-byte lines, sourced from the TRMs", arguments: ["odroid-xu3", "odroid-xu4"])
    func odroidLineSizes(name: String) throws {
        let b = try Self.board(name)
        let little = try #require(b.clusters.first { $0.core == "cortex-a7" })
        let big = try #require(b.clusters.first { $0.core == "cortex-a15" })
        #expect(little.line_bytes?.value == 64 && little.line_bytes?.source.contains("DDI0464D") == true)
        #expect(big.line_bytes?.value == 64 && big.line_bytes?.source.contains("DDI0438") == true)
    }

    @Test("the Odroid fixture's A7 L1 I-cache has 32-byte lines and 512 sets; the A15's keeps 64 and 256")
    func odroidFixtureA7InstructionLine() throws {
        let root = Fixtures.root("odroid-xu3")
        for cpu in 0...3 {
            let dir = "sys/devices/system/cpu/cpu\(cpu)/cache/index1"
            #expect(root.readTrimmed("\(dir)/type") == "Instruction")
            #expect(root.readInt("\(dir)/coherency_line_size") == 32 && root.readInt("\(dir)/number_of_sets") == 512)
        }
        let t = Topology(root: root, catalog: try CoreCatalog(contentsOf: Self.data.appendingPathComponent("events/cores.csv")),
                         registry: PMURegistry(root: root))
        let a7 = try #require(t.cluster(named: "cortex-a7"))
        let l1i = try #require(a7.caches.first { $0.level == 1 && $0.type == "Instruction" })
        #expect(l1i.lineBytes == 32 && l1i.sizeBytes == 32 * 1024 && l1i.ways == 2)
        #expect(a7.lineBytes == 64, "the cluster's line is its last-level data line")
        let a15 = try #require(t.cluster(named: "cortex-a15"))
        #expect(a15.caches.first { $0.level == 1 && $0.type == "Instruction" }?.lineBytes == 64)
    }

    @Test("Raspberry Pi 4: 1.8 GHz (R1.4, Pi 400) and LPDDR4-3200, older revisions named")
    func raspberryPi4() throws {
        let b = try Self.board("raspberry-pi-4")
        let all = try #require(b.clusters.first)
        #expect(all.max_freq_khz?.value == 1_800_000)
        let src = all.max_freq_khz?.source ?? ""
        #expect(src.contains("overclocking.adoc") && src.contains("R1.3") && src.contains("1500"))
        #expect(b.dram?.data_rate_mts?.value == 3200)
        #expect(b.dram?.data_rate_mts?.source.contains("sdram_freq 3200") == true)
    }

    @Test("the RK3588 fixture has mainline's OPPs: A55 1008-1800 MHz, A76 1200-2400 MHz")
    func rk3588MainlineOPPs() throws {
        let root = Fixtures.root("rk3588")
        let t = Topology(root: root, catalog: try CoreCatalog(contentsOf: Self.data.appendingPathComponent("events/cores.csv")),
                         registry: PMURegistry(root: root))
        let a55 = try #require(t.cluster(named: "cortex-a55"))
        #expect(a55.frequencyDomains.map(\.availableKHz) == [[1_008_000, 1_200_000, 1_416_000, 1_608_000, 1_800_000]])
        #expect(a55.frequencyDomains.map(\.minKHz) == [1_008_000] && a55.frequencyDomains.map(\.scalingMinKHz) == [1_008_000])
        let a76 = try #require(t.cluster(named: "cortex-a76"))
        let big: [Int64] = [1_200_000, 1_416_000, 1_608_000, 1_800_000, 2_016_000, 2_208_000, 2_400_000]
        #expect(a76.frequencyDomains.map(\.availableKHz) == [big, big])
        #expect(a76.frequencyDomains.map(\.minKHz) == [1_200_000, 1_200_000])
        #expect(a76.frequencyDomains.allSatisfy { $0.currentKHz.map { big.contains($0) } == true })
    }

    @Test("HiKey970 cache sizes from pytorch/cpuinfo's Kirin tables")
    func hikey970Caches() throws {
        let b = try Self.board("hikey970")
        let a53 = try #require(b.clusters.first { $0.core == "cortex-a53" })
        let a73 = try #require(b.clusters.first { $0.core == "cortex-a73" })
        #expect([a53.l1d_kib?.value, a53.l1i_kib?.value, a53.l2_kib?.value] == [32, 32, 1024])
        #expect([a73.l1d_kib?.value, a73.l1i_kib?.value, a73.l2_kib?.value] == [64, 64, 2048])
        for s in [a53.l1d_kib, a53.l1i_kib, a53.l2_kib, a73.l1d_kib, a73.l1i_kib, a73.l2_kib] {
            #expect(s?.source.contains("pytorch/cpuinfo") == true)
        }
        #expect(a53.l2_kib?.source.contains("Kirin 970") == true)
    }
}
