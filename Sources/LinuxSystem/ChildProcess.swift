import CLinux
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A command started in two steps, so that counters can be attached to its pid before it runs:
/// `spawn` forks a child that waits, `start` lets it exec.
// Sendable: owned by the thread that spawned it; the forwarded-signal state lives in the C shim
// (async-signal-safe globals).
public final class ChildProcess: @unchecked Sendable {
    /// How a process ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        /// exit(code).
        case exited(Int32)
        /// Killed by a signal.
        case signaled(Int32)

        /// The status a shell would report: the code, or 128 + the signal number.
        public var shellStatus: Int32 {
            switch self {
            case .exited(let c): c
            case .signaled(let s): 128 + s
            }
        }

        public var description: String {
            switch self {
            case .exited(let c): "exited with status \(c)"
            case .signaled(let s): "killed by signal \(s)" + (strsignal(s).map { " (\(String(cString: $0)))" } ?? "")
            }
        }
    }

    /// Why a command could not be run; `shellStatus` is what a shell would exit with.
    public struct LaunchError: Error, Sendable, CustomStringConvertible {
        /// The command name.
        public let command: String
        /// The errno of fork, pipe or exec.
        public let errno: Errno
        /// 127 when the command was not found, 126 when it was found but could not run.
        public var shellStatus: Int32 { errno == .noSuchFileOrDirectory || errno == .notDirectory ? 127 : 126 }
        public var description: String {
            switch errno {
            case .noSuchFileOrDirectory, .notDirectory: "\(command): command not found"
            case .permissionDenied: "\(command): permission denied (not executable)"
            default: "\(command): cannot run: \(errno)"
            }
        }
    }

    /// The child's pid.
    public let pid: pid_t
    /// The command line.
    public let arguments: [String]
    private var goFD: Int32
    private var errFD: Int32
    private var termination: Termination?

    private init(pid: pid_t, arguments: [String], goFD: Int32, errFD: Int32) {
        self.pid = pid
        self.arguments = arguments
        self.goFD = goFD
        self.errFD = errFD
    }

    deinit {
        if goFD >= 0 { try? FileDescriptor(rawValue: goFD).close() }
        if errFD >= 0 { try? FileDescriptor(rawValue: errFD).close() }
    }

    /// Forks a child that will run `arguments` (PATH is searched for `arguments[0]`) once
    /// `start()` is called. If this object goes away without `start()`, the child exits 127.
    public static func spawn(_ arguments: [String]) throws(LaunchError) -> ChildProcess {
        precondition(!arguments.isEmpty, "ChildProcess.spawn needs a command")
        var go: Int32 = -1, err: Int32 = -1
        // strdup'ed C strings that live until after fork (the child execs from its own copy).
        let cStrings: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in cStrings { free(p) } }
        let pid = cStrings.withUnsafeBufferPointer { socprof_spawn_waiting($0.baseAddress, &go, &err) }
        guard pid > 0 else { throw LaunchError(command: arguments[0], errno: Errno(rawValue: errno)) }
        return ChildProcess(pid: pid, arguments: arguments, goFD: go, errFD: err)
    }

    /// Lets the child exec. Throws when exec failed (the child has then exited with 126/127 and
    /// has been reaped).
    public func start() throws(LaunchError) {
        _ = socprof_spawn_release(goFD) // EPIPE if it died: the err pipe below says why
        try? FileDescriptor(rawValue: goFD).close()
        goFD = -1
        var code: Int32 = 0
        let errPipe = FileDescriptor(rawValue: errFD)
        let n = try? withUnsafeMutableBytes(of: &code) { try errPipe.read(into: $0, retryOnInterrupt: true) }
        try? errPipe.close()
        errFD = -1
        if n == MemoryLayout<Int32>.size {
            _ = wait()
            throw LaunchError(command: arguments[0], errno: Errno(rawValue: code))
        }
    }

    /// Waits for the child to end (retrying on EINTR) and returns how it ended. Signal
    /// forwarding stops before the child is reaped, so that its pid cannot be reused in between.
    @discardableResult
    public func wait() -> Termination {
        if let termination { return termination }
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        if forwarding { stopForwardingSignals() }
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, 0)
            if r == pid { break }
            if r < 0 && errno == EINTR { continue }
            // ECHILD: already reaped elsewhere; report what we know.
            termination = .exited(127)
            return termination!
        }
        let t: Termination = socprof_wifsignaled(status) != 0 ? .signaled(socprof_wtermsig(status)) : .exited(socprof_wexitstatus(status))
        termination = t
        return t
    }

    /// Sends SIGINT, SIGTERM, SIGHUP and SIGQUIT that this process receives from other processes
    /// on to the child until `stopForwardingSignals()`.
    public func forwardSignals() {
        _ = socprof_forward_signals(pid)
        forwarding = true
    }

    /// Restores the signal handlers `forwardSignals()` replaced (done by `wait()`).
    public func stopForwardingSignals() {
        receivedSignal = socprof_forwarded_signal()
        socprof_stop_forwarding()
        forwarding = false
    }

    /// The signal socprof itself received (and forwarded) while the child ran, or 0.
    public private(set) var receivedSignal: Int32 = 0
    private var forwarding = false
}
