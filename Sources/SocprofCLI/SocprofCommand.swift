import ArgumentParser
import Counters
import Foundation
import LinuxSystem

/// socprof's version, printed by `socprof --version` and written into every report.
public let socprofVersion = "0.1.0"

/// The `socprof` command.
public struct SocprofCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "socprof",
        abstract: "Hardware-counter profiler for neural-network inference on ARM boards.",
        discussion: """
            Counts cycles, instructions, cache refills and DRAM traffic through Linux perf_event, \
            per command (stat) and per network layer (profile). Everything read from \
            /sys and /proc is read under --root (or SOCPROF_ROOT), so a copy of a board's tree works too.
            """,
        version: "socprof \(socprofVersion) (libpfm4 API \(Pfm.version))",
        subcommands: [StatCommand.self, InfoCommand.self, EventsCommand.self, RunCommand.self, CeilingsCommand.self, CheckCommand.self, RooflineCommand.self, CompareCommand.self, NetworksCommand.self, ListCommand.self, ProfileCommand.self, BenchCommand.self, Gem5Command.self, CalibrateCommand.self, PowerModelCommand.self, SweepCommand.self, CoexecCommand.self]
    )

    public init() {}

    /// Entry point: accepts perf's attached short options (`-x,`, `-r5`, `-ecycles`) by splitting
    /// them before argument parsing, up to the `--` that starts a counted command.
    public static func runMain() {
        // As ArgumentParser's main(), but bad input (an unknown option, a value it refuses, a
        // ValidationError) exits with 2 like every other bad input (README: "Errors and exit
        // status"), not with ArgumentParser's 64.
        do {
            var command = try parseAsRoot(splitAttachedShortOptions(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let error as CLIError {
            if let message = error.message { Terminal.stderr("socprof: error: \(message)") }
            if error.status == 0 { return }
            Glibc.exit(error.status)
        } catch {
            if exitCode(for: error) == .validationFailure {
                // One line, as every other error: what is wrong and where to read more.
                let names = Set(configuration.subcommands.compactMap { $0.configuration.commandName })
                let command = CommandLine.arguments.dropFirst().first { a in names.contains(a) }
                Terminal.stderr("socprof: error: \(message(for: error)) (see `socprof\(command.map { " \($0)" } ?? "") --help`)")
                Glibc.exit(2)
            }
            exit(withError: error)
        }
        // Output lost to a full disk, a closed pipe or /dev/full is a failure, not a silent 0.
        if StandardOutput.flushFailed() {
            let why = String(cString: strerror(errno))
            Terminal.stderr("socprof: error: writing the output failed (\(why))")
            Glibc.exit(1)
        }
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
        if let root, root.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--root '' names no directory; give a directory, or leave --root out to read / (or $SOCPROF_ROOT).")
        }
        let r = systemRoot
        if !r.isLive && !r.isDirectory("") {
            throw ValidationError("--root '\(r.path)' is not a directory.")
        }
    }
}

/// How a command ends when it does not succeed: one line for stderr (none when everything was
/// said already) and the exit status (README, "Errors and exit status"). Every command throws
/// this; `runMain` prints it and exits.
struct CLIError: Error, CustomStringConvertible {
    /// The line after `socprof: error: `; nil: exit without a message.
    let message: String?
    let status: Int32

    /// Bad input: an option, file or value socprof refuses (2).
    static func badInput(_ message: String) -> CLIError { CLIError(message: message, status: 2) }
    /// A failure while working: a write, a counter, a device (1, unless `status` says otherwise).
    static func failure(_ message: String, status: Int32 = 1) -> CLIError { CLIError(message: message, status: status) }
    /// Stopped by Ctrl-C (or SIGTERM), after keeping what was measured: 130, as a shell reports it.
    static let interrupted = CLIError(message: nil, status: 130)
    /// An exit status passed on without a message (the counted command's).
    static func status(_ status: Int32) -> CLIError { CLIError(message: nil, status: status) }

    var description: String { message ?? "exit status \(status)" }
}

/// The error for `message` with exit status `code` (2, bad input, unless given).
func fail(_ message: String, code: Int32 = 2) -> CLIError {
    CLIError(message: message, status: code)
}

/// Output helpers.
enum Terminal {
    /// A line on stderr; nothing happens when stderr is closed or full (a message cannot be
    /// allowed to stop a measurement).
    static func stderr(_ s: String) {
        let bytes = Array((s + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// Where a report goes without `-o`.
    enum Stream { case stdout, stderr }

    /// The one way a command writes its report: to `path` when given (atomically, see
    /// `writeAtomically`; a failure is exit status 1 naming `option` and the path), else to `stream`.
    static func emit(_ text: String, to path: String?, option: String = "-o", otherwise stream: Stream = .stdout) throws(CLIError) {
        guard let path else {
            switch stream {
            case .stdout: print(text, terminator: "")
            case .stderr:
                do { try writeAll(Data(text.utf8), to: 2) } catch { throw .failure("writing the report to stderr failed: \(error.localizedDescription)") }
            }
            return
        }
        do { try writeAtomically(text, to: path) } catch {
            throw .failure("cannot write \(option) '\(path)': \(error.localizedDescription)")
        }
    }

    /// Writes `text` to `path`. A regular file (or a new path) is written atomically: a temporary
    /// file in the same directory, then a rename, so that a reader never sees half a report and a
    /// failure leaves the old file in place; a symlink to one is followed (the link stays a link).
    /// Anything else (`-` for stdout, /dev/stdout, a device, a FIFO, or a link to one) is written
    /// through, never replaced by a regular file.
    static func writeAtomically(_ text: String, to path: String) throws {
        let data = Data(text.utf8)
        if path == "-" {
            try FileHandle.standardOutput.write(contentsOf: data)
            return
        }
        // The path as the kernel would open it: symlinks resolved (a new file's directory too).
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        var st = stat()
        if stat(target.path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
            let fd = open(target.path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            defer { close(fd) }
            try writeAll(data, to: fd)
            return
        }
        try data.write(to: target, options: .atomic)
    }

    /// Writes all of `data` to `fd` with write(2), retrying after EINTR and short writes.
    static func writeAll(_ data: Data, to fd: Int32) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                }
                offset += n
            }
        }
    }
}
