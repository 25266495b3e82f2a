import Foundation

/// A problem with power-model input or with a fit: the file, the 1-based line and column where
/// known, and what is wrong in words.
public struct PowerModelError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The samples file (or the name the caller gave the text).
    public let file: String
    /// 1-based line, when the problem is on one line.
    public let line: Int?
    /// 1-based column number, when the problem is in one field.
    public let column: Int?
    /// The column's header name, when known.
    public let columnName: String?
    /// What is wrong and, where it helps, what to do.
    public let problem: String

    /// A problem at `file`, optionally at a line and column.
    public init(file: String, line: Int? = nil, column: Int? = nil, columnName: String? = nil, problem: String) {
        self.file = file
        self.line = line
        self.column = column
        self.columnName = columnName
        self.problem = problem
    }

    /// `file:line:column (name): problem`, leaving out what is not known.
    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        if let column { s += ":\(column)" }
        if let columnName { s += " (\(columnName))" }
        return s + ": " + problem
    }
}

/// One measurement: a core at one frequency and voltage, the power it drew and its event rates.
public struct PowerSample: Sendable, Equatable {
    /// Core clock frequency, MHz.
    public var freqMHz: Double
    /// Core supply voltage, V.
    public var voltageV: Double
    /// Measured power, W (above 0: the MAPE divides by it).
    public var powerW: Double
    /// Event rates, events per second per core, in the order of `PowerSamples.eventNames`.
    public var rates: [Double]
    /// 1-based line of the samples file it came from (0 when built in code), for messages.
    public var line: Int

    /// A sample; `rates` follow the owning table's `eventNames`.
    public init(freqMHz: Double, voltageV: Double, powerW: Double, rates: [Double], line: Int = 0) {
        self.freqMHz = freqMHz
        self.voltageV = voltageV
        self.powerW = powerW
        self.rates = rates
        self.line = line
    }
}

/// A table of power samples with named event-rate columns, as read from a CSV file.
///
/// The CSV's first non-comment line is the header. It must name `freq_mhz` (MHz), `voltage_v` (V)
/// and `power_w` (W); `workload`, `freq_read_mhz` and `seconds` label a row (`labelColumns`); every
/// other column is an event rate in events per second per core (for
/// example `r11` for CPU_CYCLES: 1.8e9 on a busy core at 1800 MHz). Fields are separated by commas,
/// spaces around them are ignored, blank lines and lines starting with `#` are skipped; quoted
/// fields are not supported. Numbers use Swift's `Double` syntax (`1.8e9` is fine here; only the gem5
/// export must avoid exponents).
public struct PowerSamples: Sendable {
    /// The names of the event columns, in file order.
    public let eventNames: [String]
    /// The rows.
    public let samples: [PowerSample]
    /// Where the samples came from, for messages.
    public let file: String

    /// The three columns every samples file has.
    public static let requiredColumns = ["freq_mhz", "voltage_v", "power_w"]

    /// Columns that label a row rather than count events (`powermodel collect` writes them):
    /// never taken for events, and free to hold text or nothing.
    public static let labelColumns = ["workload", "freq_read_mhz", "seconds"]

    /// A table built in code.
    public init(eventNames: [String], samples: [PowerSample], file: String = "samples") {
        precondition(samples.allSatisfy { $0.rates.count == eventNames.count }, "each sample needs one rate per event")
        self.eventNames = eventNames
        self.samples = samples
        self.file = file
    }

    /// The rates of event `name` over all rows (nil when there is no such column).
    public func rates(of name: String) -> [Double]? {
        eventNames.firstIndex(of: name).map { i in samples.map { $0.rates[i] } }
    }

    /// Reads a samples CSV.
    ///
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - file: the name used in errors.
    ///   - events: when given, only these event columns are read (they must exist); other columns
    ///     (a workload name, a timestamp) are ignored. When nil, every column other than the three
    ///     required ones is an event and must hold numbers.
    /// - Throws: `PowerModelError` for a missing or duplicated column, a field that is not a number,
    ///   NaN or infinity, a frequency or voltage that is not above 0, power that is not above 0, a
    ///   row with the wrong number of fields, or a file with no rows.
    public init(csv text: String, file: String = "samples.csv", events: [String]? = nil) throws(PowerModelError) {
        var header: [String]? = nil
        var headerLine = 0
        var indices: (f: Int, v: Int, p: Int, events: [Int]) = (0, 0, 0, [])
        var names: [String] = []
        var rows: [PowerSample] = []
        var lineNumber = 0
        // "\r\n" is one Character in Swift: split on it as well as on "\n".
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let columns = header else {
                // The header.
                var seen: [String: Int] = [:]
                for (i, name) in fields.enumerated() {
                    if name.isEmpty {
                        throw PowerModelError(file: file, line: lineNumber, column: i + 1, problem: "the header has an empty column name")
                    }
                    if let first = seen[name] {
                        throw PowerModelError(file: file, line: lineNumber, column: i + 1, columnName: name,
                                              problem: "column '\(name)' is named twice (columns \(first + 1) and \(i + 1))")
                    }
                    seen[name] = i
                }
                for required in Self.requiredColumns where seen[required] == nil {
                    throw PowerModelError(file: file, line: lineNumber, columnName: required,
                                          problem: "no '\(required)' column; the header names \(fields.joined(separator: ", ")) and must name freq_mhz (MHz), voltage_v (V) and power_w (W)")
                }
                let eventColumns: [String]
                if let events {
                    for e in events where seen[e] == nil || Self.requiredColumns.contains(e) || Self.labelColumns.contains(e) {
                        throw PowerModelError(file: file, line: lineNumber, columnName: e,
                                              problem: "no event column '\(e)'; the event columns are \(fields.filter { !Self.requiredColumns.contains($0) && !Self.labelColumns.contains($0) }.joined(separator: ", "))")
                    }
                    eventColumns = events
                } else {
                    eventColumns = fields.filter { !Self.requiredColumns.contains($0) && !Self.labelColumns.contains($0) }
                }
                for e in eventColumns where PowerModelTerm.staticNames.contains(e) {
                    throw PowerModelError(file: file, line: lineNumber, column: seen[e]! + 1, columnName: e,
                                          problem: "an event column may not be named '\(e)': that is the name of a static term (\(PowerModelTerm.staticNames.joined(separator: ", ")))")
                }
                names = eventColumns
                indices = (seen["freq_mhz"]!, seen["voltage_v"]!, seen["power_w"]!, eventColumns.map { seen[$0]! })
                header = fields
                headerLine = lineNumber
                continue
            }
            guard fields.count == columns.count else {
                throw PowerModelError(file: file, line: lineNumber,
                                      problem: "\(fields.count) fields, but the header (line \(headerLine)) names \(columns.count) columns")
            }
            func number(_ index: Int) throws(PowerModelError) -> Double {
                let field = fields[index]
                guard let v = Double(field) else {
                    throw PowerModelError(file: file, line: lineNumber, column: index + 1, columnName: columns[index],
                                          problem: field.isEmpty ? "the field is empty; a number is needed"
                                            : "'\(field)' is not a number" + (events == nil && !Self.requiredColumns.contains(columns[index])
                                                ? " (every column besides freq_mhz, voltage_v and power_w is an event rate unless the events are listed)" : ""))
                }
                guard v.isFinite else {
                    throw PowerModelError(file: file, line: lineNumber, column: index + 1, columnName: columns[index],
                                          problem: "'\(field)' is not a finite number (NaN and infinity cannot be fitted)")
                }
                return v
            }
            let f = try number(indices.f), v = try number(indices.v), p = try number(indices.p)
            if f <= 0 {
                throw PowerModelError(file: file, line: lineNumber, column: indices.f + 1, columnName: "freq_mhz", problem: "frequency \(fields[indices.f]) MHz must be above 0")
            }
            if v <= 0 {
                throw PowerModelError(file: file, line: lineNumber, column: indices.v + 1, columnName: "voltage_v", problem: "voltage \(fields[indices.v]) V must be above 0")
            }
            if p < 0 {
                throw PowerModelError(file: file, line: lineNumber, column: indices.p + 1, columnName: "power_w", problem: "negative power \(fields[indices.p]) W; a power meter's reading cannot be below 0")
            }
            if p == 0 {
                throw PowerModelError(file: file, line: lineNumber, column: indices.p + 1, columnName: "power_w", problem: "power 0 W: the percentage error divides by the measured power, so it must be above 0")
            }
            var rates: [Double] = []
            rates.reserveCapacity(indices.events.count)
            for i in indices.events { rates.append(try number(i)) }
            rows.append(PowerSample(freqMHz: f, voltageV: v, powerW: p, rates: rates, line: lineNumber))
        }
        guard header != nil else {
            throw PowerModelError(file: file, problem: "no header line (freq_mhz,voltage_v,power_w,<events>...)")
        }
        guard !rows.isEmpty else {
            throw PowerModelError(file: file, problem: "a header but no sample rows")
        }
        self.init(eventNames: names, samples: rows, file: file)
    }
}

/// One term of the Powmon/GemStone power model (facts §3.2), with f in MHz and V in volts:
///
///     P = β0 + Σₙ βₙ·rₙ·V² + β_f·f + β_V·V + β_fV·f·V + β_V2·V² + β_fV2·f·V² + β_V3·V³ + β_fV3·f·V³
///
/// where rₙ is event n's rate in events per second per core (the facts' EPHₙ·f). The event terms are
/// the dynamic power; the intercept and the seven f/V terms are the static power.
public enum PowerModelTerm: Sendable, Hashable {
    /// β0, W.
    case intercept
    /// βₙ·rₙ·V² for an event column; βₙ in J/(event·V²) (W per event/s per V²).
    case event(String)
    /// β_f·f; β_f in W/MHz.
    case f
    /// β_V·V; W/V.
    case v
    /// β_fV·f·V; W/(MHz·V).
    case fv
    /// β_V2·V²; W/V².
    case v2
    /// β_fV2·f·V²; W/(MHz·V²).
    case fv2
    /// β_V3·V³; W/V³.
    case v3
    /// β_fV3·f·V³; W/(MHz·V³).
    case fv3

    /// The static terms in the order they are identified (the first kept when the data cannot tell
    /// them apart): intercept, f, V, fV, V², fV², V³, fV³.
    public static let staticTerms: [PowerModelTerm] = [.intercept, .f, .v, .fv, .v2, .fv2, .v3, .fv3]

    /// The names of the static terms (reserved: no event column may use them).
    public static let staticNames: [String] = staticTerms.map(\.name)

    /// The coefficient's name: `intercept`, the event column, `f`, `V`, `fV`, `V2`, `fV2`, `V3`, `fV3`.
    public var name: String {
        switch self {
        case .intercept: "intercept"
        case .event(let e): e
        case .f: "f"
        case .v: "V"
        case .fv: "fV"
        case .v2: "V2"
        case .fv2: "fV2"
        case .v3: "V3"
        case .fv3: "fV3"
        }
    }

    /// The unit of the coefficient.
    public var coefficientUnit: String {
        switch self {
        case .intercept: "W"
        case .event: "J/(event*V^2)"
        case .f: "W/MHz"
        case .v: "W/V"
        case .fv: "W/(MHz*V)"
        case .v2: "W/V^2"
        case .fv2: "W/(MHz*V^2)"
        case .v3: "W/V^3"
        case .fv3: "W/(MHz*V^3)"
        }
    }

    /// Whether the term is static power (everything but the event terms).
    public var isStatic: Bool {
        if case .event = self { return false }
        return true
    }

    /// The regressor's value for one sample: f in MHz, V in volts, `rate` in events/s (event terms only).
    public func value(freqMHz f: Double, voltageV v: Double, rate: Double = 0) -> Double {
        switch self {
        case .intercept: 1
        case .event: rate * v * v
        case .f: f
        case .v: v
        case .fv: f * v
        case .v2: v * v
        case .fv2: f * v * v
        case .v3: v * v * v
        case .fv3: f * v * v * v
        }
    }
}

/// A fitted power model: its coefficients with standard errors and how well it fits.
public struct PowerModel: Sendable {
    /// One identified coefficient.
    public struct Coefficient: Sendable, Equatable {
        /// The term it multiplies.
        public let term: PowerModelTerm
        /// The estimate, in `term.coefficientUnit`.
        public let value: Double
        /// Its standard error √(σ̂²·[(XᵀX)⁻¹]ᵢᵢ), same unit; NaN when no degree of freedom is left.
        public let standardError: Double

        /// The coefficient's name (see `PowerModelTerm.name`).
        public var name: String { term.name }
    }

    /// The identified coefficients: the static terms kept, in the order of `PowerModelTerm.staticTerms`,
    /// then the events in `events` order.
    public let coefficients: [Coefficient]
    /// The event columns in the model, in the order they were selected (or given).
    public let events: [String]
    /// Terms left out because the data cannot identify them (a linear combination of terms before them).
    public let droppedTerms: [PowerModelTerm]
    /// Coefficient of determination on the fitted rows, 1 − RSS/TSS (TSS about the mean power).
    public let r2: Double
    /// Mean absolute percentage error on the fitted rows, percent, with the measured power as the
    /// denominator: mean(|measured − model| / measured) × 100.
    public let mapeFitPercent: Double
    /// The same error for out-of-fold predictions: row i is in fold i % `folds`, each fold is
    /// predicted by the model fitted (same terms) on the other folds, and the percentage errors of
    /// all rows are averaged (pooled, not a mean of per-fold means). Percent, measured denominator.
    public let mapeCVPercent: Double
    /// The number of cross-validation folds.
    public let folds: Int
    /// Number of rows fitted.
    public let rows: Int
    /// The residual standard deviation σ̂ = √(RSS/(n − p)), W.
    public let residualStandardDeviationW: Double
    /// What the fit had to decide on its own (terms dropped, candidates refused), in sentences.
    public let notes: [String]
    /// The stepwise selection, step by step (empty when the events were given).
    public let selection: [PowerModelSelectionStep]

    /// The coefficient named `name`, if identified.
    public subscript(name: String) -> Coefficient? { coefficients.first { $0.name == name } }

    /// The static coefficients that were kept.
    public var staticCoefficients: [Coefficient] { coefficients.filter { $0.term.isStatic } }

    /// Modelled power, W, at `freqMHz` (MHz) and `voltageV` (V) with event rates in events per
    /// second per core; a missing event counts as rate 0.
    public func power(freqMHz: Double, voltageV: Double, rates: [String: Double]) -> Double {
        staticPower(freqMHz: freqMHz, voltageV: voltageV) + dynamicPower(voltageV: voltageV, rates: rates)
    }

    /// The static part (intercept and f/V terms), W.
    public func staticPower(freqMHz: Double, voltageV: Double) -> Double {
        var p = 0.0
        for c in coefficients where c.term.isStatic { p += c.value * c.term.value(freqMHz: freqMHz, voltageV: voltageV) }
        return p
    }

    /// The event part Σ βₙ·rₙ·V², W.
    public func dynamicPower(voltageV: Double, rates: [String: Double]) -> Double {
        var p = 0.0
        for c in coefficients {
            if case .event(let e) = c.term { p += c.value * (rates[e] ?? 0) * voltageV * voltageV }
        }
        return p
    }
}

/// One step of the forward stepwise event selection.
public struct PowerModelSelectionStep: Sendable {
    /// What happened to one candidate in this step.
    public enum Outcome: Sendable, Equatable {
        /// Fitted and cross-validated; `cvMAPEPercent` says how well.
        case evaluated
        /// Refused without fitting: its variance inflation factor against the selected events is over the limit.
        case refusedVIF
        /// Its term is a linear combination of the terms already in the model.
        case notIdentifiable
    }

    /// One candidate's figures in this step.
    public struct Candidate: Sendable {
        /// The event column.
        public let event: String
        /// VIF of its term rᵢ·V² regressed (with an intercept) on the selected events' terms; 1 when
        /// none is selected, +∞ when it is an exact combination.
        public let vif: Double
        /// The cross-validated MAPE with it added, percent; nil when it was not fitted.
        public let cvMAPEPercent: Double?
        /// What happened to it.
        public let outcome: Outcome
    }

    /// 1-based step number.
    public let step: Int
    /// The cross-validated MAPE before this step, percent.
    public let cvMAPEBeforePercent: Double
    /// The candidates tried.
    public let candidates: [Candidate]
    /// The event added, or nil when the selection stopped at this step.
    public let added: String?
}
