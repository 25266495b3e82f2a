import ArgumentParser
import Counters
import Foundation

/// socprof's version, printed by `socprof --version` and written into every report.
public let socprofVersion = "0.1.0"

/// The `socprof` command.
public struct SocprofCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "socprof",
        abstract: "Hardware-counter profiler for neural-network inference on ARM boards.",
        discussion: """
            Counts cycles, instructions, cache refills and DRAM traffic through Linux perf_event, \
            per command today and per network layer as the profiler lands. Everything read from \
            /sys and /proc is read under --root (or SOCPROF_ROOT), so a copy of a board's tree works too.
            """,
        version: "socprof \(socprofVersion) (libpfm4 API \(Pfm.version))",
        subcommands: [StatCommand.self, InfoCommand.self, EventsCommand.self, RunCommand.self, CeilingsCommand.self, RooflineCommand.self, CompareCommand.self, NetworksCommand.self, ListCommand.self, ProfileCommand.self, BenchCommand.self, Gem5Command.self, CalibrateCommand.self, PowerModelCommand.self, SweepCommand.self, CoexecCommand.self]
    )

    public init() {}

    /// Entry point: accepts perf's attached short options (`-x,`, `-r5`, `-ecycles`) by splitting
    /// them before argument parsing, up to the `--` that starts a counted command.
    public static func runMain() {
        main(splitAttachedShortOptions(Array(CommandLine.arguments.dropFirst())))
    }

    /// `-x,` becomes `-x ,` (for -x, -r, -e, -o), before any `--`.
    static func splitAttachedShortOptions(_ args: [String]) -> [String] {
        var out: [String] = []
        var passthrough = false
        for a in args {
            if passthrough || a == "--" { passthrough = true; out.append(a); continue }
            if a.count > 2, a.hasPrefix("-"), !a.hasPrefix("--"), "xreo".contains(a[a.index(after: a.startIndex)]) {
                out.append(String(a.prefix(2)))
                out.append(String(a.dropFirst(2)))
            } else {
                out.append(a)
            }
        }
        return out
    }
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Read /sys and /proc under this directory instead of / (default: $SOCPROF_ROOT, else /).",
        valueName: "dir"))
    var root: String?

    /// The root to read under.
    var systemRoot: SystemRoot { SystemRoot.resolve(explicit: root) }

    func validateRoot() throws {
        let r = systemRoot
        if !r.isLive && !r.isDirectory("") {
            throw ValidationError("--root '\(r.path)' is not a directory.")
        }
    }
}

/// Prints `socprof: error: message` on stderr and returns the exit code for bad input (2).
func fail(_ message: String, code: Int32 = 2) -> ExitCode {
    Terminal.stderr("socprof: error: \(message)")
    return ExitCode(code)
}

/// Output helpers.
enum Terminal {
    static func stderr(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }

    /// Writes `text` to `path` atomically (a temporary file in the same directory, then rename),
    /// so that a reader never sees half a report and a failure leaves the old file in place.
    static func writeAtomically(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try Data(text.utf8).write(to: url, options: .atomic)
    }
}
