import Calibration
import Foundation
import Testing

/// gem5 options from board values: the real Odroid-XU3 board file, unknown values, one cluster,
/// and DRAM standards against gem5's DRAMInterface classes.
@Suite("gem5 config from a board file")
struct Gem5ConfigTests {
    static let boardsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("boards")

    /// A board file read with JSONSerialization (CalibrationTests does not depend on Platform) into
    /// the builder's input, the way the CLI converts a `Board`.
    static func input(board name: String) throws -> Gem5BoardInput {
        let data = try Data(contentsOf: boardsDirectory.appendingPathComponent("\(name).json"))
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        func sourced<T>(_ obj: Any?, _ type: T.Type) -> Gem5BoardValue<T> {
            guard let d = obj as? [String: Any] else { return Gem5BoardValue(nil, source: "absent") }
            return Gem5BoardValue(d["value"] as? T, source: d["source"] as? String ?? "")
        }
        func int(_ obj: Any?) -> Gem5BoardValue<Int> { sourced(obj, Int.self) }
        let clusters = try #require(doc["clusters"] as? [[String: Any]]).map { c in
            let freq = sourced(c["max_freq_khz"], Int.self)
            return Gem5ClusterInput(
                name: c["name"] as! String,
                core: Gem5BoardValue(c["core"] as? String, source: "core"),
                cpuCount: Gem5BoardValue((c["cpus"] as? [Int])?.count, source: "cpus"),
                maxFreqKHz: Gem5BoardValue(freq.value.map(Int64.init), source: freq.source),
                l1dKiB: int(c["l1d_kib"]), l1iKiB: int(c["l1i_kib"]), l2KiB: int(c["l2_kib"]),
                l2Shared: Gem5BoardValue(c["l2_shared"] as? Bool, source: "l2_shared"),
                lineBytes: int(c["line_bytes"]))
        }
        let dram = doc["dram"] as? [String: Any]
        return Gem5BoardInput(
            name: doc["name"] as! String, clusters: clusters, l3KiB: int(doc["l3_kib"]),
            dramType: Gem5BoardValue(dram?["type"] as? String, source: "dram.type"),
            dramDataRateMTs: sourced(dram?["data_rate_mts"], Double.self),
            dramChannels: int(dram?["channels"]), dramBusWidthBits: int(dram?["bus_width_bits"]))
    }

    static func cluster(_ name: String = "all", core: String? = "cortex-a72", cpus: Int? = 4, khz: Int64? = 1_500_000,
                        l1d: Int? = 32, l1i: Int? = 48, l2: Int? = 1024, shared: Bool? = true, line: Int? = 64) -> Gem5ClusterInput {
        Gem5ClusterInput(name: name, core: Gem5BoardValue(core, source: "core src"), cpuCount: Gem5BoardValue(cpus, source: "cpus src"),
                         maxFreqKHz: Gem5BoardValue(khz, source: "freq src"), l1dKiB: Gem5BoardValue(l1d, source: "l1d src"),
                         l1iKiB: Gem5BoardValue(l1i, source: "l1i src"), l2KiB: Gem5BoardValue(l2, source: "l2 src"),
                         l2Shared: Gem5BoardValue(shared, source: "shared src"), lineBytes: Gem5BoardValue(line, source: "line src: NOT FOUND"))
    }

    static func board(_ clusters: [Gem5ClusterInput], dram: String? = "LPDDR4", mts: Double? = 3200, channels: Int? = nil,
                      l3: Int? = nil) -> Gem5BoardInput {
        Gem5BoardInput(name: "test", clusters: clusters, l3KiB: Gem5BoardValue(l3, source: "l3 src"),
                       dramType: Gem5BoardValue(dram, source: "dram src"), dramDataRateMTs: Gem5BoardValue(mts, source: "mts src"),
                       dramChannels: Gem5BoardValue(channels, source: "ch src"), dramBusWidthBits: Gem5BoardValue(nil, source: "bits src"))
    }

    /// The option names of gem5's configs/common/Options.py (se.py) and fs_bigLITTLE.py the builder
    /// may write, as read at gem5 v24.0.0.1 (docs/gem5-config.md).
    static let seOptionNames: Set<String> = ["--num-cpus", "--cpu-type", "--cpu-clock", "--caches", "--l2cache", "--l1d_size", "--l1i_size",
                                             "--l2_size", "--cacheline_size", "--mem-type", "--mem-channels"]
    static let bigLittleOptionNames: Set<String> = ["--caches", "--cpu-type", "--big-cpus", "--little-cpus", "--big-cpu-clock",
                                                    "--little-cpu-clock", "--last-cache-level"]

    static func name(_ option: String) -> String { String(option.split(separator: "=", maxSplits: 1)[0]) }

    @Test("Odroid-XU3: per-cluster se.py options and a big.LITTLE line from the real board file")
    func odroidXU3() throws {
        let input = try Self.input(board: "odroid-xu3")
        let config = Gem5ConfigBuilder.build(input)
        #expect(config.clusters.map(\.name) == input.clusters.map(\.name))
        let big = try #require(config.clusters.first { $0.name == "big" })
        let little = try #require(config.clusters.first { $0.name == "little" })
        for o in ["--num-cpus=4", "--cpu-type=ex5_big", "--cpu-clock=2GHz", "--caches", "--l1d_size=32KiB", "--l1i_size=32KiB",
                  "--l2cache", "--l2_size=2MiB", "--mem-type=LPDDR3_1600_1x32", "--mem-channels=2"] {
            #expect(big.options.contains(o), "big lacks \(o): \(big.options)")
        }
        for o in ["--num-cpus=4", "--cpu-type=ex5_LITTLE", "--cpu-clock=1400MHz", "--l2_size=512KiB"] {
            #expect(little.options.contains(o), "little lacks \(o): \(little.options)")
        }
        for c in config.clusters {
            // The line size is 64 B in the board file (A7 and A15 TRMs): its option, no note saying it is unknown.
            #expect(c.options.contains("--cacheline_size=64"))
            #expect(!c.notes.contains { $0.contains("line_bytes unknown") })
            #expect(Set(c.options.map(Self.name)).isSubset(of: Self.seOptionNames), "\(c.options)")
            #expect(Set(c.options.map(Self.name)).count == c.options.count, "an option twice: \(c.options)")
            let line = try #require(c.values.first { $0.key == "line_bytes" })
            #expect(line.value == .int(64) && line.option == "--cacheline_size=64")
        }
        // Each value keeps its own cluster's source.
        #expect(big.values.first { $0.key == "l2_kib" }?.source.contains("ex5_big.py") == true)
        #expect(little.values.first { $0.key == "l2_kib" }?.source.contains("ex5_LITTLE.py") == true)
        #expect(big.values.first { $0.key == "l2_kib" }?.value == .int(2048))
        #expect(big.values.first { $0.key == "max_freq_khz" }?.option == "--cpu-clock=2GHz")

        let bl = try #require(config.bigLittle)
        #expect(bl.big == "big" && bl.little == "little")
        for o in ["--big-cpus=4", "--little-cpus=4", "--big-cpu-clock=2GHz", "--little-cpu-clock=1400MHz", "--cpu-type=exynos", "--caches"] {
            #expect(bl.options.contains(o), "fs_bigLITTLE lacks \(o): \(bl.options)")
        }
        #expect(Set(bl.options.map(Self.name)).isSubset(of: Self.bigLittleOptionNames), "\(bl.options)")
        #expect(!bl.options.contains("--last-cache-level=3"), "the XU3 has no L3")
        // The exynos models' caches are the board file's (which took them from gem5): no size mismatch noted.
        #expect(!bl.notes.contains { $0.contains("takes no cache sizes") }, "\(bl.notes)")
        // The board's 1650 MT/s against the class's 1600.
        #expect(config.notes.contains { $0.contains("LPDDR3_1600_1x32") && $0.contains("1650") && $0.contains("3 % slower") }, "\(config.notes)")
        #expect(config.notes.contains { $0.contains("associativity") })
    }

    @Test("the big cluster is the one named big, else the faster; never guessed")
    func bigDetection() {
        let a = Self.cluster("a", khz: 1_800_000), b = Self.cluster("b", khz: 2_400_000)
        #expect(Gem5ConfigBuilder.bigAndLittle([a, b]).map { [$0.big.name, $0.little.name] } == ["b", "a"])
        #expect(Gem5ConfigBuilder.bigAndLittle([b, a]).map { [$0.big.name, $0.little.name] } == ["b", "a"])
        let named = Self.cluster("little", khz: 2_400_000), other = Self.cluster("prime", khz: 1_000_000)
        #expect(Gem5ConfigBuilder.bigAndLittle([named, other]).map(\.big.name) == "prime")
        let same = Self.cluster("c", khz: 1_800_000)
        #expect(Gem5ConfigBuilder.bigAndLittle([a, same]) == nil)
        #expect(Gem5ConfigBuilder.bigAndLittle([a, Self.cluster("d", khz: nil)]) == nil)
        let config = Gem5ConfigBuilder.build(Self.board([a, same]))
        #expect(config.bigLittle == nil && config.notes.contains { $0.contains("cannot be told") })
        let ok = Gem5ConfigBuilder.build(Self.board([a, b]))
        #expect(ok.bigLittle?.options.contains("--big-cpu-clock=2400MHz") == true)
        #expect(ok.bigLittle?.options.contains("--little-cpu-clock=1800MHz") == true)
    }

    @Test("a single-cluster board gives no big.LITTLE line")
    func singleCluster() {
        let config = Gem5ConfigBuilder.build(Self.board([Self.cluster()]))
        #expect(config.bigLittle == nil)
        #expect(config.clusters.count == 1)
        #expect(config.notes.contains { $0.contains("1 cluster(s)") && $0.contains("fs_bigLITTLE.py") })
    }

    @Test("unknown values give no option and a note; known ones their option")
    func unknowns() throws {
        let known = Gem5ConfigBuilder.build(Self.board([Self.cluster(line: 128)])).clusters[0]
        #expect(known.options.contains("--cacheline_size=128"))
        #expect(!known.notes.contains { $0.contains("line_bytes") })
        let unknown = Gem5ConfigBuilder.build(Self.board([Self.cluster(khz: nil, l1d: nil, l1i: nil, l2: nil, line: nil)])).clusters[0]
        for prefix in ["--cacheline_size", "--cpu-clock", "--l1d_size", "--l1i_size", "--caches", "--l2cache", "--l2_size"] {
            #expect(!unknown.options.contains { $0.hasPrefix(prefix) }, "\(prefix) in \(unknown.options)")
        }
        for key in ["line_bytes unknown (line src: NOT FOUND)", "max_freq_khz unknown (freq src)", "l1d_kib unknown (l1d src)", "l2_kib unknown (l2 src)"] {
            #expect(unknown.notes.contains { $0.contains(key) }, "no note '\(key)': \(unknown.notes)")
        }
        #expect(Set(unknown.values.filter { $0.value == nil }.map(\.key)) ==
                ["dram_bus_width_bits", "dram_channels", "l1d_kib", "l1i_kib", "l2_kib", "l3_kib", "line_bytes", "max_freq_khz"])
        #expect(unknown.values.filter { $0.value == nil }.allSatisfy { $0.option == nil })
        // Only L1D known: --caches with it, the L1I unknown.
        let half = Gem5ConfigBuilder.build(Self.board([Self.cluster(l1i: nil)])).clusters[0]
        #expect(half.options.contains("--caches") && half.options.contains("--l1d_size=32KiB") && !half.options.contains { $0.hasPrefix("--l1i_size") })
        // A core gem5 has no model of: no --cpu-type, a note with the nearest kind.
        #expect(!half.options.contains { $0.hasPrefix("--cpu-type") })
        #expect(half.notes.contains { $0.contains("no timing model of cortex-a72") && $0.contains("out of order") })
        let a53 = Gem5ConfigBuilder.build(Self.board([Self.cluster(core: "cortex-a53")])).clusters[0]
        #expect(a53.notes.contains { $0.contains("in order") && $0.contains("ArmMinorCPU") })
    }

    @Test("a private L2 is noted: se.py's --l2cache is one shared L2")
    func privateL2() {
        let c = Gem5ConfigBuilder.build(Self.board([Self.cluster(l2: 512, shared: false)])).clusters[0]
        #expect(c.options.contains("--l2_size=512KiB"))
        #expect(c.notes.contains { $0.contains("private") && $0.contains("--num-cpus=1") })
        let shared = Gem5ConfigBuilder.build(Self.board([Self.cluster(l2: 512, shared: true)])).clusters[0]
        #expect(!shared.notes.contains { $0.contains("private") })
    }

    @Test("L3 and non-Exynos cores in fs_bigLITTLE.py: --last-cache-level=3, --cpu-type=timing, size mismatches noted")
    func bigLittleTiming() throws {
        let little = Self.cluster("little", core: "cortex-a55", khz: 1_800_000, l1d: 32, l1i: 32, l2: 128, shared: false)
        let big = Self.cluster("big", core: "cortex-a76", khz: 2_400_000, l1d: 64, l1i: 64, l2: 512, shared: false)
        let config = Gem5ConfigBuilder.build(Self.board([little, big], l3: 3072))
        let bl = try #require(config.bigLittle)
        #expect(bl.options.contains("--cpu-type=timing") && bl.options.contains("--last-cache-level=3"))
        #expect(bl.notes.contains { $0.contains("16MB") && $0.contains("3MiB") })
        #expect(bl.notes.contains { $0.hasPrefix("big:") && $0.contains("L1D 32KiB (board 64KiB)") })
        #expect(config.notes.contains { $0.contains("L3 of 3MiB") })
    }

    @Test("DRAM standards map to gem5's classes of the same standard, nearest data rate; LPDDR4/4X have none",
          arguments: [
              ("LPDDR3", 1650.0, "LPDDR3_1600_1x32"),
              ("lpddr3", nil, "LPDDR3_1600_1x32"),
              ("DDR3", 1700.0, "DDR3_1600_8x8"),
              ("DDR3", 2133.0, "DDR3_2133_8x8"),
              ("DDR4", 3200.0, "DDR4_2400_8x8"),
              ("DDR5", 6000.0, "DDR5_6400_4x8"),
              ("LPDDR2", 1066.0, "LPDDR2_S4_1066_1x32"),
              ("LPDDR5", 6400.0, "LPDDR5_6400_1x16_BG_BL32"),
              ("LPDDR5", 5000.0, "LPDDR5_5500_1x16_BG_BL32"),
              ("LPDDR4", 3200.0, nil),
              ("LPDDR4X", 4267.0, nil),
              ("LPDDR5X", 8533.0, nil),
          ] as [(String, Double?, String?)])
    func dram(type: String, mts: Double?, expected: String?) {
        let m = Gem5ConfigBuilder.memType(type: type, dataRateMTs: mts)
        #expect(m.className == expected, "\(type) \(mts ?? 0): \(m.note)")
        let options = Gem5ConfigBuilder.build(Self.board([Self.cluster()], dram: type, mts: mts)).clusters[0].options
        let withChannels = Gem5ConfigBuilder.build(Self.board([Self.cluster()], dram: type, mts: mts, channels: 2))
        if let expected {
            #expect(options.contains("--mem-type=\(expected)"))
            #expect(withChannels.clusters[0].options.contains("--mem-channels=2"))
            if mts == nil { #expect(m.note.contains("unknown")) }
        } else {
            #expect(!options.contains { $0.hasPrefix("--mem-type") })
            // Channels of se.py's default DDR3 would not be the board's.
            #expect(!withChannels.clusters[0].options.contains { $0.hasPrefix("--mem-channels") })
            #expect(withChannels.notes.contains { $0.contains("2 DRAM channels give no --mem-channels") })
            #expect(m.note.contains("no \(type)") && m.note.contains("LPDDR5_"), "\(m.note)")
        }
    }

    @Test("DRAM channel width against the class's: a mismatch is noted")
    func channelWidth() {
        var b = Self.board([Self.cluster()], dram: "LPDDR3", mts: 1600, channels: 2)
        b.dramBusWidthBits = Gem5BoardValue(64, source: "bits")
        #expect(!Gem5ConfigBuilder.build(b).notes.contains { $0.contains("channels are") })
        b.dramBusWidthBits = Gem5BoardValue(128, source: "bits")
        #expect(Gem5ConfigBuilder.build(b).notes.contains { $0.contains("the board's channels are 64 bits") && $0.contains("32 bits") })
    }

    @Test("gem5 spellings of clocks and sizes")
    func spellings() {
        #expect(Gem5ConfigBuilder.clock(kHz: 2_000_000) == "2GHz")
        #expect(Gem5ConfigBuilder.clock(kHz: 1_416_000) == "1416MHz")
        #expect(Gem5ConfigBuilder.clock(kHz: 1_479_500) == "1479500kHz")
        #expect(Gem5ConfigBuilder.size(kiB: 32) == "32KiB")
        #expect(Gem5ConfigBuilder.size(kiB: 1536) == "1536KiB")
        #expect(Gem5ConfigBuilder.size(kiB: 2048) == "2MiB")
        #expect(Gem5ConfigBuilder.size(kiB: 4 << 20) == "4GiB")
    }
}
