import Platform

/// The events `powermodel collect` counts when none are given.
public enum PowerModelEvents {
    /// ARM common events by how much they tell a power model, after GemStone's and Powmon's
    /// selections (reference gem5-calibration-facts.md §3.2): cycles, instructions, L1D accesses and
    /// refills, L2 accesses and refills, bus accesses, instructions speculatively executed.
    public static let preference: [UInt64] = [0x11, 0x08, 0x04, 0x03, 0x16, 0x17, 0x19, 0x1B]

    /// Raw event specs (`r11`, `r08`, ...) for a core whose table is `table`: the preferred events
    /// it implements, as many as its PMU counts at once (`counters` programmable ones plus the
    /// cycle counter; 4 + 1 when unknown, the smallest PMU of the boards socprof knows), so that
    /// one pass counts them all. Generic `cycles` and `instructions` where no table is known (x86).
    public static func defaults(table: EventTable?, counters: Int?) -> [String] {
        guard let table else { return ["cycles", "instructions"] }
        let implemented = Set(table.events.map(\.code))
        let budget = (counters ?? 4) + 1
        return preference.filter(implemented.contains).prefix(budget).map { String(format: "r%02x", $0) }
    }
}
