import Inference
import RealModule

/// One lens's stage-1 posterior under a broad interim prior, as a `LogDensity` for NUTS, over
/// z = (log M_h, γ₁, γ₂, β_x, β_y, log F_s, α_i) in constrained units (dex, –, –, arcsec, arcsec, dex, –).
///
/// Interim prior: log M_h uniform on `logHaloMassRange` and α_i uniform on `alphaRange` (the two coordinates the
/// population prior p(θ | η) depends on; `ReweightedPopulation` divides them out again); shear components
/// N(0, survey.shearSigma), source position uniform in the survey's source disc, log F_s
/// N(survey.logSourceFluxMean, survey.logSourceFluxSigma) — these are the population prior itself, which does not
/// depend on η. Outside the boxes or the disc the density is −∞. Wrap it in `TransformedDensity` with `transforms`
/// (logistic on the two boxes) to sample.
///
/// Gradients: the prior terms are analytic; ∂ ln L/∂(log M_h, γ₁, γ₂, β, log F_s, α_i) are
/// `LensLikelihood.valueAndGradient`'s central differences: one full image search plus 14 tracked evaluations per
/// gradient (about 2 ms, 1.7 full evaluations' cost; 15 before tracking). Where a step crosses into −∞ (an image
/// appears or disappears) the
/// gradient is not finite and the point is returned as −∞, which NUTS treats as leaving the support; an image
/// outside the microlensing table inside a trajectory is thrown and treated the same way (the table gives it no
/// probability); `LensStart` makes sure the chain starts where both are finite.
public struct LensInterimPosterior: LogDensity, Sendable {
    public let likelihood: LensLikelihood
    public let survey: SurveySettings
    public let logHaloMassRange: ClosedRange<Double>
    public let alphaRange: ClosedRange<Double>
    /// Marginalise microlensing with the table (true) or ignore it (false).
    public let microlensing: Bool

    public var dimension: Int { 7 }

    public init(likelihood: LensLikelihood, survey: SurveySettings, logHaloMassRange: ClosedRange<Double>,
                alphaRange: ClosedRange<Double>, microlensing: Bool) throws(LensInferenceError) {
        guard logHaloMassRange.upperBound > logHaloMassRange.lowerBound, logHaloMassRange.lowerBound.isFinite,
              logHaloMassRange.upperBound.isFinite else {
            throw .invalidParameter(name: "logHaloMassRange", value: logHaloMassRange.lowerBound, allowed: "a finite range lo < hi")
        }
        guard alphaRange.lowerBound > 0, alphaRange.upperBound > alphaRange.lowerBound, alphaRange.upperBound.isFinite else {
            throw .invalidParameter(name: "alphaRange", value: alphaRange.lowerBound, allowed: "a finite range 0 < lo < hi")
        }
        self.likelihood = likelihood
        self.survey = survey
        self.logHaloMassRange = logHaloMassRange
        self.alphaRange = alphaRange
        self.microlensing = microlensing
    }

    /// Unconstrained sampling coordinates: logistic maps onto the log M_h and α boxes, identity elsewhere.
    public var transforms: [ParameterTransform] {
        [.interval(lower: logHaloMassRange.lowerBound, upper: logHaloMassRange.upperBound),
         .identity, .identity, .identity, .identity, .identity,
         .interval(lower: alphaRange.lowerBound, upper: alphaRange.upperBound)]
    }

    /// ln π_int(log M_h, α): the interim density in the two reweighted coordinates (uniform boxes).
    public var logInterimDensity: Double {
        -Double.log(logHaloMassRange.upperBound - logHaloMassRange.lowerBound) - Double.log(alphaRange.upperBound - alphaRange.lowerBound)
    }

    static func parameters(_ z: [Double]) -> LensParameters {
        LensParameters(logHaloMass: z[0], shear1: z[1], shear2: z[2], sourceX: z[3], sourceY: z[4], logSourceFlux: z[5])
    }

    /// ln of the interim prior in the η-independent coordinates (shear, source, flux) and its gradient.
    func logPriorOthers(_ z: [Double]) -> (Double, [Double]) {
        let s = survey
        if z[3] * z[3] + z[4] * z[4] > s.sourceRadius * s.sourceRadius { return (-.infinity, [Double](repeating: 0, count: 7)) }
        let gs = s.shearSigma * s.shearSigma, fs = s.logSourceFluxSigma * s.logSourceFluxSigma
        let df = z[5] - s.logSourceFluxMean
        let value = -0.5 * (z[1] * z[1] + z[2] * z[2]) / gs - 0.5 * df * df / fs
        return (value, [0, -z[1] / gs, -z[2] / gs, 0, 0, -df / fs, 0])
    }

    /// ln L + ln π_int (up to a constant) in constrained coordinates, without a gradient (cheap: one likelihood).
    public func logDensity(_ z: [Double]) throws -> Double {
        guard logHaloMassRange.contains(z[0]), alphaRange.contains(z[6]) else { return -.infinity }
        let (prior, _) = logPriorOthers(z)
        guard prior.isFinite else { return -.infinity }
        return prior + (try likelihood.logLikelihood(Self.parameters(z), alphaSPS: z[6], microlensing: microlensing))
    }

    public func logDensityAndGradient(_ z: [Double]) throws -> (value: Double, gradient: [Double]) {
        let minusInfinity = (-Double.infinity, [Double](repeating: 0, count: 7))
        guard logHaloMassRange.contains(z[0]), alphaRange.contains(z[6]) else { return minusInfinity }
        let (prior, priorGradient) = logPriorOthers(z)
        guard prior.isFinite else { return minusInfinity }
        let (logL, gradient) = try likelihood.valueAndGradient(Self.parameters(z), alphaSPS: z[6], microlensing: microlensing)
        guard logL.isFinite else { return minusInfinity }
        var g = gradient
        guard g.allSatisfy(\.isFinite) else { return minusInfinity }
        for k in 0..<7 { g[k] += priorGradient[k] }
        return (logL + prior, g)
    }
}

/// A starting point for a lens's stage-1 chain where its posterior and gradient are finite, found without the
/// image solver first: at a trial α_i, (log M_h, γ₁, γ₂) minimise the source-plane scatter of the observed images
/// mapped back through the lens equation, Σ |β(θ_k) − β̄|² (smooth, defined everywhere, so no image-count
/// boundary to stall on); the source is then β̄ and log F_s the flux-weighted estimate. The image-plane posterior
/// is then maximised from there by L-BFGS (in the unconstrained coordinates, its finite-difference gradient).
/// The posterior is profiled along α first (`search`): at each of `alphaScanPoints` α values the source-plane fits
/// (the best one, and the shear's at each of `scanMasses` masses) are polished with α held, and the best profile
/// points are then polished freely. Where no scan point gives a finite posterior, the source-plane fit is repeated
/// along log M_h at five trial α (the box's middle, quartiles and ends) with the shear fitted at each mass
/// (`profileStart`): for a double the fit is one point of a one-parameter family, and that point can make four
/// images where others make two.
public enum LensStart {
    /// The start (constrained z) and its log-density.
    ///
    /// With microlensing on, a lens can have a finite posterior only in a small region: the table covers
    /// (κ, γ) up to its grid's ends, and an image by a critical curve leaves it for most parameters (seen: a
    /// double whose inner saddle sits at κ 0.90, γ 0.89 in the truth, outside a κ ≤ 0.95, γ ≤ 1.0 table at every
    /// source-plane start). Then the start of the posterior that ignores microlensing (finite wherever the images
    /// match), which fits the positions, is taken and polished on the microlensed posterior.
    /// - Throws: `LensInferenceError.invalidLens` ("no parameters reproduce its images") when no trial works: a
    ///   lens with no solution in the interim boxes.
    /// - Parameter avoiding: an α range the start must lie outside (a chain from `find`'s first start that never
    ///   moved: `InferStages.sampleLens` asks again for a start elsewhere). Profile points inside it are skipped,
    ///   and a free polish that returns into it is replaced by its profile point (α held, an interior optimum).
    public static func find(_ posterior: LensInterimPosterior, avoiding: ClosedRange<Double>? = nil) throws -> (z: [Double], logDensity: Double) {
        do {
            return try search(posterior, avoiding: avoiding)
        } catch let first as LensInferenceError {
            guard posterior.microlensing else { throw first }
            let gaussian = try LensInterimPosterior(likelihood: posterior.likelihood, survey: posterior.survey,
                                                    logHaloMassRange: posterior.logHaloMassRange,
                                                    alphaRange: posterior.alphaRange, microlensing: false)
            guard let (z, _) = try? search(gaussian, avoiding: avoiding), let start = try? posterior.logDensity(z), start.isFinite else { throw first }
            guard let found = polish(posterior, from: z, value: start) else { throw first }
            if isAvoided(found.z[6], avoiding) { return (z, start) }
            return found
        }
    }

    /// Whether α lies in the range `find(avoiding:)` must keep out of (never, without one).
    static func isAvoided(_ alpha: Double, _ avoiding: ClosedRange<Double>?) -> Bool { avoiding?.contains(alpha) ?? false }

    /// L-BFGS on the image-plane posterior (unconstrained, no Jacobian: the constrained mode) from z; the better of
    /// the result and z where its gradient is finite, else nil. With `holdingAlpha`, over the six coordinates other
    /// than α (α = z[6] held: a point of the profile along α).
    public static func polish(_ posterior: LensInterimPosterior, from z: [Double], value start: Double,
                              holdingAlpha: Bool = false) -> (z: [Double], logDensity: Double)? {
        let free = holdingAlpha ? 6 : 7
        let held = Array(z[free...])
        let density = ClosureDensity(dimension: free) { x in
            let (value, gradient) = try posterior.logDensityAndGradient(x + held)
            return (value, Array(gradient[0..<free]))
        }
        let transformed = TransformedDensity(density, transforms: Array(posterior.transforms[0..<free]), includeJacobian: false)
        if let r = try? LBFGS(maxIterations: 60, gradientTolerance: 1e-4).maximize(transformed, initial: transformed.unconstrain(Array(z[0..<free]))),
           r.logDensity.isFinite, r.logDensity > start {
            let polished = transformed.constrain(r.x) + held
            if let v = try? posterior.logDensityAndGradient(polished), v.value.isFinite { return (polished, v.value) }
        }
        if let v = try? posterior.logDensityAndGradient(z), v.value.isFinite { return (z, v.value) }
        return nil
    }

    /// α values of the profile scan: `alphaScanPoints` cell centres across the α box.
    public static let alphaScanPoints = 11

    /// Masses (cell centres across the log M_h box) at which the source-plane fit is made at each scan α.
    static let scanMasses = 12

    /// How many source-plane fits per scan α (the best by their unpolished ln p) are polished at that α.
    static let polishedPerAlpha = 4

    /// How many of the scan's best profile points are polished in all seven coordinates.
    static let polishedScanPoints = 3

    /// The start search of the type doc. A lens's posterior can be rugged, with pockets a chain does not leave
    /// (seen: mock 9017's lens-23, where the source-plane start at each of five trial α, polished in all seven
    /// coordinates, ended at α 0.98, log M_h 13.54, ln p −9.1; a chain from there stayed in α 0.91–1.08, while the
    /// main mode, best −0.02 at α 0.85, spans α 0.81–1.26; its slices ended at α 1.13 and cut the population
    /// posterior off there). So the search profiles the posterior along α first: at each scan α the source-plane
    /// fits, and the previous scan α's optimum carried over (a basin the fits miss at one α is often reached from
    /// its neighbour), are polished with α held fixed. The best `polishedScanPoints` profile points are then
    /// polished freely, and the best result is the start (about 3 s per lens in a release build, against 30–50 s
    /// for its chain).
    static func search(_ posterior: LensInterimPosterior, avoiding: ClosedRange<Double>? = nil) throws -> (z: [Double], logDensity: Double) {
        let lens = posterior.likelihood.lens
        let a = posterior.alphaRange
        let scan = (0..<alphaScanPoints).map { a.lowerBound + (Double($0) + 0.5) / Double(alphaScanPoints) * (a.upperBound - a.lowerBound) }
            .filter { !isAvoided($0, avoiding) }
        var lastReason = "no scan α gave a finite posterior"
        var profile: [(z: [Double], logDensity: Double)] = []
        var carried: [Double]?
        for alpha in scan {
            // The source-plane fits: the best one over all three of (log M_h, γ₁, γ₂), and the shear's at each of
            // `scanMasses` masses (the doubles' degenerate family), the best `polishedPerAlpha` of them by their
            // unpolished value; and the previous α's optimum.
            var fits: [[Double]] = []
            if let fit = sourcePlaneFit(posterior, alpha: alpha, logHaloMass: nil), let z = startPoint(posterior, fit, alpha: alpha) {
                fits.append(z)
            }
            let m = posterior.logHaloMassRange
            for k in 0..<scanMasses {
                let mass = m.lowerBound + (Double(k) + 0.5) / Double(scanMasses) * (m.upperBound - m.lowerBound)
                if let fit = sourcePlaneFit(posterior, alpha: alpha, logHaloMass: mass), let z = startPoint(posterior, fit, alpha: alpha) {
                    fits.append(z)
                }
            }
            var valued: [(z: [Double], value: Double)] = []
            for z in fits {
                do {
                    let value = try posterior.logDensity(z)
                    if value.isFinite { valued.append((z, value)) } else {
                        lastReason = "at α = \(alpha) the source-plane models have a different number of images or no finite likelihood"
                    }
                } catch { lastReason = "\(error)" }
            }
            var candidates = valued.sorted { $0.value > $1.value }.prefix(polishedPerAlpha).map { $0 }
            if var z = carried {
                z[6] = alpha
                if let value = try? posterior.logDensity(z), value.isFinite { candidates.append((z, value)) }
            }
            var best: (z: [Double], logDensity: Double)?
            for (z, start) in candidates {
                if let found = polish(posterior, from: z, value: start, holdingAlpha: true), found.logDensity > best?.logDensity ?? -.infinity {
                    best = found
                }
            }
            carried = best?.z
            if let best { profile.append(best) }
        }
        var found: (z: [Double], logDensity: Double)?
        for point in profile.sorted(by: { $0.logDensity > $1.logDensity }).prefix(polishedScanPoints) {
            guard var polished = polish(posterior, from: point.z, value: point.logDensity) else { continue }
            if isAvoided(polished.z[6], avoiding) { polished = point }
            if polished.logDensity > found?.logDensity ?? -.infinity { found = polished }
        }
        if let found { return found }
        if !profile.isEmpty { lastReason = "no scan point had a finite gradient" }
        let trials = [0.5, 0.25, 0.75, 0.1, 0.9].map { a.lowerBound + $0 * (a.upperBound - a.lowerBound) }
            .filter { !isAvoided($0, avoiding) }
        // Two images fix two source-plane constraints for three parameters (log M_h, γ₁, γ₂): the best fit above is
        // one point of a one-parameter family, and where that point makes four images (seen: a 2.9″ double at every
        // trial α) other points of the family may make two. Walk the family along log M_h, the shear fitted at each.
        for alpha in trials {
            if let found = profileStart(posterior, alpha: alpha) { return found }
        }
        lastReason += "; nor anywhere along log M_h with the shear fitted at each"
        throw LensInferenceError.invalidLens(lens: lens.id, reason: "no parameters in the interim boxes (log M_h "
            + "\(posterior.logHaloMassRange), α \(posterior.alphaRange)) reproduce its \(lens.images.count) images: \(lastReason)")
    }

    /// (log M_h, γ₁, γ₂) minimising the source-plane scatter of the observed images at `alpha` (with a weak shear
    /// prior): a coarse scan in log M_h at zero shear, then L-BFGS over all three; with `logHaloMass` given, L-BFGS
    /// over the shear alone at that mass. nil where no point of the box maps the images back.
    static func sourcePlaneFit(_ posterior: LensInterimPosterior, alpha: Double, logHaloMass fixed: Double?) -> [Double]? {
        let sigma2 = 1e-4  // arcsec²: scale of the scatter objective
        let gs = posterior.survey.shearSigma
        func f(_ v: [Double]) -> Double {
            guard posterior.logHaloMassRange.contains(v[0]), let (s, _) = sourcePlaneScatter(posterior, v, alpha: alpha) else { return -.infinity }
            return -0.5 * s / sigma2 - 0.5 * (v[1] * v[1] + v[2] * v[2]) / (gs * gs)
        }
        // The free coordinates: all three, or the shear at the fixed mass.
        let free = fixed == nil ? [0, 1, 2] : [1, 2]
        func full(_ x: [Double]) -> [Double] { fixed.map { [$0, x[0], x[1]] } ?? x }
        let objective = ClosureDensity(dimension: free.count) { x in
            let v = full(x)
            let value = f(v)
            var g = [Double](repeating: 0, count: free.count)
            for (i, k) in free.enumerated() {
                var p = v, m = v
                p[k] += 1e-6
                m[k] -= 1e-6
                g[i] = (f(p) - f(m)) / 2e-6
            }
            return (value, g.allSatisfy(\.isFinite) ? g : [Double](repeating: 0, count: free.count))
        }
        var best: [Double], bestValue: Double
        if let fixed {
            best = [0, 0]
            bestValue = f([fixed, 0, 0])
        } else {
            let m = posterior.logHaloMassRange
            (best, bestValue) = ([m.lowerBound, 0, 0], -Double.infinity)
            for step in 0...40 {
                let v = [m.lowerBound + (m.upperBound - m.lowerBound) * (Double(step) + 0.5) / 41, 0.0, 0.0]
                let value = f(v)
                if value > bestValue { (best, bestValue) = (v, value) }
            }
        }
        guard bestValue.isFinite else { return nil }
        if let r = try? LBFGS(maxIterations: 200, gradientTolerance: 1e-6).maximize(objective, initial: best),
           r.logDensity.isFinite, r.logDensity >= bestValue {
            best = r.x
        }
        return full(best)
    }

    /// The scatter Σ |β(θ_k) − β̄|² of the observed images mapped to the source plane by (log M_h, γ₁, γ₂) = v at
    /// `alpha`, and β̄; nil where the lens model cannot be built.
    static func sourcePlaneScatter(_ posterior: LensInterimPosterior, _ v: [Double], alpha: Double) -> (Double, (Double, Double))? {
        let like = posterior.likelihood
        let p = LensParameters(logHaloMass: v[0], shear1: v[1], shear2: v[2], sourceX: 0, sourceY: 0, logSourceFlux: 0)
        guard let g = like.galaxy(p, alphaSPS: alpha) else { return nil }
        let beta = like.lens.images.map { g.model.sourcePosition(x: $0.x, y: $0.y) }
        let mx = beta.map(\.x).reduce(0, +) / Double(beta.count), my = beta.map(\.y).reduce(0, +) / Double(beta.count)
        let s = beta.reduce(0) { $0 + ($1.x - mx) * ($1.x - mx) + ($1.y - my) * ($1.y - my) }
        return (s, (mx, my))
    }

    /// The 7-D start at a source-plane fit (log M_h, γ₁, γ₂): the source at β̄, log F_s the mean of
    /// log(F_obs / |μ|) over the matched images (the survey's mean flux where the images do not match).
    static func startPoint(_ posterior: LensInterimPosterior, _ fit: [Double], alpha: Double) -> [Double]? {
        let like = posterior.likelihood
        guard let (_, source) = sourcePlaneScatter(posterior, fit, alpha: alpha) else { return nil }
        let p0 = LensParameters(logHaloMass: fit[0], shear1: fit[1], shear2: fit[2], sourceX: source.0, sourceY: source.1,
                                logSourceFlux: posterior.survey.logSourceFluxMean)
        var z = [p0.logHaloMass, p0.shear1, p0.shear2, p0.sourceX, p0.sourceY, p0.logSourceFlux, alpha]
        if let (images, _) = like.matchedImages(p0, alphaSPS: alpha) {
            let logs = zip(images, like.lens.images).map { Double.log10(Swift.max($1.flux, 1e-30) / Swift.abs($0.magnification)) }
            z[5] = logs.reduce(0, +) / Double(logs.count)
        }
        return z
    }

    /// The source-plane fit along log M_h (41 masses over the box, the shear fitted at each) at `alpha`: the point
    /// of highest posterior density among those with a finite one, polished; nil where none is finite.
    static func profileStart(_ posterior: LensInterimPosterior, alpha: Double) -> (z: [Double], logDensity: Double)? {
        let m = posterior.logHaloMassRange
        var best: (z: [Double], value: Double)?
        for step in 0...40 {
            let mass = m.lowerBound + (m.upperBound - m.lowerBound) * (Double(step) + 0.5) / 41
            guard let fit = sourcePlaneFit(posterior, alpha: alpha, logHaloMass: mass), let z = startPoint(posterior, fit, alpha: alpha),
                  let value = try? posterior.logDensity(z), value.isFinite else { continue }
            if value > best?.value ?? -.infinity { best = (z, value) }
        }
        guard let best else { return nil }
        return polish(posterior, from: best.z, value: best.value)
    }
}
