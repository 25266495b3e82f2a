import Foundation
import Testing
import TestSupport

/// `socprof gem5 config` run as a user runs it.
@Suite("socprof gem5 config")
struct Gem5ConfigCommandTests {
    static let boards = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("boards")

    /// A board file as JSON, to compare the output's values and sources with.
    static func boardFile(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: boards.appendingPathComponent("\(name).json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func jsonDoc(_ args: [String]) throws -> [String: Any] {
        let r = try Socprof.run(["gem5", "config"] + args + ["--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    @Test("--format json for the Odroid-XU3: options per cluster, each value with the board file's own source")
    func json() throws {
        let doc = try Self.jsonDoc(["--board", "odroid-xu3"])
        #expect(doc["schema"] as? String == "socprof.gem5-config" && doc["schema_version"] as? Int == 1)
        #expect(doc["board"] as? String == "odroid-xu3")
        let clusters = try #require(doc["clusters"] as? [[String: Any]])
        let file = try Self.boardFile("odroid-xu3")
        let fileClusters = try #require(file["clusters"] as? [[String: Any]])
        #expect(clusters.map { $0["name"] as? String } == fileClusters.map { $0["name"] as? String })
        for (c, fc) in zip(clusters, fileClusters) {
            let values = try #require(c["values"] as? [String: [String: Any]])
            for key in ["max_freq_khz", "l1d_kib", "l1i_kib", "l2_kib", "line_bytes"] {
                let from = try #require(fc[key] as? [String: Any])
                #expect(values[key]?["source"] as? String == from["source"] as? String, "\(key)")
                #expect((values[key]?["value"] as? NSNumber) == (from["value"] as? NSNumber), "\(key)")
            }
            #expect(values["line_bytes"]?["value"] as? Int == 64 && values["line_bytes"]?["option"] as? String == "--cacheline_size=64")
            let options = try #require(c["options"] as? [String])
            let l2Entry = try #require(fc["l2_kib"] as? [String: Any])
            let l2 = try #require(l2Entry["value"] as? Int)
            #expect(options.contains("--l2_size=\(l2 % 1024 == 0 ? "\(l2 / 1024)MiB" : "\(l2)KiB")"), "\(options)")
            #expect(options.contains("--num-cpus=\((fc["cpus"] as? [Int])?.count ?? -1)"))
            #expect(options.contains("--cacheline_size=64"))
        }
        let big = try #require(clusters.first { $0["name"] as? String == "big" })
        let options = try #require(big["options"] as? [String])
        #expect(options.contains("--l1d_size=32KiB") && options.contains("--l2_size=2MiB") && options.contains("--cpu-clock=2GHz"))
        #expect(options.contains("--mem-type=LPDDR3_1600_1x32") && options.contains("--mem-channels=2"))
        let bl = try #require(doc["big_little_options"] as? [String])
        #expect(bl.contains("--big-cpus=4") && bl.contains("--little-cpus=4") && bl.contains("--cpu-type=exynos"))
        let notes = try #require(doc["notes"] as? [String])
        #expect(!notes.contains { $0.contains("line_bytes unknown") })
    }

    @Test("--format options: a se.py line per cluster, a fs_bigLITTLE.py line, # source lines")
    func options() throws {
        let r = try Socprof.run(["gem5", "config", "--board", "odroid-xu3"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let se = lines.filter { $0.hasPrefix("configs/deprecated/example/se.py ") }
        #expect(se.count == 2)
        #expect(se.contains { $0.contains("--cpu-type=ex5_LITTLE") && $0.contains("--cpu-clock=1400MHz") && $0.hasSuffix("# cluster little") })
        #expect(lines.filter { $0.hasPrefix("configs/example/arm/fs_bigLITTLE.py ") && $0.contains("--big-cpu-clock=2GHz") }.count == 1)
        #expect(lines.contains { $0.hasPrefix("# source big l2_kib = 2048 -> --l2_size=2MiB: gem5 configs/common/cores/arm/ex5_big.py") })
        #expect(lines.contains { $0.hasPrefix("# source little line_bytes = 64 -> --cacheline_size=64: Cortex-A7 MPCore TRM") })
        #expect(lines.contains { $0.hasPrefix("# source board dram_type = LPDDR3 -> --mem-type=LPDDR3_1600_1x32") })
        #expect(lines.allSatisfy { $0.hasPrefix("#") || $0.hasPrefix("configs/") }, "\(lines)")
    }

    @Test("--format python parses and holds the values")
    func python() throws {
        let r = try Socprof.run(["gem5", "config", "--board", "odroid-xu3", "--format", "python"])
        #expect(r.status == 0, "\(r.stderr)")
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("config.py")
        try Data(r.stdout.utf8).write(to: file)
        let py = try Socprof.runProgram(try #require(Socprof.which("python3")), ["-c", """
            import sys
            ns = {}
            exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'), ns)
            c = ns['clusters']
            assert list(c) == ['little', 'big'], list(c)
            assert c['big']['l2_size'] == '2MiB' and c['little']['l2_size'] == '512KiB', c
            assert c['big']['num_cpus'] == 4 and c['big']['cpu_clock'] == '2GHz' and c['big']['mem_channels'] == 2, c['big']
            assert c['big']['cacheline_size'] == 64 and c['big']['l2cache'] is True, c['big']
            assert '--l1d_size=32KiB' in c['big']['options']
            assert '--big-cpus=4' in ns['big_little']['options'], ns['big_little']
            assert not any('line_bytes unknown' in n for n in ns['notes'])
            print('ok')
            """, file.path])
        #expect(py.status == 0 && py.stdout.hasPrefix("ok"), "\(py.stderr)")
    }

    @Test("--cluster: that cluster alone, no big.LITTLE line")
    func oneCluster() throws {
        let doc = try Self.jsonDoc(["--board", "odroid-xu3", "--cluster", "big"])
        let clusters = try #require(doc["clusters"] as? [[String: Any]])
        #expect(clusters.map { $0["name"] as? String } == ["big"])
        #expect(doc["big_little_options"] is NSNull)
        let r = try Socprof.run(["gem5", "config", "--board", "odroid-xu3", "--cluster", "little"])
        #expect(r.status == 0 && !r.stdout.contains("fs_bigLITTLE.py --") && !r.stdout.contains("# cluster big"))
    }

    @Test("LPDDR4X (RK3588): no --mem-type, a note naming what to use instead; private L2 noted")
    func lpddr4x() throws {
        let doc = try Self.jsonDoc(["--board", "rk3588"])
        let clusters = try #require(doc["clusters"] as? [[String: Any]])
        for c in clusters {
            let options = try #require(c["options"] as? [String])
            #expect(!options.contains { $0.hasPrefix("--mem-type") } && !options.contains { $0.hasPrefix("--mem-channels") })
            #expect(options.contains("--cacheline_size=64"))
        }
        let notes = try #require(doc["notes"] as? [String])
        #expect(notes.contains { $0.contains("no LPDDR4X") && $0.contains("LPDDR5_5500_1x16_BG_BL32") })
        #expect(notes.contains { $0.contains("private") })
        #expect((doc["big_little_options"] as? [String])?.contains("--last-cache-level=3") == true)
    }

    @Test("a board file by path: absent values are unknown, one cluster gives no big.LITTLE line")
    func byPath() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("one.json")
        try Data("""
            {"name": "one", "clusters": [{"name": "all", "core": "cortex-a53", "cpus": [0, 1],
              "max_freq_khz": {"value": 1200000, "source": "test clock"},
              "l1d_kib": {"value": 32, "source": "test l1d"}}]}
            """.utf8).write(to: file)
        let doc = try Self.jsonDoc(["--board", file.path])
        #expect(doc["big_little_options"] is NSNull)
        let c = try #require((doc["clusters"] as? [[String: Any]])?.first)
        let options = try #require(c["options"] as? [String])
        #expect(options == ["--num-cpus=2", "--cpu-clock=1200MHz", "--caches", "--l1d_size=32KiB"])
        let values = try #require(c["values"] as? [String: [String: Any]])
        #expect(values["l2_kib"]?["value"] is NSNull)
        #expect((values["l2_kib"]?["source"] as? String)?.contains("absent from \(file.path)") == true)
        #expect(values["l1d_kib"]?["source"] as? String == "test l1d")
    }

    @Test("bad input: an unknown board lists the boards, an unknown cluster lists the clusters")
    func badInput() throws {
        let board = try Socprof.run(["gem5", "config", "--board", "odroid-xu5"])
        #expect(board.status == 2 && board.stderr.contains("odroid-xu3") && board.stderr.contains("rk3588"), "\(board.stderr)")
        let cluster = try Socprof.run(["gem5", "config", "--board", "odroid-xu3", "--cluster", "middle"])
        #expect(cluster.status == 2 && cluster.stderr.contains("middle") && cluster.stderr.contains("little, big"), "\(cluster.stderr)")
        let missing = try Socprof.run(["gem5", "config", "--board", "/nonexistent/board.json"])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read"), "\(missing.stderr)")
    }
}
