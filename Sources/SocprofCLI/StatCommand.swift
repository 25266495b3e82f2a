import ArgumentParser
import Counters
import Foundation

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
        if separator != nil && json { throw ValidationError("-x and --json both choose the output format; give one.") }
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
        let permissions = PerfPermissions.current(root: root)
        let argv = commandLine

        var runs: [StatRun] = []
        var lastStatus: Int32 = 0
        for _ in 0..<repeats {
            let child: ChildProcess
            do { child = try ChildProcess.spawn(argv) } catch { throw fail(error.description, code: error.shellStatus) }
            let counters = CounterSet(events: resolved,
                                      options: CounterOptions(target: .thread(child.pid), inherit: true, enableOnExec: true,
                                                              permissions: permissions),
                                      registry: registry)
            child.forwardSignals()
            var usageBefore = rusage()
            getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usageBefore)
            let t0 = DispatchTime.now().uptimeNanoseconds
            do {
                try child.start()
            } catch {
                child.stopForwardingSignals()
                counters.close()
                throw fail(error.description, code: error.shellStatus)
            }
            let termination = child.wait()
            let t1 = DispatchTime.now().uptimeNanoseconds
            child.stopForwardingSignals()
            var usageAfter = rusage()
            getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usageAfter)
            let readings: [Reading]
            do { readings = try counters.read() } catch { throw fail(error.description, code: 1) }
            counters.close()
            runs.append(StatRun(readings: readings, elapsedNanoseconds: t1 - t0,
                                userNanoseconds: Self.nanoseconds(usageAfter.ru_utime) &- Self.nanoseconds(usageBefore.ru_utime),
                                systemNanoseconds: Self.nanoseconds(usageAfter.ru_stime) &- Self.nanoseconds(usageBefore.ru_stime),
                                termination: termination, splits: counters.splits))
            lastStatus = termination.shellStatus
            if case .signaled(let s) = termination, s == SIGINT || s == SIGTERM { break } // stop repeating on Ctrl-C
        }

        let report = StatReport(command: argv, runs: runs, requestedRepeats: repeats)
        let text: String
        if json {
            text = try report.json()
        } else if let separator {
            text = report.csv(separator: separator)
        } else {
            text = report.table()
        }
        if let output {
            do { try Terminal.writeAtomically(text, to: output) } catch {
                throw fail("cannot write -o '\(output)': \(error.localizedDescription)", code: 1)
            }
        } else if json {
            print(text, terminator: "")
        } else {
            FileHandle.standardError.write(Data(text.utf8))
        }
        if lastStatus != 0 { throw ExitCode(lastStatus) }
    }

    static func nanoseconds(_ t: timeval) -> UInt64 {
        UInt64(max(0, Int64(t.tv_sec))) * 1_000_000_000 + UInt64(max(0, Int64(t.tv_usec))) * 1_000
    }
}

/// One run of the counted command.
struct StatRun {
    let readings: [Reading]
    let elapsedNanoseconds: UInt64
    let userNanoseconds: UInt64
    let systemNanoseconds: UInt64
    let termination: ChildProcess.Termination
    let splits: [String: Int]
}
