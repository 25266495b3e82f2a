import Foundation

/// Plain-decimal text for numbers that gem5's expression parser will read.
///
/// gem5's `MathExpr` (G5 `src/sim/mathexpr.cc`) splits an expression at its rightmost lowest-priority
/// operator before it looks at numbers, so the sign of an exponent is taken for an operator:
/// `x*6.06992538845e-10` is read as x·6.06992538845 − 10 and `1e+3` as 1 + 3 (facts §3.1, verified by
/// compiling gem5's parser). Every number written into a gem5 expression therefore has digits and at
/// most one `.`, and no exponent.
public enum PlainDecimal {
    /// `x` in plain decimal: `6.06992538845e-10` → `0.000000000606992538845`, `1e+3` → `1000`,
    /// `-2.5e-7` → `-0.00000025`, `123456789.0` → `123456789`.
    ///
    /// - Parameters:
    ///   - x: a finite number.
    ///   - significantDigits: nil (the default) writes the shortest digits that read back as exactly
    ///     `x` (at most 17); a number rounds to that many significant digits (1 to 17).
    public static func format(_ x: Double, significantDigits: Int? = nil) -> String {
        precondition(x.isFinite, "only finite numbers have a plain-decimal form")
        if x == 0 { return "0" }
        let text: String
        if let digits = significantDigits {
            precondition((1...17).contains(digits), "1 to 17 significant digits")
            text = String(format: "%.\(digits - 1)e", x)
        } else {
            text = "\(x)" // Swift's shortest round-trip form, e.g. 6.06992538845e-10 or 1000.0
        }
        var s = Substring(text)
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() }
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(s[s.index(after: e)...].replacingOccurrences(of: "+", with: ""))!
            s = s[..<e]
        }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0], fraction = parts.count > 1 ? parts[1] : ""
        var digits = Array(whole + fraction)
        var point = whole.count + exponent // digits before the decimal point
        while digits.first == "0" { digits.removeFirst(); point -= 1 }
        while digits.last == "0" { digits.removeLast() }
        if digits.isEmpty { return "0" }
        let body: String
        if point <= 0 {
            body = "0." + String(repeating: "0", count: -point) + String(digits)
        } else if point >= digits.count {
            body = String(digits) + String(repeating: "0", count: point - digits.count)
        } else {
            body = String(digits[..<point]) + "." + String(digits[point...])
        }
        return (negative ? "-" : "") + body
    }
}

/// A problem with a gem5 export: a missing stat mapping or a name gem5's grammar cannot read.
public struct Gem5PowerExportError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The event columns concerned.
    public let columns: [String]
    /// What is wrong, in words.
    public let problem: String

    /// An error about `columns`.
    public init(columns: [String], problem: String) {
        self.columns = columns
        self.problem = problem
    }

    /// The problem.
    public var description: String { problem }
}

/// A fitted `PowerModel` as a gem5 `MathExprPowerModel` for the ON power state (facts §3.1, §3.2).
///
/// - `dyn` holds the event terms, each `β * (STAT / simSeconds) * voltage * voltage`: a gem5 stat is a
///   count since the last reset, so dividing by the simulated seconds of the interval makes it the
///   rate in events per second the model was fitted on (PR3457). `sim_seconds` in era v20,
///   `simSeconds` from v21.
/// - `st` holds the intercept and the f/V terms, with V = `voltage` (the owner's voltage domain, V)
///   and f in MHz = `(1000000 / clock_period)`: `clock_period` is in ticks, and a tick is 1 ps at
///   gem5's default simulation frequency of 10¹² ticks per second.
/// - Every number is plain decimal (`PlainDecimal`); no name may contain `::` (gem5's variables are
///   `[A-Za-z0-9._$\\]+`), and only Scalar and Formula stats can be read: a Vector stat such as O3's
///   `committedInsts` in v21–v22 ends in gem5's "Unknown stat type!" panic, so map instructions to
///   `<cpu>.ipc * <cpu>.numCycles` there.
public struct Gem5PowerExport: Sendable {
    /// The dynamic-power expression (W).
    public let dyn: String
    /// The static-power expression (W).
    public let st: String
    /// The whole Python file: imports, the expressions, the ON and zero states, `power_model()`.
    public let python: String
    /// The CPU path common to the event stats (e.g. `system.cpu`), which `power_model(cpu_path)`
    /// in the Python file replaces; nil when the stats share no path of two or more components.
    public let cpuPath: String?

    /// The name of gem5's simulated-seconds stat in `era`.
    public static func simSecondsName(_ era: Gem5Era) -> String {
        era == .v20 ? "sim_seconds" : "simSeconds"
    }

    /// The characters gem5 allows in a variable (G5 `src/sim/mathexpr.cc`).
    static func isVariableCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "$" || c == "\\")
    }

    /// Checks that `stat` (a stat name, or an expression of stat names such as `a.ipc * a.numCycles`)
    /// is something gem5's expression grammar reads as meant; returns the problem, or nil.
    public static func problem(withStat stat: String) -> String? {
        let s = stat.trimmingCharacters(in: .whitespaces)
        if s.isEmpty { return "the stat name is empty" }
        if s.contains("::") {
            return "'\(stat)' contains '::', which gem5's expression grammar does not allow (variables are [A-Za-z0-9._$\\]+); a Formula stat is read by its plain name, e.g. system.cpu.dcache.overallMisses for its ::total, and a Vector stat cannot be read at all"
        }
        if let bad = s.first(where: { !isVariableCharacter($0) && !"+-*/^() ".contains($0) }) {
            return "'\(stat)' contains '\(bad)', which gem5's expression grammar does not allow (variables are [A-Za-z0-9._$\\]+, operators + - * / ^ and parentheses)"
        }
        // A number with a signed exponent (2e-3) is mis-read by gem5.
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            guard isVariableCharacter(chars[i]) else { i += 1; continue }
            var j = i
            while j < chars.count && isVariableCharacter(chars[j]) { j += 1 }
            let token = chars[i..<j]
            if let first = token.first, first.isNumber || first == ".",
               let last = token.last, last == "e" || last == "E", j < chars.count, chars[j] == "+" || chars[j] == "-" {
                return "'\(stat)' has a number in scientific notation, which gem5 reads as a sum or difference; write it in plain decimal"
            }
            i = j
        }
        var depth = 0
        for c in s {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1; if depth < 0 { break } }
        }
        if depth != 0 { return "'\(stat)' has unbalanced parentheses" }
        return nil
    }

    /// Builds the export.
    ///
    /// - Parameters:
    ///   - model: the fitted model.
    ///   - stats: for each event column of the model, the gem5 stat (or expression of stats) counting
    ///     the same event on one core, e.g. `r11` → `system.cpu.numCycles`.
    ///   - era: the gem5 naming era of the target simulator (`sim_seconds` or `simSeconds`).
    ///   - source: the samples file, for the header.
    /// - Throws: `Gem5PowerExportError` naming every model event without a stat, or a stat gem5
    ///   cannot read.
    public init(model: PowerModel, stats: [String: String], era: Gem5Era, source: String = "samples") throws(Gem5PowerExportError) {
        let missing = model.events.filter { stats[$0] == nil }
        if !missing.isEmpty {
            throw Gem5PowerExportError(columns: missing, problem: "no gem5 stat for the model's event\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")); give one for each (--gem5-stat COLUMN=STAT, e.g. r11=system.cpu.numCycles)")
        }
        for e in model.events {
            if let p = Self.problem(withStat: stats[e]!) {
                throw Gem5PowerExportError(columns: [e], problem: "--gem5-stat \(e): \(p)")
            }
        }
        for c in model.coefficients where !c.value.isFinite {
            throw Gem5PowerExportError(columns: [c.name], problem: "coefficient \(c.name) is \(c.value); there is nothing to export")
        }
        let seconds = Self.simSecondsName(era)
        let f = "(1000000 / clock_period)"
        func factor(_ term: PowerModelTerm) -> String? {
            switch term {
            case .intercept: return nil
            case .event(let e):
                let stat = stats[e]!.trimmingCharacters(in: .whitespaces)
                let bare = stat.allSatisfy(Self.isVariableCharacter)
                return (bare ? "(\(stat) / \(seconds))" : "((\(stat)) / \(seconds))") + " * voltage * voltage"
            case .f: return f
            case .v: return "voltage"
            case .fv: return "\(f) * voltage"
            case .v2: return "voltage * voltage"
            case .fv2: return "\(f) * voltage * voltage"
            case .v3: return "voltage * voltage * voltage"
            case .fv3: return "\(f) * voltage * voltage * voltage"
            }
        }
        func sum(_ coefficients: [PowerModel.Coefficient]) -> String {
            var text = ""
            for c in coefficients {
                let magnitude = PlainDecimal.format(abs(c.value))
                let product = factor(c.term).map { "\(magnitude) * \($0)" } ?? magnitude
                if text.isEmpty {
                    text = (c.value < 0 ? "-" : "") + product
                } else {
                    text += (c.value < 0 ? " - " : " + ") + product
                }
            }
            return text.isEmpty ? "0" : text
        }
        dyn = sum(model.coefficients.filter { !$0.term.isStatic })
        st = sum(model.coefficients.filter { $0.term.isStatic })

        // The CPU path: the leading components shared by every stat name, if at least two.
        var common: [Substring]? = nil
        for e in model.events {
            var names: [String] = []
            var current = ""
            for c in stats[e]! {
                if Self.isVariableCharacter(c) { current.append(c) } else { if !current.isEmpty { names.append(current) }; current = "" }
            }
            if !current.isEmpty { names.append(current) }
            for name in names where name.contains(".") && !(name.first?.isNumber ?? true) {
                let path = name.split(separator: ".").dropLast()
                if let c = common {
                    common = Array(zip(c, path).prefix { $0.0 == $0.1 }.map(\.0))
                } else {
                    common = Array(path)
                }
            }
        }
        cpuPath = (common?.count ?? 0) >= 2 ? common!.joined(separator: ".") : nil

        python = Self.python(model: model, stats: stats, era: era, source: source, dyn: dyn, st: st, cpuPath: cpuPath)
    }

    /// A Python string literal (double quotes; backslashes and quotes escaped).
    static func literal(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func python(model: PowerModel, stats: [String: String], era: Gem5Era, source: String, dyn: String, st: String, cpuPath: String?) -> String {
        func fixed(_ x: Double, _ decimals: Int) -> String { x.isFinite ? PlainDecimal.format((x * pow(10, Double(decimals))).rounded() / pow(10, Double(decimals))) : "nan" }
        var lines: [String] = []
        lines.append("# socprof powermodel fit: a PMC power model for gem5's MathExprPowerModel (ON state).")
        lines.append("# Samples: \(source), \(model.rows) rows.")
        lines.append("# Model: P = intercept + sum(b_n * r_n * V^2) + static terms in f and V, in watts;")
        lines.append("# r_n in events per second per core, f in MHz, V in volts.")
        lines.append("# R^2 \(fixed(model.r2, 6)); MAPE \(fixed(model.mapeFitPercent, 3)) % on the fit, \(fixed(model.mapeCVPercent, 3)) % over \(model.folds) cross-validation folds")
        lines.append("# (MAPE denominator: the measured power). Residual standard deviation \(fixed(model.residualStandardDeviationW, 6)) W.")
        lines.append("# Coefficients (value, standard error):")
        for c in model.coefficients {
            var label = c.name
            if case .event(let e) = c.term { label += " [\(stats[e] ?? "?")]" }
            lines.append("#   \(label): \(PlainDecimal.format(c.value)) +/- \(c.standardError.isFinite ? PlainDecimal.format(c.standardError, significantDigits: 3) : "nan") \(c.term.coefficientUnit)")
        }
        if !model.notes.isEmpty {
            lines.append("# Notes:")
            for n in model.notes { lines.append("#   " + n) }
        }
        lines.append("# gem5 era \(era.rawValue): event counts are divided by \(simSecondsName(era)) to make rates; f is")
        lines.append("# (1000000 / clock_period) with clock_period in ticks of 1 ps. All numbers are plain decimals")
        lines.append("# because gem5's expression parser reads a signed exponent as an operator.")
        lines.append("")
        lines.append("import re")
        lines.append("")
        lines.append("from m5.objects import MathExprPowerModel, PowerModel")
        lines.append("")
        lines.append("# Dynamic power (W): the event terms.")
        lines.append("DYN = \(literal(dyn))")
        lines.append("# Static power (W): the intercept and the f/V terms.")
        lines.append("ST = \(literal(st))")
        lines.append("# The CPU path in the stat names above; power_model(cpu_path) puts another in its place.")
        lines.append("CPU_PATH = \(cpuPath.map(literal) ?? "None")")
        lines.append("")
        lines.append("")
        lines.append("def _for_cpu(expr, cpu_path):")
        lines.append("    if cpu_path is None or cpu_path == CPU_PATH:")
        lines.append("        return expr")
        lines.append("    if CPU_PATH is None:")
        lines.append("        raise ValueError(\"the stat names share no CPU path to replace\")")
        lines.append("    return re.sub(r\"(?<![A-Za-z0-9._$\\\\])\" + re.escape(CPU_PATH) + r\"\\.\", cpu_path + \".\", expr)")
        lines.append("")
        lines.append("")
        lines.append("class SocprofPowerOn(MathExprPowerModel):")
        lines.append("    \"\"\"The ON state: dyn holds the event terms, st the static terms (W).\"\"\"")
        lines.append("")
        lines.append("    def __init__(self, cpu_path=None, **kwargs):")
        lines.append("        super(SocprofPowerOn, self).__init__(**kwargs)")
        lines.append("        self.dyn = _for_cpu(DYN, cpu_path)")
        lines.append("        self.st = _for_cpu(ST, cpu_path)")
        lines.append("")
        lines.append("")
        lines.append("class SocprofPowerZero(MathExprPowerModel):")
        lines.append("    \"\"\"CLK_GATED, SRAM_RETENTION and OFF: no power.\"\"\"")
        lines.append("")
        lines.append("    dyn = \"0\"")
        lines.append("    st = \"0\"")
        lines.append("")
        lines.append("")
        lines.append("def power_model(cpu_path=None):")
        lines.append("    \"\"\"A PowerModel for the CPU at cpu_path (None: the stat names as exported).")
        lines.append("")
        lines.append("    pm is [ON, CLK_GATED, SRAM_RETENTION, OFF]: PwrState without UNDEFINED.")
        lines.append("    \"\"\"")
        lines.append("    return PowerModel(pm=[SocprofPowerOn(cpu_path), SocprofPowerZero(),")
        lines.append("                          SocprofPowerZero(), SocprofPowerZero()])")
        lines.append("")
        lines.append("")
        lines.append("def attach(cpu, cpu_path=None):")
        lines.append("    \"\"\"Gives cpu the model and starts it in the ON state (gem5 v20 and later).\"\"\"")
        lines.append("    cpu.power_state.default_state = \"ON\"")
        lines.append("    cpu.power_model = power_model(cpu_path)")
        return lines.joined(separator: "\n") + "\n"
    }
}
