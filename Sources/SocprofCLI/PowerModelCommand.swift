import ArgumentParser
import Calibration
import Foundation
import Platform

/// `socprof powermodel ...`: PMC power models (Powmon/GemStone form) from measured samples.
struct PowerModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "powermodel",
        abstract: "PMC power models from measured power and event rates, exportable to gem5 (docs/powermodel.md).",
        subcommands: [PowerModelCollectCommand.self, PowerModelFitCommand.self]
    )
}

/// `socprof powermodel fit SAMPLES.csv`: least-squares fit, cross-validation, stepwise events, gem5 export.
struct PowerModelFitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit P = b0 + sum(b_n*r_n*V^2) + static f/V terms to samples, with standard errors, R^2 and cross-validated MAPE.",
        discussion: """
            SAMPLES.csv has a header naming freq_mhz (MHz), voltage_v (V), power_w (W) and one column per event \
            rate (events per second per core), e.g. freq_mhz,voltage_v,power_w,r11,r08. MAPE divides by the measured \
            power. Cross-validation puts row i in fold i % K. --events auto adds, step by step, the event that most \
            lowers the cross-validated MAPE, refusing events whose VIF against the selected ones exceeds 10. \
            --gem5 writes a MathExprPowerModel in plain decimals; every selected event needs --gem5-stat COLUMN=STAT.
            """
    )

    /// gem5's naming eras, as far as the export is concerned (the simulated-seconds stat).
    enum Era: String, ExpressibleByArgument, CaseIterable {
        case v20, v21, v23
        var gem5: Gem5Era {
            switch self {
            case .v20: .v20
            case .v21: .v21
            case .v23: .v23
            }
        }
    }

    @Argument(help: ArgumentHelp("The samples.", valueName: "samples.csv")) var samples: String
    @Option(help: ArgumentHelp("Event columns to use (comma-separated), or auto for stepwise selection.", valueName: "list|auto"))
    var events: String = "auto"
    @Option(help: ArgumentHelp("Most events auto selects (the PMU's counter budget).", valueName: "n")) var budget: Int = 6
    @Option(help: ArgumentHelp("Cross-validation folds (row i in fold i % K).", valueName: "k")) var folds: Int = 10
    @Flag(help: "Print JSON.") var json = false
    @Option(name: .customLong("gem5"), help: ArgumentHelp("Write a gem5 MathExprPowerModel (Python) here (atomically).", valueName: "out.py"))
    var gem5: String?
    @Option(name: .customLong("gem5-stat"), help: ArgumentHelp("The gem5 stat counting an event column on one core, e.g. r11=system.cpu.numCycles (repeat per event).", valueName: "column=stat"))
    var gem5Stats: [String] = []
    @Option(name: .customLong("gem5-era"), help: "gem5 naming era of the simulator (v20: sim_seconds; v21 and v23: simSeconds).")
    var gem5Era: Era = .v23

    /// The event list, or nil for auto.
    var eventList: [String]? {
        events == "auto" ? nil : events.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// `--gem5-stat` as column → stat.
    func statMap() throws -> [String: String] {
        var map: [String: String] = [:]
        for entry in gem5Stats {
            guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex, entry.index(after: eq) != entry.endIndex else {
                throw ValidationError("--gem5-stat '\(entry)' must be COLUMN=STAT, e.g. r11=system.cpu.numCycles.")
            }
            let column = entry[..<eq].trimmingCharacters(in: .whitespaces)
            let stat = entry[entry.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if let old = map[column], old != stat {
                throw ValidationError("--gem5-stat gives column '\(column)' twice ('\(old)' and '\(stat)').")
            }
            map[column] = stat
        }
        return map
    }

    func validate() throws {
        guard budget >= 0 else { throw ValidationError("--budget \(budget) must be 0 or more.") }
        guard folds >= 2 else { throw ValidationError("--folds \(folds) must be 2 or more.") }
        if let list = eventList, list.isEmpty || list.contains(where: \.isEmpty) {
            throw ValidationError("--events '\(events)' must be a comma-separated list of event columns, or auto.")
        }
        _ = try statMap()
        if gem5 == nil && !gem5Stats.isEmpty { throw ValidationError("--gem5-stat is only used with --gem5 OUT.py.") }
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: samples) else { throw fail("\(samples): cannot read the file") }
        let table: PowerSamples
        let model: PowerModel
        do {
            table = try PowerSamples(csv: String(decoding: data, as: UTF8.self), file: samples, events: eventList)
            let fitter = PowerModelFitter(events: eventList.map { .given($0) } ?? .auto, budget: budget, folds: folds)
            model = try fitter.fit(table)
        } catch {
            throw fail(error.description)
        }
        if let gem5 {
            let stats = try statMap()
            let unknown = stats.keys.filter { !table.eventNames.contains($0) }.sorted()
            if !unknown.isEmpty {
                throw fail("--gem5-stat names \(unknown.joined(separator: ", ")), not among the event columns read from \(samples) (\(table.eventNames.joined(separator: ", ")))")
            }
            let export: Gem5PowerExport
            do { export = try Gem5PowerExport(model: model, stats: stats, era: gem5Era.gem5, source: samples) } catch {
                throw fail(error.description)
            }
            do { try Terminal.writeAtomically(export.python, to: gem5) } catch {
                throw fail("cannot write --gem5 '\(gem5)': \(error.localizedDescription)", code: 1)
            }
            Terminal.stderr("socprof powermodel fit: gem5 MathExprPowerModel written to \(gem5)")
        }
        print(json ? try Self.json(model, file: samples) : Self.table(model, file: samples, auto: eventList == nil), terminator: "")
    }

    // MARK: renderings

    struct CoefficientJSON: Encodable {
        let value: Double
        /// nil when no degree of freedom is left.
        let stderr: Double?
        let unit: String
    }

    struct StepJSON: Encodable {
        struct Candidate: Encodable {
            let event: String
            let vif: Double?
            let mape_cv_percent: Double?
            let outcome: String
        }
        let step: Int
        let mape_cv_before_percent: Double
        let added: String?
        let candidates: [Candidate]
    }

    struct Doc: Encodable {
        var schema = "socprof.powermodel"
        var schema_version = 1
        let samples: String
        let rows: Int
        let coefficients: [String: CoefficientJSON]
        let dropped_terms: [String]
        let r2: Double?
        let mape_fit_percent: Double
        let mape_cv_percent: Double
        let mape_denominator = "measured"
        let folds: Int
        let residual_sd_w: Double?
        let events: [String]
        let selection: [StepJSON]
        let notes: [String]
    }

    static func json(_ m: PowerModel, file: String) throws -> String {
        func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
        let doc = Doc(
            samples: file, rows: m.rows,
            coefficients: Dictionary(m.coefficients.map { ($0.name, CoefficientJSON(value: $0.value, stderr: finite($0.standardError), unit: $0.term.coefficientUnit)) },
                                     uniquingKeysWith: { a, _ in a }),
            dropped_terms: m.droppedTerms.map(\.name), r2: finite(m.r2),
            mape_fit_percent: m.mapeFitPercent, mape_cv_percent: m.mapeCVPercent, folds: m.folds,
            residual_sd_w: finite(m.residualStandardDeviationW), events: m.events,
            selection: m.selection.map { s in
                StepJSON(step: s.step, mape_cv_before_percent: s.cvMAPEBeforePercent, added: s.added, candidates: s.candidates.map { c in
                    let outcome: String = switch c.outcome {
                    case .evaluated: "evaluated"
                    case .refusedVIF: "refused_vif"
                    case .notIdentifiable: "not_identifiable"
                    }
                    return StepJSON.Candidate(event: c.event, vif: finite(c.vif), mape_cv_percent: c.cvMAPEPercent, outcome: outcome)
                })
            },
            notes: m.notes)
        let enc = ReportJSON.encoder()
        return String(decoding: try enc.encode(doc), as: UTF8.self) + "\n"
    }

    static func table(_ m: PowerModel, file: String, auto: Bool) -> String {
        func g(_ x: Double) -> String { x.isFinite ? String(format: "%.6g", x) : "n/a" }
        var out = "socprof powermodel fit: \(file), \(m.rows) rows, events \(m.events.isEmpty ? "none" : m.events.joined(separator: ", "))\(auto ? " (stepwise)" : "")\n\n"
        out += "term".rightPad(16) + "coefficient".leftPad(16) + "std. error".leftPad(14) + "  unit\n"
        for c in m.coefficients {
            out += String(c.name.prefix(15)).rightPad(16) + g(c.value).leftPad(16) + g(c.standardError).leftPad(14) + "  " + c.term.coefficientUnit + "\n"
        }
        out += "\nR^2 \(String(format: "%.6f", m.r2)); MAPE \(String(format: "%.3f", m.mapeFitPercent)) % on the fit, "
        out += "\(String(format: "%.3f", m.mapeCVPercent)) % cross-validated over \(m.folds) folds (denominator: measured power); "
        out += "residual sd \(g(m.residualStandardDeviationW)) W\n"
        if !m.selection.isEmpty {
            out += "\nstepwise selection:\n"
            for s in m.selection {
                if let added = s.added, let c = s.candidates.first(where: { $0.event == added }), let cv = c.cvMAPEPercent {
                    out += "  step \(s.step): + \(added) (cross-validated MAPE \(String(format: "%.4f", s.cvMAPEBeforePercent)) % -> \(String(format: "%.4f", cv)) %)\n"
                } else {
                    out += "  step \(s.step): stop (no candidate lowers the cross-validated MAPE enough)\n"
                }
            }
        }
        if !m.notes.isEmpty {
            out += "\nnotes:\n"
            for n in m.notes { out += "  - \(n)\n" }
        }
        return out
    }
}
