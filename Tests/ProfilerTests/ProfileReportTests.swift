import Foundation
import Platform
import ProfileModel
import Profiler
import Reports
import Testing
import TestSupport

/// The profile's renderings, in process: the text table and the CSV against golden files, and the
/// CSV read back by an independent parser. SOCPROF_UPDATE_GOLDEN=1 rewrites the golden files
/// (then read the diff before committing it).
@Suite("profile report renderings")
struct ProfileReportTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func check(_ text: String, against name: String) throws {
        try Golden.check(text, against: name, in: golden)
    }

    @Test("the table: every column, n/a reasons, energy, roofline and notes, as in Golden/profile-table.txt")
    func table() throws {
        try Self.check(ProfileReport.table(SyntheticRun.report()), against: "profile-table.txt")
    }

    @Test("the CSV, as in Golden/profile.csv")
    func csv() throws {
        try Self.check(ProfileReport.csv(SyntheticRun.report()), against: "profile.csv")
    }

    @Test("the JSON keeps its field names and the enums' spellings (bound, bound_basis, source)")
    func json() throws {
        let data = try ReportJSON.encoder().encode(SyntheticRun.report())
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let layers = try #require(doc["layers"] as? [[String: Any]])
        #expect(layers[0]["bound"] as? String == "memory" && layers[0]["bound_basis"] as? String == "oi_empirical")
        #expect(layers[2]["bound_basis"] as? String == "oi_theoretical")
        let oi = try #require(layers[2]["oi_empirical"] as? [String: Any])
        #expect(oi["source"] as? String == "unavailable" && oi["value"] is NSNull)
        let back = try JSONDecoder().decode(NetworkProfile.self, from: data)
        let original = SyntheticRun.report()
        #expect(back.layers.map(\.bound) == original.layers.map(\.bound) && back.layers.map(\.bound_basis) == original.layers.map(\.bound_basis))
        #expect(back.layers[0].events.mapValues(\.value) == SyntheticRun.report().layers[0].events.mapValues(\.value))
    }

    @Test("CSV with commas, quotes and line breaks in names reads back field for field with Python's csv module")
    func csvReadBack() throws {
        let names = ["conv, the first", "say \"b\"", "two\nlines"]
        let text = ProfileReport.csv(SyntheticRun.report(network: SyntheticRun.network(names: names)))
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("python3 is not installed: the CSV was not read back by an independent parser")
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", "import csv, json, sys; print(json.dumps(list(csv.reader(sys.stdin, strict=True))))"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let rows = try #require(try JSONSerialization.jsonObject(with: data) as? [[String]])
        #expect(rows.count == 4, "a header and three layers")
        #expect(rows.dropFirst().map { $0[0] } == names)
        #expect(Set(rows.map(\.count)).count == 1, "every row has the header's fields")
        let header = rows[0]
        let time = try #require(header.firstIndex(of: "time_s"))
        #expect(Double(rows[1][time]) == 0.0025)
    }

    @Test("CSV fields: plain ones as they are, the others quoted with their quotes doubled")
    func fields() {
        #expect(CSV.field("plain") == "plain")
        #expect(CSV.field("a,b") == "\"a,b\"")
        #expect(CSV.field("say \"x\"") == "\"say \"\"x\"\"\"")
        #expect(CSV.field("a\nb") == "\"a\nb\"")
        #expect(CSV.field("a\r\nb") == "\"a\r\nb\"")
        #expect(CSV.row(["x", "y,z"]) == "x,\"y,z\"\n")
    }
}
