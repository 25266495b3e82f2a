import CLinux

/// Ctrl-C and SIGTERM as a flag that a long run polls between steps, so that it can stop
/// cleanly (write what it has, restore the CPU's settings) instead of dying mid-step.
public enum Interrupts {
    /// Installs the handlers for SIGINT and SIGTERM. Until then the signals act as by default.
    public static func catchInterrupts() { _ = socprof_catch_interrupts() }

    /// Whether SIGINT or SIGTERM arrived since `catchInterrupts()`.
    public static var received: Bool { socprof_interrupted() != 0 }

}
