import Foundation

/// Fits the Powmon/GemStone power model (see `PowerModelTerm`) to measured samples by ordinary least
/// squares, with k-fold cross-validation and optional forward stepwise event selection.
///
/// Steps:
/// 1. The static terms (intercept, f, V, fV, V², fV², V³, fV³) are identified in that order: a term
///    whose column is a linear combination of the ones before it is dropped with a note. With n
///    distinct frequency/voltage points at most n static terms can be told apart (one point: the
///    intercept alone), but the static power at every measured point is still fitted exactly as well.
/// 2. Events: the given list, or with `.auto` a forward stepwise selection. Each step tries every
///    remaining event column; a candidate whose variance inflation factor (its term rᵢ·V² regressed,
///    with an intercept, on the selected events' terms) is over `vifLimit` is refused unfitted; the
///    others are fitted and cross-validated, and the one with the lowest cross-validated MAPE is added
///    if it lowers it by more than `minimumRelativeImprovement` of the current value (and by more than
///    `minimumImprovementPercent` points). Selection stops there or when `budget` events are in.
/// 3. The final model is fitted on all rows; standard errors are σ̂²(XᵀX)⁻¹ (`LeastSquares`).
///
/// Cross-validation is deterministic: row i (0-based, file order) is in fold i % `folds`. Rows in
/// file order that cycle through the V/f points with the same period as `folds` would leave whole
/// points out of a fold's training set; the fit then says so in its notes.
public struct PowerModelFitter: Sendable {
    /// Which events go into the model.
    public enum Events: Sendable, Equatable {
        /// These event columns, in this order.
        case given([String])
        /// Forward stepwise selection among all event columns.
        case auto
    }

    /// Which events go into the model (default: stepwise).
    public var events: Events
    /// The most events `.auto` selects (the PMU's counter budget; default 6).
    public var budget: Int
    /// Cross-validation folds K (row i is in fold i % K); 2 to the number of rows. Default 10.
    public var folds: Int
    /// Refuse a candidate whose variance inflation factor exceeds this (default 10).
    public var vifLimit: Double
    /// A candidate must lower the cross-validated MAPE by more than this fraction of it (default 0.01).
    public var minimumRelativeImprovement: Double
    /// ... and by more than this many percentage points (default 0.001), so that rounding noise
    /// on an exact fit is not taken for an improvement.
    public var minimumImprovementPercent: Double

    /// A fitter; the defaults are those of `socprof powermodel fit`.
    public init(events: Events = .auto, budget: Int = 6, folds: Int = 10, vifLimit: Double = 10,
                minimumRelativeImprovement: Double = 0.01, minimumImprovementPercent: Double = 0.001) {
        self.events = events
        self.budget = budget
        self.folds = folds
        self.vifLimit = vifLimit
        self.minimumRelativeImprovement = minimumRelativeImprovement
        self.minimumImprovementPercent = minimumImprovementPercent
    }

    /// Fits `data`.
    ///
    /// - Throws: `PowerModelError` when the folds are out of range, an event is unknown or listed
    ///   twice, or there are not more rows than the coefficients asked for (8 static terms plus the
    ///   events given, or plus the budget for `.auto`).
    public func fit(_ data: PowerSamples) throws(PowerModelError) -> PowerModel {
        let n = data.samples.count
        let file = data.file
        guard folds >= 2 && folds <= n else {
            throw PowerModelError(file: file, problem: "\(folds) cross-validation folds for \(n) rows; folds must be 2 to the number of rows")
        }
        guard budget >= 0 else { throw PowerModelError(file: file, problem: "the counter budget \(budget) must be 0 or more") }
        let candidates: [String]
        switch events {
        case .given(let list):
            var seen = Set<String>()
            for e in list {
                guard data.eventNames.contains(e) else {
                    throw PowerModelError(file: file, columnName: e, problem: "no event column '\(e)'; the event columns are \(data.eventNames.joined(separator: ", "))")
                }
                guard seen.insert(e).inserted else { throw PowerModelError(file: file, columnName: e, problem: "event '\(e)' is listed twice") }
            }
            candidates = list
        case .auto:
            candidates = data.eventNames
        }
        let maxEvents = events == .auto ? min(budget, candidates.count) : candidates.count
        let requested = PowerModelTerm.staticTerms.count + maxEvents
        guard n > requested else {
            throw PowerModelError(file: file, problem: "too few rows: \(n) rows for \(requested) coefficients (\(PowerModelTerm.staticTerms.count) static terms + \(maxEvents) event\(maxEvents == 1 ? "" : "s")); the fit needs more rows than coefficients, and many times more to be trusted")
        }

        let y = data.samples.map(\.powerW)
        let problem = Problem(data: data, y: y, folds: folds)
        var notes: [String] = []

        // 1. Static terms.
        let staticColumns = PowerModelTerm.staticTerms.map { t in data.samples.map { t.value(freqMHz: $0.freqMHz, voltageV: $0.voltageV) } }
        let staticSolution = LeastSquares(columns: staticColumns, y: y).solve()
        let keptStatic = staticSolution.kept.map { PowerModelTerm.staticTerms[$0] }
        let droppedStatic = staticSolution.dropped.map { PowerModelTerm.staticTerms[$0] }
        let base = staticSolution.kept.map { staticColumns[$0] }
        if !droppedStatic.isEmpty {
            let points = Set(data.samples.map { "\($0.freqMHz)/\($0.voltageV)" }).count
            notes.append("\(points) distinct frequency/voltage point\(points == 1 ? "" : "s") identify only \(keptStatic.count) static term\(keptStatic.count == 1 ? "" : "s") (\(keptStatic.map(\.name).joined(separator: ", "))); dropped \(droppedStatic.map(\.name).joined(separator: ", ")): each is a linear combination of the kept ones on these points, so the static power at the measured points is fitted as well without them, but it cannot be extrapolated to other V/f points")
        }

        // 2. Events.
        var selected: [String] = []
        var steps: [PowerModelSelectionStep] = []
        var droppedEvents: [String] = []
        switch events {
        case .given(let list):
            let solution = LeastSquares(columns: base + list.map { problem.eventColumn($0) }, y: y).solve()
            for j in solution.dropped where j >= base.count {
                droppedEvents.append(list[j - base.count])
            }
            selected = list.filter { !droppedEvents.contains($0) }
            for e in droppedEvents {
                notes.append("event \(e) dropped: its term \(e)*V^2 is a linear combination of the terms before it, so the data cannot identify its coefficient")
            }
        case .auto:
            (selected, steps) = select(problem: problem, base: base, candidates: candidates, notes: &notes)
        }

        // 3. The final model.
        let columns = base + selected.map { problem.eventColumn($0) }
        let terms = keptStatic + selected.map { PowerModelTerm.event($0) }
        let solution = LeastSquares(columns: columns, y: y).solve()
        precondition(solution.dropped.isEmpty, "the selected terms were identified before")
        let cv = problem.crossValidate(columns: columns)
        if !cv.foldDrops.isEmpty {
            for (fold, dropped) in cv.foldDrops.sorted(by: { $0.key < $1.key }) {
                notes.append("cross-validation fold \(fold): its training rows (those with row % \(folds) != \(fold)) cannot identify \(dropped.map { terms[$0].name }.joined(separator: ", ")); that fold's model leaves \(dropped.count == 1 ? "it" : "them") out (reorder the rows or change --folds so that every fold trains on every V/f point)")
            }
        }
        let predictions = problem.predict(columns: columns, solution: solution, rows: Array(0..<n))
        let mean = y.reduce(0, +) / Double(n)
        var tss = 0.0, ape = 0.0
        for i in 0..<n {
            tss += (y[i] - mean) * (y[i] - mean)
            ape += abs(y[i] - predictions[i]) / y[i]
        }
        let errors = solution.standardErrors
        let coefficients = terms.indices.map { PowerModel.Coefficient(term: terms[$0], value: solution.coefficients[$0], standardError: errors[$0]) }
        return PowerModel(
            coefficients: coefficients, events: selected,
            droppedTerms: droppedStatic + droppedEvents.map { .event($0) },
            r2: tss > 0 ? 1 - solution.rss / tss : .nan,
            mapeFitPercent: ape / Double(n) * 100, mapeCVPercent: cv.mapePercent,
            folds: folds, rows: n, residualStandardDeviationW: solution.residualVariance.squareRoot(),
            notes: notes, selection: steps)
    }

    /// Forward stepwise selection (see the type's documentation).
    func select(problem: Problem, base: [[Double]], candidates: [String], notes: inout [String]) -> ([String], [PowerModelSelectionStep]) {
        var selected: [String] = []
        var pool = candidates
        var steps: [PowerModelSelectionStep] = []
        var current = problem.crossValidate(columns: base).mapePercent
        var why: [String: String] = [:]
        func pct(_ x: Double) -> String { powerModelFixed(x, 4) + " %" }
        while selected.count < budget && !pool.isEmpty {
            var tried: [PowerModelSelectionStep.Candidate] = []
            let selectedColumns = selected.map { problem.eventColumn($0) }
            for c in pool {
                let column = problem.eventColumn(c)
                let vif = Self.vif(of: column, on: selectedColumns)
                if vif > vifLimit {
                    tried.append(.init(event: c, vif: vif, cvMAPEPercent: nil, outcome: .refusedVIF))
                    why[c] = "refused: VIF \(vif.isFinite ? powerModelFixed(vif, 1) : "inf") > \(powerModelFixed(vifLimit, 1)) against \(selected.joined(separator: ", ")) (its term is nearly a linear combination of theirs) at step \(steps.count + 1)"
                    continue
                }
                let columns = base + selectedColumns + [column]
                let solution = LeastSquares(columns: columns, y: problem.y).solve()
                if solution.dropped.contains(columns.count - 1) {
                    tried.append(.init(event: c, vif: vif, cvMAPEPercent: nil, outcome: .notIdentifiable))
                    why[c] = "not identifiable: its term is a linear combination of the terms already in the model (step \(steps.count + 1))"
                    continue
                }
                let cv = problem.crossValidate(columns: columns).mapePercent
                tried.append(.init(event: c, vif: vif, cvMAPEPercent: cv, outcome: .evaluated))
            }
            // Refused and unidentifiable candidates stay so as events are added (R² only grows).
            pool.removeAll { c in tried.contains { $0.event == c && $0.outcome != .evaluated } }
            let best = tried.filter { $0.outcome == .evaluated }.min { $0.cvMAPEPercent! < $1.cvMAPEPercent! }
            let needed = max(current * minimumRelativeImprovement, minimumImprovementPercent)
            if let best, let cv = best.cvMAPEPercent, cv < current - needed {
                steps.append(.init(step: steps.count + 1, cvMAPEBeforePercent: current, candidates: tried, added: best.event))
                selected.append(best.event)
                pool.removeAll { $0 == best.event }
                current = cv
            } else {
                steps.append(.init(step: steps.count + 1, cvMAPEBeforePercent: current, candidates: tried, added: nil))
                for t in tried where t.outcome == .evaluated {
                    why[t.event] = "no gain: adding it gives a cross-validated MAPE of \(pct(t.cvMAPEPercent!)) against \(pct(current)) without it (it must fall by more than \(pct(needed)))"
                }
                pool.removeAll()
                break
            }
        }
        for c in pool where why[c] == nil {
            why[c] = "the counter budget of \(budget) event\(budget == 1 ? "" : "s") was reached"
        }
        notes.append("stepwise selection: \(selected.isEmpty ? "no event" : selected.joined(separator: ", ")) (in order of selection; cross-validated MAPE \(pct(current)))")
        for c in candidates where !selected.contains(c) {
            if let reason = why[c] { notes.append("\(c) not selected: \(reason)") }
        }
        return (selected, steps)
    }

    /// The variance inflation factor of `column` against `others`: 1 / (1 − R²) of the regression of
    /// `column` on an intercept and `others`. 1 when `others` is empty; +∞ for an exact combination
    /// (or a constant column, which the intercept alone explains).
    public static func vif(of column: [Double], on others: [[Double]]) -> Double {
        guard !others.isEmpty else { return 1 }
        let n = column.count
        let mean = column.reduce(0, +) / Double(n)
        var tss = 0.0
        for v in column { tss += (v - mean) * (v - mean) }
        guard tss > 0 else { return .infinity }
        let solution = LeastSquares(columns: [[Double](repeating: 1, count: n)] + others, y: column).solve()
        let r2 = 1 - solution.rss / tss
        return r2 >= 1 ? .infinity : 1 / (1 - r2)
    }

    /// The data as columns, with the folds.
    struct Problem {
        let data: PowerSamples
        let y: [Double]
        let folds: Int
        /// Row indices of each fold's test set (row i in fold i % folds).
        let testRows: [[Int]]
        /// Row indices of each fold's training set.
        let trainRows: [[Int]]

        init(data: PowerSamples, y: [Double], folds: Int) {
            self.data = data
            self.y = y
            self.folds = folds
            let n = y.count
            testRows = (0..<folds).map { k in (0..<n).filter { $0 % folds == k } }
            trainRows = (0..<folds).map { k in (0..<n).filter { $0 % folds != k } }
        }

        /// rₑ·V² over all rows.
        func eventColumn(_ name: String) -> [Double] {
            let i = data.eventNames.firstIndex(of: name)!
            return data.samples.map { PowerModelTerm.event(name).value(freqMHz: $0.freqMHz, voltageV: $0.voltageV, rate: $0.rates[i]) }
        }

        /// Model power at `rows`, W.
        func predict(columns: [[Double]], solution: LeastSquares.Solution, rows: [Int]) -> [Double] {
            rows.map { i in
                var p = 0.0
                for (c, j) in solution.kept.enumerated() { p += solution.coefficients[c] * columns[j][i] }
                return p
            }
        }

        /// Pooled out-of-fold MAPE (percent, measured denominator), and for each fold whose training
        /// rows could not identify some columns, their indices.
        func crossValidate(columns: [[Double]]) -> (mapePercent: Double, foldDrops: [Int: [Int]]) {
            var ape = 0.0
            var drops: [Int: [Int]] = [:]
            for k in 0..<folds {
                let train = trainRows[k]
                let solution = LeastSquares(columns: columns.map { c in train.map { c[$0] } }, y: train.map { y[$0] }).solve()
                if !solution.dropped.isEmpty { drops[k] = solution.dropped }
                let test = testRows[k]
                let predicted = predict(columns: columns, solution: solution, rows: test)
                for (t, i) in test.enumerated() { ape += abs(y[i] - predicted[t]) / y[i] }
            }
            return (ape / Double(y.count) * 100, drops)
        }
    }
}

/// Fixed-point text with `decimals` digits after the point, for messages.
private func powerModelFixed(_ x: Double, _ decimals: Int) -> String {
    x.isFinite ? String(format: "%.\(decimals)f", x) : "\(x)"
}
