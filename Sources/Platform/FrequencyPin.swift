import Counters
import Foundation
import LinuxSystem
import Synchronization

/// Why a cpufreq policy could not be pinned or restored, or a voltage not known. Every message
/// names the file (or the table) and the fix.
public struct DVFSError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The sysfs file (absolute path) concerned, if one.
    public let file: String?
    public let problem: String

    public init(file: String?, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { file.map { "\($0): \(problem)" } ?? problem }
}

/// How a pin writes a sysfs file (an absolute path and its new contents): the kernel's files by
/// default; tests give one that fails on purpose.
public struct SysfsWriter: Sendable {
    public let write: @Sendable (_ path: String, _ text: String) throws(DVFSError) -> Void

    public init(_ write: @escaping @Sendable (_ path: String, _ text: String) throws(DVFSError) -> Void) { self.write = write }

    /// open(O_WRONLY|O_TRUNC) and one write(2), as the shell's `echo N > file` (sysfs ignores the
    /// truncation; a fixture tree needs it).
    public static let files = SysfsWriter { (path: String, text: String) throws(DVFSError) in
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else {
            let why = String(cString: strerror(errno))
            throw DVFSError(file: path, problem: "cannot be opened for writing (\(why)): run socprof as root (sudo), or leave the frequency as it is with --frequency current")
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else {
            let why = n < 0 ? String(cString: strerror(errno)) : "short write"
            throw DVFSError(file: path, problem: "writing \(text.trimmingCharacters(in: .whitespacesAndNewlines)) failed (\(why)): the kernel refused the limit; run as root, or use --frequency current")
        }
    }
}

/// The limits of one cpufreq policy as they were before socprof changed them.
public struct FrequencyLimits: Sendable, Hashable, Codable {
    /// `scaling_min_freq` and `scaling_max_freq`, kHz.
    public let minKHz: Int64
    public let maxKHz: Int64
}

/// One cpufreq policy held at one frequency by setting `scaling_min_freq` and `scaling_max_freq`
/// both to it, which every governor obeys (performance, powersave, ondemand, schedutil,
/// userspace). The limits found are written back by `restore()`: call it on every way out
/// (`defer`); `FrequencyPins` restores whatever is still pinned when the process is interrupted.
///
/// The writes are ordered so that min <= max holds after each of them (a 3.x kernel refuses a
/// minimum above the maximum): first widen to the hardware limits, then narrow to the target.
// Sendable: pinned and restored by the thread that owns it; `FrequencyPins` (its lock) reaches it from
// the interrupt path only to restore.
public final class FrequencyPin: @unchecked Sendable {
    /// The policy's directory, relative to the root (`sys/devices/system/cpu/cpu4/cpufreq`).
    public let directory: String
    public let root: SystemRoot
    /// The CPUs of the policy.
    public let cpus: CPUSet
    /// The frequency asked for, kHz.
    public let targetKHz: Int64
    /// The limits before pinning.
    public let original: FrequencyLimits
    /// Guarded by `FrequencyPins.registry`'s lock: whether the limits still need restoring.
    fileprivate var pinned = false
    private let hardware: FrequencyLimits
    private let writer: SysfsWriter

    /// The policy directory of the domain: that of its first CPU.
    public static func directory(of domain: FrequencyDomain) -> String {
        "sys/devices/system/cpu/cpu\(domain.cpus.cpus.first ?? 0)/cpufreq"
    }

    /// Pins the domain's policy to `targetKHz`, which must be one of its available frequencies
    /// (or within its hardware limits when the kernel lists none).
    /// - Throws: `DVFSError` naming the file and the fix when it cannot be read or
    ///   written (not root, no cpufreq driver), or when the frequency is not offered. Nothing is
    ///   left changed when it throws.
    public init(root: SystemRoot, domain: FrequencyDomain, targetKHz: Int64, writer: SysfsWriter = .files) throws(DVFSError) {
        let dir = Self.directory(of: domain)
        self.writer = writer
        self.directory = dir
        self.root = root
        self.cpus = domain.cpus
        self.targetKHz = targetKHz
        func read(_ name: String) throws(DVFSError) -> Int64 {
            guard let v = root.readInt("\(dir)/\(name)") else {
                throw DVFSError(file: root.absolute("\(dir)/\(name)"),
                                        problem: "cannot read it: the cpufreq driver does not expose this policy's limits, so its frequency cannot be pinned (use --frequency current)")
            }
            return v
        }
        original = FrequencyLimits(minKHz: try read("scaling_min_freq"), maxKHz: try read("scaling_max_freq"))
        let hwMin = domain.minKHz ?? domain.availableKHz.first ?? original.minKHz
        let hwMax = domain.maxKHz ?? domain.availableKHz.last ?? original.maxKHz
        hardware = FrequencyLimits(minKHz: hwMin, maxKHz: hwMax)
        if !domain.availableKHz.isEmpty {
            guard domain.availableKHz.contains(targetKHz) else {
                throw DVFSError(file: root.absolute("\(dir)/scaling_available_frequencies"),
                                        problem: "\(Self.mhz(targetKHz)) is not offered; cpus \(domain.cpus) offer \(domain.availableKHz.map(Self.mhz).joined(separator: ", "))")
            }
        } else if targetKHz < hwMin || targetKHz > hwMax {
            throw DVFSError(file: root.absolute("\(dir)/cpuinfo_max_freq"),
                                    problem: "\(Self.mhz(targetKHz)) is outside cpus \(domain.cpus)'s limits \(Self.mhz(hwMin))–\(Self.mhz(hwMax))")
        }
        try FrequencyPins.register(self) { () throws(DVFSError) in
            try apply(FrequencyLimits(minKHz: targetKHz, maxKHz: targetKHz))
        }
    }

    /// Writes the limits found back. Safe to call more than once; the first error is thrown
    /// after every write was tried.
    public func restore() throws(DVFSError) {
        try FrequencyPins.unregister(self) { () throws(DVFSError) in try apply(original) }
    }

    /// "1400 MHz".
    public static func mhz(_ khz: Int64) -> String {
        khz % 1000 == 0 ? "\(khz / 1000) MHz" : String(format: "%.1f MHz", Double(khz) / 1000)
    }

    /// Widens to the hardware limits, then narrows to `limits`; min <= max after each write.
    /// When a write fails, the ones before it are undone.
    private func apply(_ limits: FrequencyLimits) throws(DVFSError) {
        let steps: [(String, Int64)] = [("scaling_min_freq", min(hardware.minKHz, limits.minKHz)),
                                        ("scaling_max_freq", max(hardware.maxKHz, limits.maxKHz)),
                                        ("scaling_max_freq", limits.maxKHz),
                                        ("scaling_min_freq", limits.minKHz)]
        let before = FrequencyLimits(minKHz: root.readInt("\(directory)/scaling_min_freq") ?? original.minKHz,
                                     maxKHz: root.readInt("\(directory)/scaling_max_freq") ?? original.maxKHz)
        for (i, (name, value)) in steps.enumerated() {
            do { try write(name, value) } catch {
                if i > 0 {
                    // Back to where it was, in an order that keeps min <= max.
                    try? write("scaling_min_freq", min(hardware.minKHz, before.minKHz))
                    try? write("scaling_max_freq", before.maxKHz)
                    try? write("scaling_min_freq", before.minKHz)
                }
                throw error
            }
        }
    }

    private func write(_ name: String, _ khz: Int64) throws(DVFSError) {
        try writer.write(root.absolute("\(directory)/\(name)"), "\(khz)\n")
    }
}

/// The pins that are in force, so that an interrupted run can put every policy back.
public enum FrequencyPins {
    private static let registry = Mutex<[ObjectIdentifier: FrequencyPin]>([:])

    fileprivate static func register(_ pin: FrequencyPin, apply: () throws(DVFSError) -> Void) throws(DVFSError) {
        try registry.withLock { (pins: inout [ObjectIdentifier: FrequencyPin]) throws(DVFSError) in
            try apply()
            pin.pinned = true
            pins[ObjectIdentifier(pin)] = pin
        }
    }

    fileprivate static func unregister(_ pin: FrequencyPin, apply: () throws(DVFSError) -> Void) throws(DVFSError) {
        try registry.withLock { (pins: inout [ObjectIdentifier: FrequencyPin]) throws(DVFSError) in
            guard pin.pinned else { return }
            pin.pinned = false
            pins[ObjectIdentifier(pin)] = nil
            try apply()
        }
    }

    /// The pins not yet restored.
    public static var active: [FrequencyPin] { registry.withLock { Array($0.values) } }

    /// Restores every pin still in force; returns the errors (one per pin that failed).
    @discardableResult
    public static func restoreAll() -> [DVFSError] {
        var errors: [DVFSError] = []
        for pin in active {
            do { try pin.restore() } catch { errors.append(error) }
        }
        return errors
    }
}
