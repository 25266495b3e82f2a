import Experiments
import Foundation
import Reports
import Testing
import TestSupport

/// The sweep's renderings in process, from a hand-made sweep (Fixtures/sweep.json: two clusters,
/// energy with and without idle, a pinned frequency that moved, a failed cell), against golden
/// files. SOCPROF_UPDATE_GOLDEN=1 rewrites them.
@Suite("sweep renderings")
struct SweepTableTests {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let golden = here.appendingPathComponent("Golden")

    static func sweep() throws -> SweepReport {
        try JSONDecoder().decode(SweepReport.self, from: Data(contentsOf: here.appendingPathComponent("Fixtures/sweep.json")))
    }

    /// Runs a Python one-liner on `text` (written to a file, its path in sys.argv[1]) and returns
    /// its output, trimmed.
    static func python(_ program: String, _ text: String) throws -> String {
        let python = try #require(Socprof.which("python3"), "python3 is not installed: no independent parser")
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("input")
        try Data(text.utf8).write(to: file)
        let r = try Socprof.runProgram(python, ["-c", program, file.path])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("the table: images/s with min-max, energy, the moved frequency and the failed cell, as in Golden/sweep.txt")
    func text() throws {
        let t = SweepTable.text(try Self.sweep())
        try Golden.check(t, against: "sweep.txt", in: Self.golden)
        #expect(t.contains("20.0 (19.0–21.0)") && t.contains("could not pin"))
    }

    @Test("the CSV, as in Golden/sweep.csv, read back by Python's csv module")
    func csv() throws {
        let c = SweepTable.csv(try Self.sweep())
        try Golden.check(c, against: "sweep.csv", in: Self.golden)
        // Read back by an independent parser: a header and one row per cell, every row as wide.
        let rows = try Self.python("import csv, sys; rows = list(csv.reader(open(sys.argv[1]), strict=True)); print(len(rows), len(set(map(len, rows))))", c)
        #expect(rows == "5 1")
    }

    @Test("the bar chart SVG, as in Golden/sweep.svg, well-formed XML")
    func svg() throws {
        let s = SweepTable.svg(try Self.sweep())
        try Golden.check(s, against: "sweep.svg", in: Self.golden)
        let root = try Self.python("import sys, xml.etree.ElementTree as ET; print(ET.parse(sys.argv[1]).getroot().tag)", s)
        #expect(root == "{http://www.w3.org/2000/svg}svg")
    }
}
