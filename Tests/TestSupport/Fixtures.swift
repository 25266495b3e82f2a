import Counters
import Foundation
import LinuxSystem

/// Fixture trees of real board layouts under Tests/Fixtures (see its README.md).
public enum Fixtures {
    /// The boards with a fixture tree.
    public static let boards = ["odroid-xu3", "rk3399", "rk3588"]

    /// The tree of the emulated arm64 board (`scripts/arm-board`: QEMU `virt`, `-cpu cortex-a53`,
    /// Debian's 6.1 arm64 kernel), copied from the guest; not a board of `boards/`.
    public static let emulatedBoard = "qemu-virt-a53"

    /// The directory holding the fixture trees.
    public static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    /// The root of one board's tree.
    public static func root(_ board: String) -> SystemRoot {
        SystemRoot(path: directory.appendingPathComponent(board).path)
    }

    /// A fresh temporary directory (removed by the caller with `remove`).
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("socprof-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A writable copy of one board's tree in a fresh temporary directory (for tests that write
    /// to sysfs, such as cpufreq limits); the caller removes `url`.
    public static func writableCopy(_ board: String) throws -> (url: URL, root: SystemRoot) {
        let dir = try temporaryDirectory()
        let copy = dir.appendingPathComponent(board)
        try FileManager.default.copyItem(at: directory.appendingPathComponent(board), to: copy)
        return (dir, SystemRoot(path: copy.path))
    }

    /// Writes `files` (relative path to contents) under `dir`, creating directories.
    public static func write(_ files: [String: String], under dir: URL) throws {
        for (path, text) in files {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
    }

    /// Whether this machine has a core PMU that perf_event can use.
    public static var liveMachineHasCorePMU: Bool { !PMURegistry(root: .live).corePMUs.isEmpty }
}

/// Runs the built `socprof` binary, as a user would.
public enum Socprof {
    /// The result of one run.
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// The socprof executable next to the test bundle (built by `swift build` before the tests).
    public static var executable: URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("socprof")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        let pkg = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return pkg.appendingPathComponent(".build/debug/socprof")
    }

    /// Starts socprof with `arguments`; the caller waits.
    public static func start(_ arguments: [String], environment: [String: String]? = nil) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, out, err)
    }

    /// Runs socprof to completion.
    public static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        try runProgram(executable.path, arguments, environment: environment)
    }

    /// Runs any program to completion, collecting its output.
    public static func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes concurrently so that neither fills up and blocks the child.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
        return Result(status: status, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Path of a program on PATH, or nil.
    public static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
}

/// Says which machine-dependent branch a test took (no PMU, or a PMU), on stderr, so that a run's
/// log shows what was checked here and what was not.
public enum TestBranch {
    public static func took(_ branch: String, file: String = #fileID, line: Int = #line) {
        FileHandle.standardError.write(Data("[socprof-test] \(file):\(line): branch: \(branch)\n".utf8))
    }

    /// "no core PMU" or "core PMU <names>", as `took` says it for the PMU branches.
    public static var pmu: String {
        let pmus = PMURegistry(root: .live).corePMUs.map(\.name)
        return pmus.isEmpty ? "no core PMU on this machine" : "core PMU \(pmus.joined(separator: ", "))"
    }
}
