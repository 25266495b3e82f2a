import ArgumentParser
import Foundation
import ProfileModel
import Profiler
import Reports

/// `socprof roofline`: draws saved profile reports under their rooflines.
struct RooflineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roofline",
        abstract: "Draw one or more `profile --format json` reports under their rooflines (SVG), e.g. big vs LITTLE.",
        discussion: "Each report is one colour; reports measured under other ceilings add their roofline dashed."
    )

    @Argument(help: ArgumentHelp("Reports written by `socprof profile --format json -o FILE`.", valueName: "report.json"))
    var reports: [String] = []

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The SVG file to write.", valueName: "file.svg"))
    var output: String

    @Option(help: "The title.") var title: String?

    func validate() throws {
        if reports.isEmpty { throw ValidationError("give at least one report: socprof roofline REPORT.json... -o FILE.svg") }
        if reports.count > 6 { throw ValidationError("at most 6 reports fit in one plot.") }
    }

    func run() throws {
        var series: [RooflineSVG.Series] = []
        for path in reports {
            guard let data = FileManager.default.contents(atPath: path) else { throw fail("\(path): cannot read the file") }
            do {
                series.append(.init(label: (path as NSString).lastPathComponent, profile: try NetworkProfile.load(data, file: path)))
            } catch { throw fail(error.description) }
        }
        let svg = RooflineSVG.render(series, title: title ?? series.map { "\($0.profile.network) on \($0.profile.placement)" }.joined(separator: " vs "))
        try Terminal.emit(svg, to: output)
    }
}
