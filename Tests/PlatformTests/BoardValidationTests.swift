import Foundation
@testable import Platform
import Testing
import TestSupport

/// `Board.check(file:)`: every class of impossible value in a board file is refused with the
/// file, the JSON path and the allowed range (docs/boards.md, "What a board file may hold").
@Suite("board file validation")
struct BoardValidationTests {
    /// A valid two-cluster board; `values` replaces the placeholders (raw JSON text, so that
    /// 1e999 and negative numbers can be written as they would be in a file).
    static func json(_ values: [String: String] = [:]) -> String {
        let defaults: [String: String] = [
            "VERSION": "1", "NAME2": "\"big\"", "CPUS2": "[2, 3]", "FREQ": "1800000", "L1D": "32", "L1I": "32", "L2": "512",
            "LINE": "64", "FLOPS": "8", "COUNTERS": "6", "VOLTS": "[{\"mhz\": 600, \"volts\": 0.9}, {\"mhz\": 1800, \"volts\": 1.1}]",
            "L3": "null", "CH": "2", "BW": "64", "RATE": "3200", "GBS": "25.6",
        ]
        var text = """
            {"schema": "socprof.board", "schema_version": VERSION, "name": "t",
             "clusters": [
              {"name": "little", "core": "cortex-a53", "cpus": [0, 1],
               "max_freq_khz": {"value": FREQ, "source": "s"},
               "l1d_kib": {"value": L1D, "source": "s"}, "l1i_kib": {"value": L1I, "source": "s"}, "l2_kib": {"value": L2, "source": "s"},
               "line_bytes": {"value": LINE, "source": "s"},
               "fp32_flops_per_cycle": {"value": FLOPS, "source": "s"},
               "counters": {"value": COUNTERS, "source": "s"},
               "voltage_table": {"value": VOLTS, "source": "s"}},
              {"name": NAME2, "core": "cortex-a72", "cpus": CPUS2}
             ],
             "l3_kib": {"value": L3, "source": "s"},
             "dram": {"type": "LPDDR4", "channels": {"value": CH, "source": "s"}, "bus_width_bits": {"value": BW, "source": "s"},
                      "data_rate_mts": {"value": RATE, "source": "s"}, "theoretical_bandwidth_gbs": {"value": GBS, "source": "s"}}}
            """
        // Longest placeholders first, so that L1D is not replaced inside another name.
        for key in defaults.keys.sorted(by: { $0.count > $1.count }) {
            text = text.replacingOccurrences(of: key, with: values[key] ?? defaults[key]!)
        }
        return text
    }

    /// Writes the board and loads it; returns the error's text, or nil if it loaded.
    static func load(_ values: [String: String]) throws -> String? {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("checked.json")
        try Data(json(values).utf8).write(to: url)
        do {
            _ = try Board.load(contentsOf: url)
            return nil
        } catch {
            return "\(error)"
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let values: [String: String]
        let place: String
        let range: String
        var testDescription: String { values.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",") }
    }

    @Test func theTemplateIsValid() throws {
        #expect(try Self.load([:]) == nil)
    }

    /// Asserts that the board is refused with the file, the JSON path and the range in the message.
    static func expectRefused(_ c: Case) throws {
        let message = try #require(try load(c.values), "\(c.testDescription) was accepted")
        #expect(message.contains("checked.json"), "\(message)")
        #expect(message.contains("(\(c.place))"), "\(message)")
        #expect(message.contains(c.range), "\(message)")
    }

    @Test("frequencies outside 10 MHz to 10 GHz", arguments: [
        Case(values: ["FREQ": "20000000"], place: "clusters[0].max_freq_khz.value", range: "10000...10000000 kHz (10 MHz to 10 GHz)"),
        Case(values: ["FREQ": "5000"], place: "clusters[0].max_freq_khz.value", range: "10000...10000000 kHz"),
        Case(values: ["FREQ": "-1800000"], place: "clusters[0].max_freq_khz.value", range: "10000...10000000 kHz"),
        Case(values: ["FREQ": "0"], place: "clusters[0].max_freq_khz.value", range: "10000...10000000 kHz"),
    ])
    func frequency(c: Case) throws { try Self.expectRefused(c) }

    @Test("cache sizes outside 1 KiB to 1 GiB", arguments: [
        Case(values: ["L1D": "0"], place: "clusters[0].l1d_kib.value", range: "1...1048576 KiB (1 KiB to 1 GiB)"),
        Case(values: ["L1I": "-32"], place: "clusters[0].l1i_kib.value", range: "1...1048576 KiB"),
        Case(values: ["L2": "2097152"], place: "clusters[0].l2_kib.value", range: "1...1048576 KiB"),
        Case(values: ["L3": "2097152"], place: "l3_kib.value", range: "1...1048576 KiB"),
    ])
    func cacheSize(c: Case) throws { try Self.expectRefused(c) }

    @Test("line sizes that are not a power of two in 16-256 bytes", arguments: [
        Case(values: ["LINE": "48"], place: "clusters[0].line_bytes.value", range: "48 bytes is not in the allowed range: a power of two in 16...256 bytes"),
        Case(values: ["LINE": "512"], place: "clusters[0].line_bytes.value", range: "16...256 bytes"),
        Case(values: ["LINE": "8"], place: "clusters[0].line_bytes.value", range: "16...256 bytes"),
        Case(values: ["LINE": "-64"], place: "clusters[0].line_bytes.value", range: "16...256 bytes"),
    ])
    func lineSize(c: Case) throws { try Self.expectRefused(c) }

    @Test("counters outside 1-64", arguments: [
        Case(values: ["COUNTERS": "0"], place: "clusters[0].counters.value", range: "1...64 counters"),
        Case(values: ["COUNTERS": "65"], place: "clusters[0].counters.value", range: "1...64 counters"),
    ])
    func counters(c: Case) throws { try Self.expectRefused(c) }

    @Test("fp32 FLOP/cycle outside 0.5-256, infinity included", arguments: [
        Case(values: ["FLOPS": "0.25"], place: "clusters[0].fp32_flops_per_cycle.value", range: "0.5...256.0 FLOP/cycle"),
        Case(values: ["FLOPS": "300"], place: "clusters[0].fp32_flops_per_cycle.value", range: "0.5...256.0 FLOP/cycle"),
        Case(values: ["FLOPS": "-8"], place: "clusters[0].fp32_flops_per_cycle.value", range: "0.5...256.0 FLOP/cycle"),
        Case(values: ["FLOPS": "1e999"], place: "clusters[0].fp32_flops_per_cycle.value", range: "is not a finite number; the allowed range is 0.5...256.0 FLOP/cycle"),
    ])
    func flopsPerCycle(c: Case) throws { try Self.expectRefused(c) }

    @Test("DRAM channels, bus width, data rate and bandwidth outside physical ranges", arguments: [
        Case(values: ["CH": "0"], place: "dram.channels.value", range: "1...64 channels"),
        Case(values: ["CH": "100"], place: "dram.channels.value", range: "1...64 channels"),
        Case(values: ["BW": "12"], place: "dram.bus_width_bits.value", range: "12 bits is not in the allowed range: a multiple of 8 in 8...8192 bits"),
        Case(values: ["BW": "16384"], place: "dram.bus_width_bits.value", range: "8...8192 bits"),
        Case(values: ["BW": "-64"], place: "dram.bus_width_bits.value", range: "8...8192 bits"),
        Case(values: ["RATE": "50"], place: "dram.data_rate_mts.value", range: "100.0...40000.0 MT/s"),
        Case(values: ["RATE": "1e999"], place: "dram.data_rate_mts.value", range: "is not a finite number; the allowed range is 100.0...40000.0 MT/s"),
        Case(values: ["GBS": "0.01"], place: "dram.theoretical_bandwidth_gbs.value", range: "0.1...2000.0 GB/s"),
        Case(values: ["GBS": "5000"], place: "dram.theoretical_bandwidth_gbs.value", range: "0.1...2000.0 GB/s"),
        Case(values: ["GBS": "-25.6"], place: "dram.theoretical_bandwidth_gbs.value", range: "0.1...2000.0 GB/s"),
        Case(values: ["GBS": "1e999"], place: "dram.theoretical_bandwidth_gbs.value", range: "is not a finite number; the allowed range is 0.1...2000.0 GB/s"),
    ])
    func dram(c: Case) throws { try Self.expectRefused(c) }

    @Test("voltage tables: infinite, negative or out-of-order points", arguments: [
        Case(values: ["VOLTS": "[{\"mhz\": 1e999, \"volts\": 1}]"], place: "clusters[0].voltage_table.value[0].mhz", range: "0 < V < 5"),
        Case(values: ["VOLTS": "[{\"mhz\": 600, \"volts\": -1}]"], place: "clusters[0].voltage_table.value[0]", range: "0 < V < 5"),
        Case(values: ["VOLTS": "[{\"mhz\": 600, \"volts\": 1}, {\"mhz\": 500, \"volts\": 1.1}]"], place: "clusters[0].voltage_table.value[1]",
             range: "ascending order"),
    ])
    func voltageTable(c: Case) throws { try Self.expectRefused(c) }

    @Test("an unknown schema_version, duplicate cluster names, negative CPU numbers", arguments: [
        Case(values: ["VERSION": "2"], place: "schema_version", range: "allowed range is 1...1"),
        Case(values: ["VERSION": "0"], place: "schema_version", range: "allowed range is 1...1"),
        Case(values: ["NAME2": "\"little\""], place: "clusters[1].name", range: "cluster names must be unique"),
        Case(values: ["CPUS2": "[-1]"], place: "clusters[1].cpus[0]", range: "0...8191 (a CPU number)"),
    ])
    func structure(c: Case) throws { try Self.expectRefused(c) }

    /// The brief expected Foundation to read 1e999 as infinity; this Foundation (Swift 6.3, Linux)
    /// rejects the whole document instead ("Number 1e999 is not representable in Swift"). Either
    /// way the board must be refused with the literal's JSON path and the allowed range.
    @Test("1e999: read as infinity or rejected by Foundation, the board is refused with the path and the range")
    func infinity() throws {
        struct Holder: Decodable { let value: Double }
        let decoded = try? JSONDecoder().decode(Holder.self, from: Data(#"{"value": 1e999}"#.utf8))
        #expect(decoded == nil || decoded?.value == .infinity)
        let found = Board.nonFiniteNumber(in: Data(Self.json(["GBS": "-1e999"]).utf8))
        #expect(found?.place == "dram.theoretical_bandwidth_gbs.value" && found?.literal == "-1e999")
        #expect(Board.nonFiniteNumber(in: Data(Self.json().utf8)) == nil)
        #expect(Board.nonFiniteNumber(in: Data(#"{"a": [1, {"source": "1e999", "b": [0, 2e400]}]}"#.utf8))?.place == "a[1].b[1]")
        // An integer field too: 1e999 is no Int64, and its message still names the kHz range.
        let message = try #require(try Self.load(["FREQ": "1e999"]))
        #expect(message.contains("checked.json (clusters[0].max_freq_khz.value): 1e999 is not a finite number; " +
                                 "the allowed range is 10000...10000000 kHz (10 MHz to 10 GHz)"), "\(message)")
    }

    @Test("NaN, which JSON cannot hold, is refused too")
    func notANumber() throws {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        for key in ["FLOPS", "RATE", "GBS"] {
            let board = try decoder.decode(Board.self, from: Data(Self.json([key: "\"nan\""]).utf8))
            #expect {
                try board.check(file: "nan.json")
            } throws: { error in
                let d = "\(error)"
                return d.hasPrefix("nan.json (") && d.contains("nan is not a finite number; the allowed range is")
            }
        }
    }

    @Test("every board file in boards/ passes the checks", arguments: ["odroid-xu3", "odroid-xu4", "hikey970", "rk3399", "rk3588",
                                                                       "raspberry-pi-4", "raspberry-pi-5", "jetson-nano"])
    func shippedBoardsLoad(name: String) throws {
        let data = try #require(DataDirectory.locate())
        let board = try Board.load(contentsOf: data.appendingPathComponent("boards/\(name).json"))
        #expect(Set(board.clusters.map(\.name)).count == board.clusters.count)
        #expect(board.schema_version == Board.Limits.schemaVersion)
    }
}
