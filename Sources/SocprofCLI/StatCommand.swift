import ArgumentParser
import Counters
import Foundation
import Platform
import Reports

/// `socprof stat`: counts a command and its threads, printed like `perf stat`.
struct StatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "Count events while a command runs, like `perf stat`.",
        discussion: """
            Events: generic names (cycles, instructions, task-clock, page-faults, L1-dcache-load-misses), \
            raw codes (r17), sysfs syntax (armv8_cortex_a53/event=0x17/, armv7_cortex_a15/l2d_cache_refill/), \
            libpfm4 names (perf::TASK-CLOCK, arm_ac15::L2D_CACHE_REFILL); modifiers :u :k :h :D. \
            On a big.LITTLE board a hardware event is counted once per core PMU. \
            An event that cannot be counted prints <not supported> or <not counted> with the reason, never 0. \
            socprof exits with the command's status (128+N if a signal N killed it; 127 if it was not found) \
            and passes SIGINT/SIGTERM/SIGHUP/SIGQUIT sent to socprof on to it.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: [.short, .customLong("event")], help: ArgumentHelp(
        "Comma-separated events; repeatable (default: task-clock, context-switches, cpu-migrations, page-faults, cycles, instructions, branches, branch-misses).",
        valueName: "list"))
    var events: [String] = []

    @Option(name: [.customShort("x"), .customLong("field-separator")], help: ArgumentHelp(
        "Print CSV with this separator in perf's layout: value,unit,event[,stddev%],run-ns,running%,metric,metric-unit.",
        valueName: "sep"))
    var separator: String?

    @Flag(help: "Print JSON (schema in docs/stat.md).")
    var json = false

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the counts to this file (atomically) instead of stderr.", valueName: "file"))
    var output: String?

    @Option(name: [.short, .customLong("repeat")], help: ArgumentHelp("Run the command this many times and report means with their spread.", valueName: "n"))
    var repeats: Int = 1

    @Flag(help: "Also measure energy with the board's power sensors (INA231, INA3221, hwmon, powercap) while the command runs.")
    var energy = false

    @Option(name: .customLong("idle-baseline"), help: ArgumentHelp("With --energy: seconds of idle power measured before the first run, reported beside the energy (default 1; 0: none).", valueName: "s"))
    var idleSeconds: Double = 1

    @Option(name: .customLong("power-log"), help: ArgumentHelp("A CSV log of an external power meter (timestamp,watts; Unix seconds) covering the run: its energy is reported too.", valueName: "file"))
    var powerLog: String?

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command to count, after --.", valueName: "command"))
    var command: [String] = []

    static let defaultEvents = "task-clock,context-switches,cpu-migrations,page-faults,cycles,instructions,branches,branch-misses"

    var commandLine: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    func validate() throws {
        // `socprof stat --help`: the passthrough argument captured the flag.
        if command == ["--help"] || command == ["-h"] { throw CleanExit.helpRequest(self) }
        try global.validateRoot()
        if commandLine.isEmpty {
            throw ValidationError("no command to count: write socprof stat [options] -- COMMAND [ARGS...]")
        }
        if repeats < 1 { throw ValidationError("--repeat \(repeats) must be at least 1.") }
        if let separator, separator.isEmpty { throw ValidationError("-x needs a separator, as -x, or -x ';'.") }
        if let separator, separator.contains(where: { $0.isNewline || $0 == "\"" }) || separator.contains(where: { $0.isNumber || $0 == "." }) {
            throw ValidationError("-x '\(separator.debugDescription.dropFirst().dropLast())' cannot separate fields: a separator may not hold a line break, a quote, a digit or a '.'.")
        }
        if separator != nil && json { throw ValidationError("-x and --json both choose the output format; give one.") }
        if idleSeconds < 0 || idleSeconds > 600 { throw ValidationError("--idle-baseline \(idleSeconds) must be between 0 and 600 seconds.") }
        if let powerLog, !FileManager.default.isReadableFile(atPath: powerLog) {
            throw ValidationError("--power-log '\(powerLog)' cannot be read.")
        }
        if let output, FileManager.default.fileExists(atPath: output), (try? FileManager.default.attributesOfItem(atPath: output)[.type] as? FileAttributeType) == .typeDirectory {
            throw ValidationError("-o '\(output)' is a directory; give a file name.")
        }
    }

    func run() throws {
        let root = global.systemRoot
        let registry = PMURegistry(root: root)
        let specs: [EventSpec]
        let resolved: [ResolvedEvent]
        do {
            specs = try EventSpec.parseList(events.isEmpty ? Self.defaultEvents : events.joined(separator: ","))
            resolved = try EventResolver(registry: registry).resolve(specs)
        } catch let e as EventSpecError {
            throw fail(e.description)
        } catch let e as EventResolutionError {
            throw fail(e.description)
        }
        // Events are opened on the live kernel whatever --root says: its rules apply.
        let permissions = PerfPermissions.current(root: .live)
        let argv = commandLine
        var energyReport = EnergyReport()
        var sampler: EnergySampler? = nil
        if energy {
            let board = (try? PlatformDescription.load(root: root))?.board
            let sensors = PowerSensors.discover(root: root, board: board)
            if sensors.isEmpty {
                energyReport.notes.append("--energy: no power sensor found under \(root.absolute("sys")) (hwmon, INA231, INA3221, powercap); use --power-log with an external meter")
            } else {
                let s = EnergySampler(root: root, sensors: sensors)
                if idleSeconds > 0 {
                    Terminal.stderr("socprof stat: measuring idle power for \(idleSeconds) s ...")
                    energyReport.idle = s.idleBaseline(seconds: idleSeconds)
                }
                sampler = s
            }
        }

        let counting = CommandCounting(command: argv, events: resolved, registry: registry, permissions: permissions)
        var wallStart = 0.0
        let runs: [StatRun]
        do {
            runs = try counting.run(repeats: repeats, beforeRun: {
                if let sampler { energyReport.notes += sampler.start() }
                wallStart = Date().timeIntervalSince1970
            }, afterRun: {
                if let sampler {
                    energyReport.runs.append(sampler.stop())
                    energyReport.windows.append(sampler.wallWindow) // one window for sensors and meter
                } else {
                    energyReport.windows.append((wallStart, Date().timeIntervalSince1970))
                }
            })
        } catch { throw fail(error.description, code: error.shellStatus) }
        let lastStatus = runs.last?.termination.shellStatus ?? 0

        if let powerLog {
            do {
                let log = try PowerLog(csv: try String(contentsOfFile: powerLog, encoding: .utf8), file: powerLog)
                energyReport.logJoules = energyReport.windows.map { log.joules(from: $0.0, to: $0.1) }
                if energyReport.logJoules.contains(where: { $0 == nil }) {
                    energyReport.notes.append("--power-log \(powerLog) does not cover every run; those runs have no meter energy")
                }
            } catch let e as DataFileError {
                throw fail(e.description)
            }
        }
        // Counted events without a modifier, narrowed to user space by the paranoid level.
        let narrowed = permissions.defaultLevels == .all ? [] :
            (runs.first?.readings ?? []).filter { $0.event.levels == nil && $0.value != nil }.map(\.event.name)
        let report = StatReport(command: argv, runs: runs, requestedRepeats: repeats,
                                energy: energy || powerLog != nil ? energyReport : nil,
                                userSpaceOnly: (narrowed, "\(permissions.summary); for kernel counting too, \(PerfPermissions.fix)"))
        let text: String
        if json {
            text = try report.json(version: socprofVersion)
        } else if let separator {
            text = report.csv(separator: separator)
        } else {
            text = report.table()
        }
        try Terminal.emit(text, to: output, otherwise: json ? .stdout : .stderr)
        if lastStatus != 0 { throw CLIError.status(lastStatus) }
    }
}
