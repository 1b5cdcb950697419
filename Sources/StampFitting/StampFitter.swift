import Astrometry
import Foundation
import Inference
import SceneFitting
import SceneModel
import Stamps

/// The fitters a batch run can name (ngmixer's fitter registry): what is fitted per object of a
/// friends-of-friends group, and how its neighbours are treated.
public enum StampFitterKind: String, Codable, Sendable, CaseIterable {
    /// Each object alone on its own stamps, neighbours ignored: L-BFGS, Laplace errors.
    case maxLikelihood = "max_likelihood"
    /// Multi-object fitting: each member refitted on its own stamps with the other members' latest
    /// models subtracted, pass after pass, until the `PassConvergence` rule holds (the loop the
    /// scene fitter's passes use: `PassTracker`); small groups end with a joint refinement of
    /// each member on its own stamps (`StampFitSettings.jointFinishMaxMembers`).
    case mof
    /// MOF, then NUTS draws per member with the other members held at their converged models.
    case nuts
}

/// Settings of the stamp fitters (`tessera config batch`, key `fit`).
public struct StampFitSettings: Codable, Sendable, Equatable {
    /// Gaussian components of each epoch's PSF mixture (fitted to the MEDS PSF image).
    public var psfComponents = 3
    /// Fit the coadd (cutout 0) instead of the single epochs.
    public var useCoadd = false
    /// MOF passes: the minimum and maximum per member of a group of two or more.
    public var minPasses = 2
    public var maxPasses = 15
    /// MOF convergence per parameter [ξ, η (arcsec), flux, q, pa (rad), n, r_half (arcsec)]:
    /// absolute change, fractional change, change in standard errors (any one suffices).
    public var maxAbs: [Double] = [1e-3, 1e-3, 0, 1e-3, 1e-3, 1e-3, 1e-4]
    public var maxFrac: [Double] = [0, 0, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]
    public var maxErr = 0.1
    /// MOF starting values for groups of at most this many members: a joint fit of every member
    /// on each member's own stamps (0: start from the stamp-sum guesses, as ngmixer does). See
    /// `StampFitter.jointStart`.
    public var jointStartMaxMembers = 4
    /// MOF finish for groups of at most this many members: after the passes, each member's value
    /// and errors come from a joint refinement of the whole group on that member's stamps,
    /// started from the MOF state (0: keep the pass values). See `StampFitter.jointFinish`.
    public var jointFinishMaxMembers = 4
    /// MOF passes accelerated by squared extrapolation (`PassExtrapolation`): after every three
    /// whole passes of a group, its members jump towards the passes' fixed point, and the next
    /// pass checks the jump (false: plain passes, as ngmixer).
    public var extrapolatePasses = true
    /// MOF errors with the neighbours free (see `StampFitter.marginalErrors`) instead of with
    /// them held at their latest models.
    public var marginalErrors = true
    /// NUTS warm-up iterations and kept draws per member.
    public var warmup = 150
    public var draws = 200
    /// Starting half-light radius (arcsec) and Sérsic index.
    public var startRhalf = 0.4
    public var startSersic = 1.5
    /// Parameter bounds: the scene fitter's, with r_half up to 4″ and q down to 0.1. r_half is
    /// along the major axis, so an elongated galaxy's exceeds its circularised radius by 1/√q: the
    /// mock tile's reach 1.9″ (0.8″ round at q = 0.18), past the scene default of 1.5″, and a fit
    /// held at that bound came out 2–6% low in flux with pulls of −7 to −15 (the ngmix reference
    /// run and the 200-object MOF tiles, issue 13).
    public var bounds: ParameterBounds = {
        var b = ParameterBounds()
        b.rhalf = 0.03...4
        b.q = 0.1...1
        return b
    }()
    public init() {}

    var rule: PassConvergence {
        get throws { try PassConvergence(minPasses: minPasses, maxPasses: maxPasses, maxAbs: maxAbs, maxFrac: maxFrac, maxErr: maxErr) }
    }
}

/// One object of a group, as the fitters see it.
public struct GroupMember: Sendable {
    /// 0-based row of the object in its MEDS file.
    public var index: Int
    public var object: StampObject
    /// All the object's cutouts (MEDS order: the coadd first).
    public var epochs: [EpochStamp]
    /// Whether `epochs[0]` is a coadd (MEDS); without one every epoch is fitted.
    public var coaddFirst: Bool
    public init(index: Int, object: StampObject, epochs: [EpochStamp], coaddFirst: Bool = true) {
        self.index = index; self.object = object; self.epochs = epochs; self.coaddFirst = coaddFirst
    }
}

/// Flag bits of a stamp fit (the `flags` column of a batch catalog).
public enum StampFitFlags {
    /// No usable pixel in any fitted epoch (all weights 0 or masked).
    public static let noPixels = 1
    /// An epoch has no PSF image, or its PSF could not be fitted.
    public static let noPSF = 2
    /// The optimiser stopped before its gradient tolerance.
    public static let optimizerNotConverged = 4
    /// MOF reached `maxPasses` before the convergence rule held.
    public static let notConverged = 8
    /// The fit threw (the message is logged); parameters are NaN.
    public static let fitFailed = 16
}

/// The fit of one object.
public struct ObjectFit: Codable, Sendable, Equatable {
    /// 0-based MEDS row.
    public var index: Int
    public var id: Int64
    public var number: Int64
    /// The fitted source (ra, dec in degrees; flux in image counts; r_half along the major axis,
    /// arcsec); nil when the object could not be fitted (see `flags`).
    public var source: Source?
    /// Standard errors per catalog column (`CatalogColumns.names`; ra and dec in arcsec).
    public var errors: [String: Double]
    public var chi2: Double?
    public var pixels: Int
    /// MOF passes this object received (1 for isolated objects and the other fitters).
    public var passes: Int
    public var converged: Bool
    public var flags: Int
    /// NUTS only: the worst split R-hat and smallest ESS over the parameters, and divergences.
    public var rHat: Double?
    public var ess: Double?
    public var divergences: Int?
    /// NUTS only: the kept draws, each the `CatalogColumns.names` values (ra, dec in degrees).
    public var draws: [[Double]]?
    public var message: String?

    /// Sets or clears flag 4 (`optimizerNotConverged`) for the fit whose values this object now
    /// reports; nil (no optimisation ran) clears it.
    mutating func recordOptimizer(converged: Bool?) {
        if converged == false { flags |= StampFitFlags.optimizerNotConverged }
        else { flags &= ~StampFitFlags.optimizerNotConverged }
    }
}

/// Fits the members of one friends-of-friends group with the chosen fitter.
public enum StampFitter {
    public static func fit(group members: [GroupMember], kind: StampFitterKind, settings: StampFitSettings,
                           sersic: SersicMixture, seed: UInt64) throws -> [ObjectFit] {
        guard let first = members.first else { return [] }
        let plane = TangentPlane(ra0: first.object.ra, dec0: first.object.dec)
        var prepared: [Prepared?] = []
        var results: [ObjectFit] = members.map {
            ObjectFit(index: $0.index, id: $0.object.id, number: $0.object.number, source: nil, errors: [:], chi2: nil,
                      pixels: 0, passes: 0, converged: false, flags: 0)
        }
        for (m, member) in members.enumerated() {
            do {
                let p = try Prepared(member, settings: settings, plane: plane)
                results[m].pixels = p.patch.pixelCount
                if p.patch.exposures.isEmpty {
                    results[m].flags |= StampFitFlags.noPixels
                    prepared.append(nil)
                } else {
                    prepared.append(p)
                }
            } catch let e as PSFProblem {
                results[m].flags |= StampFitFlags.noPSF
                results[m].message = e.message
                prepared.append(nil)
            }
        }
        var current: [Source?] = prepared.map { $0?.start }
        let fitted = (0..<members.count).filter { prepared[$0] != nil }

        /// Fits member m; with `neighbours`, the other members' latest models are subtracted first.
        func fitOne(_ m: Int, sample: Bool, stream: UInt64, neighbours: Bool = true) {
            let others = neighbours ? fitted.filter { $0 != m }.compactMap { o -> Source? in results[o].source } : []
            do {
                let r = try fitMember(prepared[m]!, neighbours: others, start: current[m]!, plane: plane, settings: settings,
                                      sersic: sersic, sample: sample, seed: seed, stream: stream)
                current[m] = r.source
                results[m].source = r.source
                results[m].errors = r.errors
                results[m].chi2 = r.chi2
                results[m].rHat = r.rHat
                results[m].ess = r.ess
                results[m].divergences = r.divergences
                results[m].draws = r.draws
                results[m].recordOptimizer(converged: r.optimizerConverged)
            } catch {
                results[m].flags |= StampFitFlags.fitFailed
                results[m].message = "\(error)"
                results[m].source = nil
            }
        }

        switch kind {
        case .maxLikelihood:
            for m in fitted {
                fitOne(m, sample: false, stream: UInt64(m), neighbours: false)
                results[m].passes = 1
                results[m].converged = results[m].flags & StampFitFlags.fitFailed == 0
            }
        case .mof, .nuts:
            if fitted.count == 1 {
                // An isolated object has nothing to converge against: one pass is its fit.
                fitOne(fitted[0], sample: false, stream: 0)
                results[fitted[0]].passes = 1
                results[fitted[0]].converged = results[fitted[0]].flags & StampFitFlags.fitFailed == 0
            } else if fitted.count > 1 {
                if fitted.count <= settings.jointStartMaxMembers {
                    let starts = fitted.map { current[$0]! }
                    for m in fitted {
                        // A failed joint fit leaves m at its stamp-sum guess (MOF still runs).
                        guard let sources = try? jointStart(prepared[m]!, members: fitted.map { prepared[$0]! }, starts: starts,
                                                            plane: plane, settings: settings, sersic: sersic, seed: seed,
                                                            stream: UInt64(m))
                        else { continue }
                        let j = fitted.firstIndex(of: m)!
                        current[m] = sources[j]
                        results[m].source = sources[j]
                    }
                }
                let local = Dictionary(uniqueKeysWithValues: fitted.enumerated().map { ($1, $0) })
                var tracker = PassTracker(rule: try settings.rule,
                                          neighbours: fitted.map { m in fitted.filter { $0 != m }.map { local[$0]! } })
                var jumps = GroupExtrapolation()
                let anchors = fitted.map { plane.offsets(ra: prepared[$0]!.member.object.ra, dec: prepared[$0]!.member.object.dec) }
                while !tracker.isFinished {
                    for (k, m) in fitted.enumerated() where tracker.needsPass(k) {
                        fitOne(m, sample: false, stream: UInt64(m))
                        guard let s = results[m].source else { tracker.exclude(k); continue }
                        if settings.marginalErrors {
                            results[m].errors = marginalErrors(m, fitted: fitted, prepared: prepared, results: results,
                                                               plane: plane, settings: settings, sersic: sersic, seed: seed)
                        }
                        let (values, errors) = convergenceVector(s, errors: results[m].errors, plane: plane)
                        try tracker.record(k, values: values, errors: errors)
                    }
                    // A jump needs a pass after it to be checked: only while the loop goes on,
                    // with every member fitted in every pass.
                    guard settings.extrapolatePasses, tracker.excluded.isEmpty, !tracker.isFinished,
                          Set(tracker.passes).count == 1 else { jumps = GroupExtrapolation(); continue }
                    let coordinates = fitted.map { ExtrapolationCoordinates(results[$0].source!, errors: results[$0].errors, plane: plane) }
                    let largest = fitted.indices.map { tracker.lastChange[$0] ?? .infinity }.max() ?? .infinity
                    guard let points = jumps.afterPass(coordinates, largestChange: largest, isAcceptable: { x, j in
                        ExtrapolationCoordinates.isInside(x, anchor: anchors[j], bounds: settings.bounds)
                    }) else { continue }
                    for (j, m) in fitted.enumerated() {
                        let s = ExtrapolationCoordinates.source(points[j], like: results[m].source!, plane: plane)
                        current[m] = s
                        results[m].source = s
                        tracker.moved(j, to: convergenceVector(s, errors: results[m].errors, plane: plane).0)
                    }
                }
                if fitted.count <= settings.jointFinishMaxMembers {
                    jointFinish(fitted: fitted, prepared: prepared, results: &results, plane: plane, settings: settings,
                                sersic: sersic, seed: seed)
                }
                for (k, m) in fitted.enumerated() {
                    results[m].passes = tracker.passes[k]
                    results[m].converged = tracker.converged[k]
                    if !tracker.converged[k] && results[m].flags & StampFitFlags.fitFailed == 0 {
                        results[m].flags |= StampFitFlags.notConverged
                    }
                }
            }
            if kind == .nuts {
                for m in fitted where results[m].source != nil { fitOne(m, sample: true, stream: UInt64(m)) }
            }
        }
        return results
    }

    /// The MOF convergence vector of a fitted source: [ξ, η (arcsec), flux, q, pa, n, r_half], with
    /// its standard errors (ra/dec errors are already arcsec).
    static func convergenceVector(_ s: Source, errors: [String: Double], plane: TangentPlane) -> ([Double], [Double]) {
        // Catalog order is [flux, ra, dec, q, pa, sersic, rhalf]; the rule's order (the order of
        // `StampFitSettings.maxAbs`/`maxFrac`) puts the position first.
        let o = plane.offsets(ra: s.ra, dec: s.dec)
        let values = [o.xi, o.eta, s.flux[0], s.q, s.pa, s.sersic, s.rhalf]
        let errs = ["ra", "dec", "flux", "q", "pa", "sersic", "rhalf"].map { errors[$0] ?? .nan }
        return (values, errs)
    }

    /// A MOF group's squared-extrapolation state between passes (`PassExtrapolation`): the whole-pass
    /// states since its last jump, and a check of each jump by the pass after it.
    ///
    /// A jump is judged by the pass after it: when that pass moves some parameter by more σ than
    /// the pass before the jump did (the passes are not behaving like a linear map there —
    /// measured on triplets whose members trade flux and size), the longest jump allowed is
    /// halved. Going back to the state before the jump instead, SQUAREM's usual safeguard with
    /// the residual as merit, was measured worse on the mock tile (83% of groups converged within
    /// 15 passes against 95–97%): the residual of one pass is too noisy a merit.
    struct GroupExtrapolation {
        var states: [[Double]] = []
        /// The largest |α| a jump may use.
        var maxStep = 20.0
        /// The group's largest change (σ) in the pass before the latest jump, until the pass after
        /// the jump has been seen.
        var changeBeforeJump: Double?

        /// After a whole pass of the group: each member's coordinates, and the largest change (σ) of
        /// any member in that pass. Returns each member's point to jump to, or nil.
        mutating func afterPass(_ coordinates: [ExtrapolationCoordinates], largestChange: Double,
                                isAcceptable: ([Double], Int) -> Bool) -> [[Double]]? {
            if let before = changeBeforeJump {
                if largestChange > before { maxStep = max(1, maxStep / 2) }
                changeBeforeJump = nil
            }
            states.append(coordinates.flatMap(\.values))
            guard states.count == 3 else { return nil }
            guard let jump = PassExtrapolation.squared(states[0], states[1], states[2], scale: coordinates.flatMap(\.scales),
                                                       maxStep: maxStep, isAcceptable: { x in
                                                           Self.members(x).enumerated().allSatisfy { j, point in isAcceptable(point, j) }
                                                       })
            else {
                states.removeFirst()
                return nil
            }
            states = []
            changeBeforeJump = largestChange
            return Self.members(jump)
        }

        /// A group's flat vector cut into its members' `ExtrapolationCoordinates` values.
        static func members(_ flat: [Double]) -> [[Double]] {
            let width = ExtrapolationCoordinates.width
            return stride(from: 0, to: flat.count, by: width).map { Array(flat[$0..<($0 + width)]) }
        }
    }

    /// A member's parameters as `PassExtrapolation` extrapolates them: [ξ, η (arcsec), flux,
    /// e₁, e₂, n, r_half (arcsec)], with the shape as the ellipticity ε = (1 − q)/(1 + q) at
    /// angle 2·pa (smooth through q = 1 and across the π-periodic wrap of pa, where q and pa are
    /// not), and the standard error of each.
    struct ExtrapolationCoordinates {
        static let width = 7
        var values: [Double]
        var scales: [Double]

        init(_ s: Source, errors: [String: Double], plane: TangentPlane) {
            let o = plane.offsets(ra: s.ra, dec: s.dec)
            let e = (1 - s.q) / (1 + s.q)
            values = [o.xi, o.eta, s.flux[0], e * cos(2 * s.pa), e * sin(2 * s.pa), s.sersic, s.rhalf]
            func err(_ name: String) -> Double { errors[name] ?? .nan }
            // σ_ε from σ_q (dε/dq = −2/(1 + q)²) and the tangential 2ε·σ_pa, in quadrature.
            let shape = hypot(2 * err("q") / ((1 + s.q) * (1 + s.q)), 2 * e * err("pa"))
            scales = [err("ra"), err("dec"), err("flux"), shape, shape, err("sersic"), err("rhalf")]
        }

        /// Whether a point is strictly inside the fitter's domain: positive flux, q, n and r_half
        /// within `bounds`, and the position within the box about the catalogue anchor.
        static func isInside(_ x: [Double], anchor: (xi: Double, eta: Double), bounds: ParameterBounds) -> Bool {
            let e = (x[3] * x[3] + x[4] * x[4]).squareRoot()
            let q = (1 - e) / (1 + e)
            let box = 0.99 * bounds.positionHalfWidth
            return x[2] > 0 && e < 1 && q > bounds.q.lowerBound
                && x[5] > bounds.sersic.lowerBound && x[5] < bounds.sersic.upperBound
                && x[6] > bounds.rhalf.lowerBound && x[6] < bounds.rhalf.upperBound
                && abs(x[0] - anchor.xi) < box && abs(x[1] - anchor.eta) < box
        }

        /// The source at point `x`, with `like`'s id and kind.
        static func source(_ x: [Double], like: Source, plane: TangentPlane) -> Source {
            let sky = plane.sky(xi: x[0], eta: x[1])
            let e = (x[3] * x[3] + x[4] * x[4]).squareRoot()
            var s = like
            s.ra = sky.ra
            s.dec = sky.dec
            s.flux = [x[2]]
            s.q = (1 - e) / (1 + e)
            s.pa = e > 0 ? atan2(x[4], x[3]) / 2 : like.pa
            s.sersic = x[5]
            s.rhalf = x[6]
            return s
        }
    }

    struct MemberFit {
        var source: Source
        var errors: [String: Double]
        var chi2: Double
        var optimizerConverged: Bool?
        var rHat: Double?
        var ess: Double?
        var divergences: Int?
        var draws: [[Double]]?
    }

    static func fitMember(_ p: Prepared, neighbours: [Source], start: Source, plane: TangentPlane, settings: StampFitSettings,
                          sersic: SersicMixture, sample: Bool, seed: UInt64, stream: UInt64) throws -> MemberFit {
        var patch = Patch(bands: ["flux"], plane: plane, exposures: p.patch.exposures)
        if !neighbours.isEmpty {
            patch = try patch.subtracting(neighbours.map { PatchSource($0, plane: plane) },
                                          astrometry: p.patch.astrometry.map { a in neighbours.map { _ in a } }, sersic: sersic)
        }
        let kernel = try SceneKernel(patch: patch, sersic: sersic, isPoint: [false])
        let anchor = plane.offsets(ra: p.member.object.ra, dec: p.member.object.dec)
        let posterior = try PatchPosterior(kernel: kernel, anchors: [anchor], bounds: settings.bounds)
        var fs = FitSettings()
        fs.mode = sample ? .sample : .optimize
        // The MOF benchmarks of issue 13 were measured without the scene's fluxes-first stage;
        // stamp fits keep that behaviour (its gain was measured on scenes only, issue 16).
        fs.fluxesFirst = false
        fs.warmup = settings.warmup
        fs.draws = settings.draws
        let fit = try PatchFitter.fit(posterior: posterior, start: kernel.parameters(of: [PatchSource(start, plane: plane)]),
                                      covariances: [nil], settings: fs, seed: seed, stream: stream)
        let summary = FitSummary(fit: fit, posterior: posterior, plane: plane, active: [start], bands: ["flux"], sampled: sample)
        var result = MemberFit(source: summary.sources[0], errors: summary.uncertainties[0], chi2: fit.chi2,
                               optimizerConverged: fit.optimizerConverged)
        if sample, summary.fromDraws {
            let draws = summary.draws[0]
            let columns = (0..<(draws.first?.count ?? 0)).map { c in draws.map { $0[c] } }
            result.rHat = columns.map { Diagnostics.splitRHat([$0]) }.max()
            result.ess = columns.map { Diagnostics.splitEffectiveSampleSize([$0]) }.min()
            result.divergences = fit.stats?.divergences
            result.draws = draws
        }
        return result
    }

    /// Member m's errors with its neighbours free: the joint Laplace covariance of the whole group
    /// on m's stamps at the members' latest values (see `jointFit`). A member's error conditional
    /// on fixed neighbours is too small wherever their light overlaps (the flux can be traded
    /// between them); the marginal one is what the pulls of blended objects need. Kept per column
    /// only where it is finite and not below the conditional error (a marginal variance is never
    /// smaller; a smaller one means the joint Hessian was not positive definite).
    static func marginalErrors(_ m: Int, fitted: [Int], prepared: [Prepared?], results: [ObjectFit], plane: TangentPlane,
                               settings: StampFitSettings, sersic: SersicMixture, seed: UInt64) -> [String: Double] {
        var errors = results[m].errors
        let group = fitted.filter { results[$0].source != nil }
        guard group.count > 1, let j = group.firstIndex(of: m),
              let summary = try? jointFit(prepared[m]!, members: group.map { prepared[$0]! },
                                          starts: group.map { results[$0].source! }, plane: plane, settings: settings,
                                          sersic: sersic, optimize: false, seed: seed, stream: UInt64(m)).summary
        else { return errors }
        for (name, marginal) in summary.uncertainties[j] {
            if let conditional = errors[name], marginal.isFinite, marginal >= conditional { errors[name] = marginal }
        }
        return errors
    }

    /// The finish of MOF: every member refitted jointly with its neighbours free on its own
    /// stamps, all started from the same MOF state; the member's entry of that fit (and its
    /// Laplace errors, marginal over the neighbours) replaces its pass value.
    ///
    /// Why: the passes are block coordinate ascent, whose last steps in a close blend shrink only
    /// by the square of the members' light overlap per pass, so a member can meet the
    /// per-pass tolerance while still a sizeable fraction of σ from the optimum along the
    /// flux-split direction. One joint quasi-Newton refinement from the MOF state lands on the
    /// optimum of the member's own stamps, and the errors reported are that optimum's. A member
    /// whose refinement fails keeps its pass value and errors.
    static func jointFinish(fitted: [Int], prepared: [Prepared?], results: inout [ObjectFit], plane: TangentPlane,
                            settings: StampFitSettings, sersic: SersicMixture, seed: UInt64) {
        let group = fitted.filter { results[$0].source != nil }
        guard group.count > 1 else { return }
        let state = group.map { results[$0].source! }
        var finished: [(Int, Source, [String: Double], Bool?)] = []
        for (j, m) in group.enumerated() {
            guard let (summary, converged) = try? jointFit(prepared[m]!, members: group.map { prepared[$0]! }, starts: state,
                                                           plane: plane, settings: settings, sersic: sersic, optimize: true,
                                                           linearStart: false, seed: seed, stream: UInt64(m))
            else { continue }
            let errors = summary.uncertainties[j]
            guard errors["flux"].map({ $0 > 0 && $0.isFinite }) == true else { continue }
            finished.append((m, summary.sources[j], errors, converged))
        }
        for (m, source, errors, converged) in finished {
            results[m].source = source
            results[m].errors = errors
            // The reported values are this fit's: its optimiser's state is the one flagged.
            results[m].recordOptimizer(converged: converged)
        }
    }

    /// The starting sources with their fluxes replaced by the weighted least-squares fluxes of
    /// all of them at once on `p`'s stamps, their shapes and positions held at the starts.
    ///
    /// Why: every stamp-sum guess holds the light of the whole blend, so a joint fit from them
    /// starts with the group's flux counted k times, and in a close pair it can settle in a
    /// wrong split (one member swelling over the other). With the shapes fixed the model is
    /// linear in the fluxes, so the split at the catalogue positions is one small solve.
    /// Falls back to the given starts where the system is singular or a flux comes out ≤ 0.
    static func linearFluxes(_ p: Prepared, starts: [Source], plane: TangentPlane, sersic: SersicMixture) -> [Source] {
        let k = starts.count
        var unit: [[[Double]]] = []  // [source][exposure][pixel]
        for s in starts {
            var one = s
            one.flux = [1]
            let exposures = zip(p.patch.exposures, p.patch.astrometry).map { e, a -> PatchExposure in
                var e = e
                e.astrometry = [a]
                return e
            }
            guard let kernel = try? SceneKernel(patch: Patch(bands: ["flux"], plane: plane, exposures: exposures), sersic: sersic,
                                                isPoint: [false]) else { return starts }
            unit.append(kernel.modelImages(kernel.parameters(of: [PatchSource(one, plane: plane)])))
        }
        // Normal equations A f = b with A_ij = Σ w m_i m_j, b_i = Σ w m_i d (w = 1/σ²).
        var a = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        var b = [Double](repeating: 0, count: k)
        for (e, exposure) in p.patch.exposures.enumerated() {
            for px in exposure.data.indices {
                let w = exposure.inverseError[px] * exposure.inverseError[px]
                for i in 0..<k {
                    let mi = unit[i][e][px] * w
                    b[i] += mi * exposure.data[px]
                    for j in 0..<k { a[i][j] += mi * unit[j][e][px] }
                }
            }
        }
        guard let f = solve(a, b), f.allSatisfy({ $0 > 0 && $0.isFinite }) else { return starts }
        return zip(starts, f).map { s, flux in
            var s = s
            s.flux = [flux]
            return s
        }
    }

    /// Solves a small dense system by Gaussian elimination with partial pivoting; nil if singular.
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        var m = a, r = b
        let n = b.count
        for c in 0..<n {
            guard let p = (c..<n).max(by: { abs(m[$0][c]) < abs(m[$1][c]) }), abs(m[p][c]) > 1e-300 else { return nil }
            m.swapAt(c, p); r.swapAt(c, p)
            for i in (c + 1)..<n {
                let f = m[i][c] / m[c][c]
                for j in c..<n { m[i][j] -= f * m[c][j] }
                r[i] -= f * r[c]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            x[i] = (r[i] - ((i + 1)..<n).reduce(0) { $0 + m[i][$1] * x[$1] }) / m[i][i]
        }
        return x
    }

    /// MOF starting values of member `p`: every member of the group fitted at once (maximum
    /// likelihood) on `p`'s own stamps, each at its own catalogue anchor; returns the fitted
    /// sources in `members` order (only `p`'s own entry is used).
    ///
    /// Why: refitting one member with its neighbours' latest models subtracted is block
    /// coordinate ascent, which in a close blend converges only linearly, at a rate set by how
    /// strongly the members' light overlaps; from stamp-sum guesses (each holding its
    /// neighbours' light) a pair can need far more than 15 passes. The joint fit on the member's
    /// stamps lands next to MOF's fixed point, so the passes that follow only confirm it.
    static func jointStart(_ p: Prepared, members: [Prepared], starts: [Source], plane: TangentPlane,
                           settings: StampFitSettings, sersic: SersicMixture, seed: UInt64, stream: UInt64) throws -> [Source] {
        try jointFit(p, members: members, starts: starts, plane: plane, settings: settings, sersic: sersic,
                     optimize: true, seed: seed, stream: stream).summary.sources
    }

    /// Every member of the group modelled at once on `p`'s own stamps: optimised from `starts`
    /// (`optimize`; with `linearStart`, from their least-squares fluxes, see `linearFluxes`), or only the Laplace covariance at `starts` (the MOF values), whose member
    /// block gives **marginal** errors — with the neighbours free, not held at their values.
    static func jointFit(_ p: Prepared, members: [Prepared], starts: [Source], plane: TangentPlane,
                         settings: StampFitSettings, sersic: SersicMixture, optimize: Bool, linearStart: Bool = true,
                         seed: UInt64, stream: UInt64) throws -> (summary: FitSummary, optimizerConverged: Bool?) {
        let k = members.count
        let starts = optimize && linearStart ? linearFluxes(p, starts: starts, plane: plane, sersic: sersic) : starts
        let exposures = zip(p.patch.exposures, p.patch.astrometry).map { e, a -> PatchExposure in
            var e = e
            e.astrometry = Array(repeating: a, count: k)
            return e
        }
        let patch = Patch(bands: ["flux"], plane: plane, exposures: exposures)
        let kernel = try SceneKernel(patch: patch, sersic: sersic, isPoint: Array(repeating: false, count: k))
        let anchors = members.map { plane.offsets(ra: $0.member.object.ra, dec: $0.member.object.dec) }
        let posterior = try PatchPosterior(kernel: kernel, anchors: anchors, bounds: settings.bounds)
        var fs = FitSettings()
        fs.mode = .optimize
        fs.fluxesFirst = false  // as in the member fits (see there)
        if !optimize { fs.optimizerIterations = 0 }
        let fit = try PatchFitter.fit(posterior: posterior, start: kernel.parameters(of: starts.map { PatchSource($0, plane: plane) }),
                                      covariances: Array(repeating: nil, count: k), settings: fs, seed: seed, stream: stream)
        return (FitSummary(fit: fit, posterior: posterior, plane: plane, active: starts, bands: ["flux"], sampled: false),
                fit.optimizerConverged)
    }

    /// An object's stamps, PSF mixtures and starting source.
    struct Prepared {
        let member: GroupMember
        let patch: StampPatch
        let start: Source

        init(_ member: GroupMember, settings: StampFitSettings, plane: TangentPlane) throws {
            self.member = member
            let epochs = !member.coaddFirst ? member.epochs
                : settings.useCoadd || member.epochs.count == 1 ? Array(member.epochs.prefix(1)) : Array(member.epochs.dropFirst())
            let psfs = try epochs.enumerated().map { e, stamp -> PSFMixture in
                if let mixture = stamp.psfMixture { return mixture }
                guard let image = stamp.psf else { throw PSFProblem(message: "epoch \(e) (file_id \(stamp.fileID)) has no PSF image") }
                do {
                    let psfImage = try PSFImage(width: image.cols, height: image.rows, values: image.pixels.map(Double.init))
                    return try PSFFitter.fit(psfImage, options: PSFFitOptions(components: settings.psfComponents,
                                                                              centre: (image.centerCol, image.centerRow))).mixture
                } catch {
                    throw PSFProblem(message: "epoch \(e) (file_id \(stamp.fileID)): PSF fit failed: \(error)")
                }
            }
            patch = try StampPatch(epochs: epochs, psfs: psfs, centre: (member.object.ra, member.object.dec), plane: plane)
            // Starting flux: the weighted-mean stamp sum over the fitted epochs (neighbours' light included).
            let sums = patch.exposures.map { $0.data.reduce(0, +) }
            let flux = max(sums.isEmpty ? 1 : sums.reduce(0, +) / Double(sums.count), 1e-3)
            start = Source(id: member.object.id, ra: member.object.ra, dec: member.object.dec, flux: [flux], q: 0.8, pa: 0,
                           sersic: settings.startSersic, rhalf: settings.startRhalf)
        }
    }

    struct PSFProblem: Error { let message: String }
}
