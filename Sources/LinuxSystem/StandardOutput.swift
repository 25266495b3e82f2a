import CLinux

/// The C library's standard output stream.
public enum StandardOutput {
    /// Flushes it; true when that or any earlier write to it failed (a full disk, a closed pipe).
    public static func flushFailed() -> Bool { socprof_stdout_failed() != 0 }
}
