/// The stopping rule of a multi-object fit done in passes (ngmixer's MOF loop): every object is
/// refitted with its neighbours at their latest values, pass after pass, until no object's
/// parameters move any more.
///
/// The rule, as ngmixer's `mofngmixing.py` applies it (`maxabs_conv`, `maxfrac_conv`,
/// `maxerr_conv`): after a pass, an object is **converged** when *every* parameter i satisfies at
/// least one of
/// - |xᵢ − x′ᵢ| ≤ `maxAbs[i]` (absolute change, in the parameter's own unit),
/// - |xᵢ/x′ᵢ − 1| ≤ `maxFrac[i]` (fractional change; never met when x′ᵢ = 0 and xᵢ ≠ 0),
/// - |xᵢ − x′ᵢ| / σᵢ ≤ `maxErr` (change in units of the *new* standard error σᵢ; never met when
///   σᵢ is missing, zero or not finite),
///
/// where x′ is the object's value after its previous pass and x after this one. An object's first
/// pass has nothing to compare with and is never converged. The loop stops for an object once it
/// has had at least `minPasses` passes and it and all its neighbours are converged, and in any
/// case after `maxPasses` (ngmixer iterates a whole friends-of-friends group until every member
/// has converged; the neighbour condition is the same idea without fixed groups: an object whose
/// neighbour still moves is refitted, since its own best values move with it).
///
/// Generic over what an object is: it sees only a vector of parameters and a vector of errors
/// per object, so the scene fitter (one vector per catalog source) and a MEDS multi-object fitter
/// share the same rule and bookkeeping (`PassTracker`).
public struct PassConvergence: Codable, Sendable, Equatable {
    /// Fewest passes every object receives (≥ 1).
    public var minPasses: Int
    /// Most passes any object receives (≥ `minPasses`).
    public var maxPasses: Int
    /// Absolute tolerance per parameter; a single value applies to every parameter, a shorter
    /// list repeats its last value (ngmixer's convention for a per-band tail).
    public var maxAbs: [Double]
    /// Fractional tolerance per parameter (same broadcasting as `maxAbs`).
    public var maxFrac: [Double]
    /// Tolerance on the change in units of the parameter's standard error.
    public var maxErr: Double

    public init(minPasses: Int, maxPasses: Int, maxAbs: [Double], maxFrac: [Double], maxErr: Double) throws {
        guard minPasses >= 1, maxPasses >= minPasses else {
            throw InferenceError.invalidArgument("passes: need 1 <= min (\(minPasses)) <= max (\(maxPasses))")
        }
        guard !maxAbs.isEmpty, !maxFrac.isEmpty, (maxAbs + maxFrac + [maxErr]).allSatisfy({ $0 >= 0 && !$0.isNaN }) else {
            throw InferenceError.invalidArgument("passes: tolerances must be non-empty and >= 0")
        }
        self.minPasses = minPasses
        self.maxPasses = maxPasses
        self.maxAbs = maxAbs
        self.maxFrac = maxFrac
        self.maxErr = maxErr
    }

    /// The changes of one object between two passes, per parameter.
    public struct Change: Sendable, Equatable {
        /// |x − x′| per parameter.
        public var absolute: [Double]
        /// |x/x′ − 1| per parameter (0 when both are 0, +∞ when only x′ is).
        public var fractional: [Double]
        /// |x − x′|/σ per parameter (+∞ where σ is missing, ≤ 0 or not finite, unless x = x′).
        public var inErrors: [Double]
        /// Whether every parameter met at least one tolerance.
        public var converged: Bool
        /// The largest change in units of σ over the parameters (what progress lines report).
        public var largestInErrors: Double { inErrors.max() ?? 0 }
    }

    static func tolerance(_ list: [Double], _ i: Int) -> Double { list[Swift.min(i, list.count - 1)] }

    /// Compares an object's values after two passes; `errors` are the new standard errors.
    public func change(previous: [Double], current: [Double], errors: [Double]) throws -> Change {
        guard previous.count == current.count, errors.count == current.count else {
            throw InferenceError.dimensionMismatch(expected: current.count, got: previous.count == current.count ? errors.count : previous.count)
        }
        var c = Change(absolute: [], fractional: [], inErrors: [], converged: true)
        for i in current.indices {
            let d = Swift.abs(current[i] - previous[i])
            let frac: Double = d == 0 ? 0 : (previous[i] == 0 ? .infinity : Swift.abs(current[i] / previous[i] - 1))
            let sigma = errors[i]
            let inErr: Double = d == 0 ? 0 : (sigma > 0 && sigma.isFinite ? d / sigma : .infinity)
            // NaN changes (a non-finite value) fail every test.
            let ok = d <= Self.tolerance(maxAbs, i) || frac <= Self.tolerance(maxFrac, i) || inErr <= maxErr
            c.absolute.append(d)
            c.fractional.append(frac)
            c.inErrors.append(inErr)
            if !ok { c.converged = false }
        }
        return c
    }
}

/// The pass bookkeeping of a multi-object fit under a `PassConvergence` rule: per object, its
/// passes so far, its values after the latest pass, and whether that pass converged. Objects are
/// indexed 0..<count; `neighbours[i]` lists the objects whose light (or likelihood) reaches
/// object i. Codable, so a run's checkpoint can hold it and a resume continues mid-pass.
public struct PassTracker: Codable, Sendable, Equatable {
    public let rule: PassConvergence
    public let neighbours: [[Int]]
    /// Passes each object has completed.
    public private(set) var passes: [Int]
    /// Whether each object's latest pass met the rule (false before its second pass).
    public private(set) var converged: [Bool]
    /// Each object's largest change in σ at its latest pass (nil before its second pass, and
    /// where some change has no finite σ, so that the tracker stays JSON-encodable).
    public private(set) var lastChange: [Double?]
    /// Values after each object's latest pass (nil before its first).
    public private(set) var values: [[Double]?]
    /// Objects left out of the loop (e.g. given up on): they need no passes and do not hold back
    /// their neighbours.
    public private(set) var excluded: Set<Int> = []

    public init(rule: PassConvergence, neighbours: [[Int]]) {
        self.rule = rule
        self.neighbours = neighbours
        let n = neighbours.count
        passes = Array(repeating: 0, count: n)
        converged = Array(repeating: false, count: n)
        lastChange = Array(repeating: nil, count: n)
        values = Array(repeating: nil, count: n)
    }

    public var count: Int { passes.count }

    /// Leaves `object` out from now on.
    public mutating func exclude(_ object: Int) { excluded.insert(object) }

    /// Moves `object` to `values` between passes without counting a pass (a `PassExtrapolation`
    /// jump): its next pass is compared with these values, and it is not converged until then.
    public mutating func moved(_ object: Int, to values: [Double]) {
        self.values[object] = values
        converged[object] = false
        lastChange[object] = nil
    }

    /// Records one more pass of `object` with its new values and standard errors; returns the
    /// change from its previous pass (nil for its first).
    @discardableResult
    public mutating func record(_ object: Int, values new: [Double], errors: [Double]) throws -> PassConvergence.Change? {
        var change: PassConvergence.Change?
        if let old = values[object] {
            let c = try rule.change(previous: old, current: new, errors: errors)
            converged[object] = c.converged
            lastChange[object] = c.largestInErrors.isFinite ? c.largestInErrors : nil
            change = c
        } else {
            converged[object] = false
            lastChange[object] = nil
        }
        values[object] = new
        passes[object] += 1
        return change
    }

    /// True when the object and every neighbour not excluded have converged.
    public func settled(_ object: Int) -> Bool {
        converged[object] && neighbours[object].allSatisfy { excluded.contains($0) || converged[$0] }
    }

    /// Whether `object` should be fitted again: fewer than `minPasses`, or fewer than `maxPasses`
    /// and not settled.
    public func needsPass(_ object: Int) -> Bool {
        guard !excluded.contains(object) else { return false }
        if passes[object] < rule.minPasses { return true }
        return passes[object] < rule.maxPasses && !settled(object)
    }

    /// True once no object needs another pass.
    public var isFinished: Bool { !(0..<count).contains(where: needsPass) }

    /// The pass the whole set has completed: the fewest passes among objects that still need one
    /// (every object's count when none does).
    public var completedPass: Int {
        let open = (0..<count).filter(needsPass)
        return open.isEmpty ? (passes.enumerated().filter { !excluded.contains($0.offset) }.map(\.element).max() ?? 0)
                            : open.map { passes[$0] }.min()!
    }

    /// Objects (not excluded) whose latest pass converged.
    public var convergedCount: Int { (0..<count).filter { !excluded.contains($0) && converged[$0] }.count }
    /// Objects taking part (not excluded).
    public var activeCount: Int { count - excluded.count }
    /// The largest latest change in σ over the objects taking part (+∞ while one has no finite
    /// change yet, e.g. after its first pass).
    public var largestChange: Double {
        (0..<count).filter { !excluded.contains($0) }.map { lastChange[$0] ?? .infinity }.max() ?? 0
    }

    /// Restores a saved tracker's per-object state (a resume); the rule and neighbours stay this
    /// tracker's own.
    public mutating func restore(passes: [Int], converged: [Bool], lastChange: [Double?], values: [[Double]?], excluded: Set<Int>) throws {
        guard passes.count == count, converged.count == count, lastChange.count == count, values.count == count else {
            throw InferenceError.dimensionMismatch(expected: count, got: passes.count)
        }
        self.passes = passes
        self.converged = converged
        self.lastChange = lastChange
        self.values = values
        self.excluded = excluded
    }
}
