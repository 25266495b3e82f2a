import ArgumentParser
import Counters
import Foundation
import Platform
import ProfileModel
import Profiler
import Reports

/// `socprof compare A.json B.json`: two profile reports side by side, with ratios.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Two `profile --format json` reports side by side per layer, with B/A ratios (big vs LITTLE, fp32 vs int8, before vs after).",
        discussion: "Layers are matched by name; a layer only one report has is listed with the other side empty."
    )

    @Argument(help: ArgumentHelp("Report A.", valueName: "a.json")) var a: String
    @Argument(help: ArgumentHelp("Report B.", valueName: "b.json")) var b: String
    @Option(help: ArgumentHelp("A metric to compare besides time (e.g. cycles, dram_bytes).", valueName: "name")) var metric: String?
    @Flag(help: "Print JSON.") var json = false

    static func load(_ path: String) throws -> NetworkProfile {
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("\(path): cannot read the file") }
        do { return try NetworkProfile.load(data, file: path) } catch { throw fail(error.description) }
    }

    func run() throws {
        let comparison: ProfileComparison
        do { comparison = try ProfileComparison(a: try Self.load(a), b: try Self.load(b), metric: metric) } catch let e as ComparisonError {
            throw fail(e.description)
        }
        print(json ? try ComparisonReport.json(comparison, aName: a, bName: b) : ComparisonReport.text(comparison, aName: a, bName: b), terminator: "")
    }
}
