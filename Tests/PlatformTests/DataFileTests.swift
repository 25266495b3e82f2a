import Counters
import Foundation
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
        // A formula evaluates from counted values.
        let read = resolved["dram_read_bytes"]!
        let event = dynamIQ ? "L3D_CACHE_REFILL" : "L2D_CACHE_REFILL"
        #expect(read.evaluate(events: [event: 1000]) == 64_000)
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
