import ArgumentParser
import Calibration
import Counters
import Foundation
import LinuxSystem
import Platform

/// `socprof gem5 config --board NAME|FILE`: the gem5 options for a board's clusters, each value with
/// its source in the board file (docs/gem5-config.md).
struct Gem5ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "The gem5 options (se.py per cluster, fs_bigLITTLE.py for two clusters) for a board, each value with its source in the board file.",
        discussion: """
            Options of gem5's configs/common/Options.py (se.py, fs.py) and configs/example/arm/fs_bigLITTLE.py, \
            checked against gem5 v24.0.0.1 and develop. A value the board file does not give is unknown: no option \
            is written for it (gem5's default then applies, and a note says so). Associativity, memory size and \
            L3 are not expressible from a board file or in se.py; the notes say what is missing.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case options, python, json }

    @Option(help: ArgumentHelp("Board file (name or path).", valueName: "name|file")) var board: String
    @Option(help: ArgumentHelp("Only this cluster (no fs_bigLITTLE.py line).", valueName: "name")) var cluster: String?
    @Option(help: "Output format: options (command lines with # source comments), python (a dict per cluster), json.")
    var format: Format = .options

    func run() throws {
        let (board, file) = try Self.loadBoard(self.board)
        if let cluster, !board.clusters.contains(where: { $0.name == cluster }) {
            throw fail("board \(board.name) has no cluster '\(cluster)'; its clusters are \(board.clusters.map(\.name).joined(separator: ", "))")
        }
        let config = Gem5ConfigBuilder.build(Self.input(board, file: file))
        let clusters = config.clusters.filter { cluster == nil || $0.name == cluster }
        let bigLittle = cluster == nil ? config.bigLittle : nil
        var notes = config.notes
        for c in clusters { notes += c.notes.map { "\(c.name): \($0)" } }
        if let bl = bigLittle { notes += bl.notes.map { "fs_bigLITTLE.py: \($0)" } }
        let text: String
        switch format {
        case .options: text = Self.optionsText(board: board, file: file, clusters: clusters, bigLittle: bigLittle, notes: notes)
        case .python: text = Self.python(board: board, file: file, clusters: clusters, bigLittle: bigLittle, notes: notes)
        case .json: text = try Self.json(board: board, file: file, clusters: clusters, bigLittle: bigLittle, notes: notes)
        }
        print(text, terminator: "")
    }

    /// `--board NAME|FILE`: a path (with a '/' or ending in .json), else a name of boards/.
    /// Returns the board and how its file is named in sources ("boards/odroid-xu3.json").
    static func loadBoard(_ nameOrFile: String) throws -> (Board, String) {
        if nameOrFile.hasSuffix(".json") || nameOrFile.contains("/") {
            do { return (try Board.load(contentsOf: URL(fileURLWithPath: nameOrFile)), nameOrFile) } catch { throw fail(error.description) }
        }
        guard let data = DataDirectory.locate() else {
            throw fail("socprof's data directory (events/, boards/) was not found; set SOCPROF_DATA to the checkout, or give --board a path")
        }
        do {
            let board = try BoardCatalog(directory: data.appendingPathComponent("boards")).select(nameOrFile)
            return (board, "boards/\(board.name).json")
        } catch {
            throw fail(error.description)
        }
    }

    /// The builder's input: each board-file value with its source; a field the file lacks is
    /// unknown, with where it would have been as the source.
    static func input(_ b: Board, file: String) -> Gem5BoardInput {
        func sourced<T>(_ s: Sourced<T>?, _ place: String) -> Gem5BoardValue<T> {
            guard let s else { return Gem5BoardValue(nil, source: "absent from \(file) (\(place))") }
            return Gem5BoardValue(s.value, source: s.source)
        }
        func plain<T>(_ v: T?, _ place: String) -> Gem5BoardValue<T> {
            Gem5BoardValue(v, source: v == nil ? "absent from \(file) (\(place))" : "\(file) \(place)")
        }
        let clusters = b.clusters.enumerated().map { i, c in
            Gem5ClusterInput(
                name: c.name,
                core: plain(c.core, "clusters[\(i)].core"),
                cpuCount: Gem5BoardValue(c.cpus.count, source: "\(file) clusters[\(i)].cpus (\(CPUSet(c.cpus).description))"),
                maxFreqKHz: sourced(c.max_freq_khz, "clusters[\(i)].max_freq_khz"),
                l1dKiB: sourced(c.l1d_kib, "clusters[\(i)].l1d_kib"),
                l1iKiB: sourced(c.l1i_kib, "clusters[\(i)].l1i_kib"),
                l2KiB: sourced(c.l2_kib, "clusters[\(i)].l2_kib"),
                l2Shared: plain(c.l2_shared, "clusters[\(i)].l2_shared"),
                lineBytes: sourced(c.line_bytes, "clusters[\(i)].line_bytes"))
        }
        return Gem5BoardInput(
            name: b.name, clusters: clusters,
            l3KiB: sourced(b.l3_kib, "l3_kib"),
            dramType: plain(b.dram?.type, "dram.type"),
            dramDataRateMTs: sourced(b.dram?.data_rate_mts, "dram.data_rate_mts"),
            dramChannels: sourced(b.dram?.channels, "dram.channels"),
            dramBusWidthBits: sourced(b.dram?.bus_width_bits, "dram.bus_width_bits"))
    }

    /// Values that are the board's, not a cluster's: shown once in the options text.
    static let boardKeys: Set<String> = ["l3_kib", "dram_type", "dram_data_rate_mts", "dram_channels", "dram_bus_width_bits"]

    static func scalarText(_ v: Gem5Scalar?) -> String {
        switch v {
        case nil: return "unknown"
        case .int(let i)?: return String(i)
        case .double(let d)?: return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b)?: return b ? "true" : "false"
        case .string(let s)?: return s
        }
    }

    static func header(board: Board, file: String) -> String {
        "socprof gem5 config: \(board.name)\(board.description.map { " (\($0))" } ?? ""), from \(file); names checked against \(Gem5ConfigBuilder.gem5Reference)"
    }

    // MARK: renderings

    static func optionsText(board: Board, file: String, clusters: [Gem5ClusterConfig], bigLittle: Gem5BigLittleConfig?, notes: [String]) -> String {
        var s = "# \(header(board: board, file: file))\n"
        for c in clusters {
            s += ([Gem5ConfigBuilder.seScript] + c.options).joined(separator: " ") + " # cluster \(c.name)\n"
        }
        if let bl = bigLittle {
            s += ([Gem5ConfigBuilder.bigLittleScript] + bl.options).joined(separator: " ") + " # big: \(bl.big), LITTLE: \(bl.little)\n"
        }
        func line(_ who: String, _ v: Gem5ConfigValue) -> String {
            "# source \(who) \(v.key) = \(scalarText(v.value))\(v.option.map { " -> \($0)" } ?? ""): \(oneLine(v.source))\n"
        }
        for c in clusters {
            for v in c.values where !boardKeys.contains(v.key) { s += line(c.name, v) }
        }
        if let first = clusters.first {
            for v in first.values where boardKeys.contains(v.key) { s += line("board", v) }
        }
        for n in notes { s += "# note: \(oneLine(n))\n" }
        return s
    }

    /// gem5 option values typed as Python would hold them after argparse.
    static func pythonValue(dest: String, _ v: String?) -> String {
        guard let v else { return "None" }
        switch dest {
        case "num_cpus", "cacheline_size", "mem_channels": return Int(v).map(String.init) ?? pythonString(v)
        case "l2cache": return "True"
        default: return pythonString(v)
        }
    }

    static func pythonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7f { out += String(format: "\\x%02x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    static func oneLine(_ s: String) -> String {
        String(s.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }

    static func python(board: Board, file: String, clusters: [Gem5ClusterConfig], bigLittle: Gem5BigLittleConfig?, notes: [String]) -> String {
        var s = "# \(header(board: board, file: file))\n"
        s += "# Per cluster: each gem5 option's value by its argparse name (configs/common/Options.py); None: not given\n"
        s += "# (unknown in the board file, or no gem5 model). The comment after each value: the board-file value and its source.\n"
        s += "board = \(pythonString(board.name))\n"
        s += "clusters = {\n"
        for c in clusters {
            s += "    \(pythonString(c.name)): {\n"
            for v in c.values {
                let comment = "# \(v.key) = \(scalarText(v.value)): \(oneLine(v.source))"
                if let dest = v.gem5Name {
                    s += "        \(pythonString(dest)): \(pythonValue(dest: dest, v.gem5Value)),  \(comment)\n"
                } else {
                    s += "        \(comment) (no gem5 option)\n"
                }
            }
            s += "        \"script\": \(pythonString(Gem5ConfigBuilder.seScript)),\n"
            s += "        \"options\": [\(c.options.map(pythonString).joined(separator: ", "))],\n"
            s += "    },\n"
        }
        s += "}\n"
        if let bl = bigLittle {
            s += "big_little = {\n"
            s += "    \"big\": \(pythonString(bl.big)),\n    \"little\": \(pythonString(bl.little)),\n"
            s += "    \"script\": \(pythonString(Gem5ConfigBuilder.bigLittleScript)),\n"
            s += "    \"options\": [\(bl.options.map(pythonString).joined(separator: ", "))],\n"
            s += "}\n"
        } else {
            s += "big_little = None\n"
        }
        s += "notes = [\n"
        for n in notes { s += "    \(pythonString(n)),\n" }
        s += "]\n"
        return s
    }

    struct ValueJSON: Encodable {
        let value: Gem5Scalar?
        let source: String
        let option: String?

        enum CodingKeys: String, CodingKey { case value, source, option }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            switch value {
            case nil: try c.encodeNil(forKey: .value)
            case .int(let i)?: try c.encode(i, forKey: .value)
            case .double(let d)?: try c.encode(d, forKey: .value)
            case .bool(let b)?: try c.encode(b, forKey: .value)
            case .string(let s)?: try c.encode(s, forKey: .value)
            }
            try c.encode(source, forKey: .source)
            try c.encode(option, forKey: .option) // null, never left out
        }
    }

    struct ClusterJSON: Encodable {
        let name: String
        let script: String
        let options: [String]
        let values: [String: ValueJSON]
        let notes: [String]
    }

    struct BigLittleJSON: Encodable {
        let big: String
        let little: String
        let script: String
    }

    struct ReportJSON: Encodable {
        var schema = "socprof.gem5-config"
        var schema_version = 1
        let board: String
        let board_file: String
        let gem5: String
        let clusters: [ClusterJSON]
        let big_little_options: [String]?
        let big_little: BigLittleJSON?
        let notes: [String]

        enum CodingKeys: String, CodingKey {
            case schema, schema_version, board, board_file, gem5, clusters, big_little_options, big_little, notes
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(schema, forKey: .schema)
            try c.encode(schema_version, forKey: .schema_version)
            try c.encode(board, forKey: .board)
            try c.encode(board_file, forKey: .board_file)
            try c.encode(gem5, forKey: .gem5)
            try c.encode(clusters, forKey: .clusters)
            try c.encode(big_little_options, forKey: .big_little_options) // null when there is no line
            try c.encode(big_little, forKey: .big_little)
            try c.encode(notes, forKey: .notes)
        }
    }

    static func json(board: Board, file: String, clusters: [Gem5ClusterConfig], bigLittle: Gem5BigLittleConfig?, notes: [String]) throws -> String {
        let report = ReportJSON(
            board: board.name, board_file: file, gem5: Gem5ConfigBuilder.gem5Reference,
            clusters: clusters.map { c in
                ClusterJSON(name: c.name, script: Gem5ConfigBuilder.seScript, options: c.options,
                            values: Dictionary(uniqueKeysWithValues: c.values.map { ($0.key, ValueJSON(value: $0.value, source: $0.source, option: $0.option)) }),
                            notes: c.notes)
            },
            big_little_options: bigLittle?.options,
            big_little: bigLittle.map { BigLittleJSON(big: $0.big, little: $0.little, script: Gem5ConfigBuilder.bigLittleScript) },
            notes: notes)
        let enc = Platform.ReportJSON.encoder()
        return String(decoding: try enc.encode(report), as: UTF8.self) + "\n"
    }
}
