import ArgumentParser
import Calibration
import Foundation
import Platform
import Reports

/// `socprof gem5 ...`: reading what the gem5 simulator wrote, for calibrating models against a board.
struct Gem5Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gem5",
        abstract: "Read gem5's output beside socprof's measurements (docs/calibration.md).",
        subcommands: [Gem5StatsCommand.self, Gem5ConfigCommand.self]
    )
}

/// `socprof gem5 stats FILE`: socprof's metrics out of every dump of a stats.txt.
struct Gem5StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "socprof's metrics (cycles, instructions, IPC, L1D/L2 accesses and refills, DRAM bytes, simulated seconds) from every dump of a gem5 stats.txt, per CPU, with the gem5 stats each came from.",
        discussion: """
            Reads every naming era (snake_case before v21, camelCase from v21, commitStats0 from v23) and CPU model \
            (O3, Minor, TimingSimple, Atomic); several CPUs and big.LITTLE clusters. Which stat gives which metric is \
            the data file events/gem5-stats.json. Instructions are each CPU's committed instructions, never sim_insts \
            (not reset between dumps). A metric gem5 did not give is unavailable with the reason, never 0.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, json }

    @Argument(help: ArgumentHelp("gem5's stats.txt (m5out/stats.txt).", valueName: "stats.txt")) var file: String
    @Option(help: "Output format.") var format: Format = .table
    @Flag(help: "Print JSON (the same as --format json).") var json = false
    @Option(help: ArgumentHelp("A stat map instead of events/gem5-stats.json.", valueName: "file.json")) var map: String?

    func run() throws {
        let stats = try Self.readStats(file)
        let map = try Self.loadMap(self.map)
        let dumps = Gem5MetricReader(map: map).read(stats)
        let text: String
        switch json ? .json : format {
        case .json: text = try Self.json(file: file, dumps: dumps, skipped: stats.skipped.count)
        case .csv: text = Self.csv(dumps)
        case .table: text = Self.table(file: file, dumps: dumps, skipped: stats.skipped.count)
        }
        print(text, terminator: "")
    }

    static func readStats(_ path: String) throws -> Gem5StatsFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("\(path): cannot read the file") }
        do { return try Gem5StatsFile(text: String(decoding: data, as: UTF8.self), file: path) } catch { throw fail(error.description) }
    }

    /// The stat map: `path`, else events/gem5-stats.json in socprof's data directory.
    static func loadMap(_ path: String?) throws -> Gem5StatMap {
        let file: String
        if let path { file = path } else {
            guard let data = DataDirectory.locate() else {
                throw fail("socprof's data directory (events/, boards/) was not found; set SOCPROF_DATA to the checkout")
            }
            file = data.appendingPathComponent("events/gem5-stats.json").path
        }
        guard let bytes = FileManager.default.contents(atPath: file) else { throw fail("\(file): cannot read the stat map") }
        do {
            let map = try JSONDecoder().decode(Gem5StatMap.self, from: bytes)
            try map.validate(file: file)
            return map
        } catch let e as Gem5StatsError {
            throw fail(e.description)
        } catch {
            throw fail("\(file): not a gem5 stat map (\(error))")
        }
    }

    // MARK: renderings

    struct FigureJSON: Encodable {
        let value: Double?
        /// The stats as an expression ("a + b", "a / b").
        let stat: String?
        let stats: [String]
        let reason: String?
        init(_ f: Gem5Figure) { value = f.value; stat = f.expression; stats = f.stats; reason = f.reason }
    }

    struct CPUJSON: Encodable {
        let path: String
        let cluster: String?
        let model: String
        let metrics: [String: FigureJSON]
    }

    struct DumpJSON: Encodable {
        let index: Int
        let era: String
        let complete: Bool
        let metrics: [String: FigureJSON]
        let cpus: [CPUJSON]
        let notes: [String]
    }

    struct Doc: Encodable {
        var schema = "socprof.gem5-stats"
        var schema_version = 1
        let file: String
        let skipped_lines: Int
        let dumps: [DumpJSON]
    }

    static func json(file: String, dumps: [Gem5DumpMetrics], skipped: Int) throws -> String {
        func figures(_ m: [(name: String, figure: Gem5Figure)]) -> [String: FigureJSON] {
            Dictionary(m.map { ($0.name, FigureJSON($0.figure)) }, uniquingKeysWith: { a, _ in a })
        }
        let doc = Doc(file: file, skipped_lines: skipped, dumps: dumps.map { d in
            DumpJSON(index: d.index, era: d.era.rawValue, complete: d.complete, metrics: figures(d.metrics),
                     cpus: d.cpus.map { CPUJSON(path: $0.path, cluster: $0.cluster, model: $0.model.rawValue, metrics: figures($0.metrics)) },
                     notes: d.notes)
        })
        let enc = ReportJSON.encoder()
        return String(decoding: try enc.encode(doc), as: UTF8.self) + "\n"
    }

    /// One row per dump, CPU (or `all`) and metric.
    static func csv(_ dumps: [Gem5DumpMetrics]) -> String {
        var s = "dump,cpu,model,metric,value,stat,reason\n"
        func row(_ d: Int, _ cpu: String, _ model: String, _ name: String, _ f: Gem5Figure) {
            let fields: [String] = [String(d), cpu, model, name, CalibrateCommand.number(f.value), f.expression ?? "", f.reason ?? ""]
            s += CSV.row(fields)
        }
        for d in dumps {
            for m in d.metrics { row(d.index, "all", "", m.name, m.figure) }
            for c in d.cpus { for m in c.metrics { row(d.index, c.path, c.model.rawValue, m.name, m.figure) } }
        }
        return s
    }

    static func table(file: String, dumps: [Gem5DumpMetrics], skipped: Int) -> String {
        func number(_ f: Gem5Figure, _ name: String) -> String {
            guard let v = f.value else { return "-" }
            if name == "ipc" { return String(format: "%.4f", v) }
            if name == "sim_seconds" { return String(format: "%.9g", v) }
            return v == v.rounded() && abs(v) < 9e15 ? String(Int64(v)) : String(format: "%.6g", v)
        }
        var s = "\(file): \(dumps.count) dump(s)\(skipped > 0 ? ", \(skipped) line(s) that are not stats skipped" : "")\n"
        for d in dumps {
            s += "\ndump \(d.index) (\(d.era.label)\(d.complete ? "" : ", no End line")): \(d.cpus.count) CPU(s)\n"
            let columns = d.cpus.count > 1 ? ["all"] + d.cpus.map(\.path) : d.cpus.map(\.path)
            let header = "  " + "metric".rightPad(18) + columns.map { " " + $0.leftPad(19) }.joined() + "  from"
            s += header + "\n"
            for name in Gem5DumpMetrics.systemMetricNames {
                let total = d[name]!
                let perCPU = Gem5DumpMetrics.cpuMetricNames.contains(name)
                var cells: [String] = []
                if d.cpus.count > 1 || !perCPU { cells.append(number(total, name)) }
                if perCPU { cells += d.cpus.map { number($0[name]!, name) } }
                let source = perCPU && d.cpus.count > 0 ? (d.cpus[0][name]!.expression ?? d.cpus[0][name]!.reason ?? "") : (total.expression ?? total.reason ?? "")
                s += "  " + name.rightPad(18) + cells.map { " " + $0.leftPad(19) }.joined() + "  " + source + "\n"
            }
            for n in d.notes { s += "  note: \(n)\n" }
        }
        return s
    }
}
