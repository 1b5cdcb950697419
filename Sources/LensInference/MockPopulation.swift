import HaloProfiles
import RealModule
import StrongLensing
import TesseraSupport

/// Draws mock lens populations from hyperparameters η: each lens's masses, size, redshifts, shear and source,
/// its images (`LensSolver`), microlensing factors drawn from the magnification table at each image's
/// (κ, |γ|, s, source size), observational noise, and the survey's selection (`SurveySettings`).
///
/// Draw i uses its own stream `RandomSource(seed:stream: i)`; the lens's parameters always come from the stream's
/// first 8 normal and 4 uniform deviates (the microlensing and noise deviates follow, image by image), so two η
/// evaluated with one seed map the same deviates to their lenses — common random numbers, which make the
/// differences of the Monte Carlo A(η) in `SelectionFunction` far less noisy than each value.
///
/// Microlensing comes from the table's interpolated PDF (`MicrolensedFlux`), not from individual kept maps:
/// a draw from the PDF is a draw of one pixel of a random map at that (κ, γ, s), which is what a single epoch
/// sees; correlations between images of one lens through the same star field are not modelled (the images are
/// far apart in microlens Einstein radii).
public struct MockPopulation: Sendable {
    public var hyperparameters: PopulationHyperparameters
    public var survey: SurveySettings
    public let cosmology: Cosmology
    public let microlensing: MicrolensedFlux
    public var solver = LensSolver()

    public init(hyperparameters: PopulationHyperparameters, survey: SurveySettings, cosmology: Cosmology,
                microlensing: MicrolensedFlux) throws(LensInferenceError) {
        try hyperparameters.validate()
        try survey.validate()
        self.hyperparameters = hyperparameters
        self.survey = survey
        self.cosmology = cosmology
        self.microlensing = microlensing
    }

    /// The outcome of one draw.
    public enum Draw: Sendable {
        case selected(MockLens)
        /// Fewer than two non-central images, a flux under the limit, or too small a separation.
        case notSelected
        /// An image outside the microlensing table (with `rejectOutsideTable`).
        case outsideTable
    }

    /// Draw number `index` of the population with base `seed`.
    /// - Throws: `.outsideTable` naming the lens and image when `rejectOutsideTable` is false; lens-model errors.
    public func draw(index: Int, seed: UInt64) throws -> Draw {
        let eta = hyperparameters, sv = survey
        var rng = RandomSource(seed: seed, stream: UInt64(index))
        // A fixed number of deviates up front, so every η uses the same ones for the same draw.
        let n = (0..<8).map { _ in rng.normal() }
        let u = (0..<4).map { _ in rng.uniform() }
        let logMsps = eta.logMspsMean + eta.logMspsSigma * n[0]
        let logRe = eta.meanLogEffectiveRadius(logMsps: logMsps) + eta.sizeScatter * n[1]
        let logMh = eta.meanLogHaloMass(logMsps: logMsps) + eta.haloScatter * n[2]
        let g1 = sv.shearSigma * n[3], g2 = sv.shearSigma * n[4]
        let logFs = sv.logSourceFluxMean + sv.logSourceFluxSigma * n[5]
        let zl = sv.lensRedshiftRange.lowerBound + u[0] * (sv.lensRedshiftRange.upperBound - sv.lensRedshiftRange.lowerBound)
        let zs = sv.sourceRedshiftRange.lowerBound + u[1] * (sv.sourceRedshiftRange.upperBound - sv.sourceRedshiftRange.lowerBound)
        let r = sv.sourceRadius * u[2].squareRoot(), phi = 2 * Double.pi * u[3]
        let params = LensParameters(logHaloMass: logMh, shear1: g1, shear2: g2, sourceX: r * Double.cos(phi),
                                    sourceY: r * Double.sin(phi), logSourceFlux: logFs)
        let id = "lens-\(index)"
        let galaxy = try LensGalaxy(lensRedshift: zl, sourceRedshift: zs, stellarMassSPS: Double.exp10(logMsps),
                                    alphaSPS: eta.alphaSPS, effectiveRadiusKpc: Double.exp10(logRe),
                                    haloMass: Double.exp10(logMh), shear1: g1, shear2: g2, cosmology: cosmology)
        let solved = Result { () throws(StrongLensingError) -> [LensImage] in
            try galaxy.images(sourceX: params.sourceX, sourceY: params.sourceY, solver: solver)
        }
        let all: [LensImage]
        switch solved {
        case .success(let images): all = images
        case .failure(.inconsistentImages): return .notSelected  // a source on a caustic to the solver's resolution
        case .failure(.noSolution):
            throw LensInferenceError.invalidLens(lens: id, reason: "no solution: the solver finds no image of the source at (\(params.sourceX), \(params.sourceY)) arcsec")
        case .failure(let e): throw e
        }
        let visible = all.filter { $0.kind != .maximum }
        guard visible.count >= 2 else { return .notSelected }
        guard let (observed, trueImages) = try observe(visible, sourceFlux: Double.exp10(logFs), lens: id, rng: &rng) else {
            return .outsideTable
        }
        guard observed.allSatisfy({ $0.flux >= sv.fluxLimit }) else { return .notSelected }
        var separation = 0.0
        for a in observed.indices { for b in observed.indices where b > a {
            separation = max(separation, ((observed[a].x - observed[b].x) * (observed[a].x - observed[b].x)
                                          + (observed[a].y - observed[b].y) * (observed[a].y - observed[b].y)).squareRoot())
        } }
        guard separation >= sv.minSeparation else { return .notSelected }
        return .selected(MockLens(id: id, lensRedshift: zl, sourceRedshift: zs, logMsps: logMsps, logEffectiveRadius: logRe,
                                  images: observed,
                                  truth: .init(parameters: params, alphaSPS: eta.alphaSPS, images: trueImages)))
    }

    /// What the survey records of a lens's non-central images `visible` for a source of flux `sourceFlux`: each
    /// image's flux microlensed by a factor drawn from the table at its (κ, |γ|, s, source size), then its position
    /// and flux with Gaussian errors (`SurveySettings.observedFlux`: σ_F from the flux without microlensing), and the
    /// truth of each image. No selection is applied. nil where an image is outside the table and the survey rejects
    /// such lenses.
    /// - Throws: `.outsideTable` naming the lens and image when `rejectOutsideTable` is false.
    public func observe(_ visible: [LensImage], sourceFlux: Double, lens id: String, rng: inout RandomSource) throws
        -> (observed: [ObservedImage], truth: [MockLens.TrueImage])? {
        let sv = survey
        var observed: [ObservedImage] = [], trueImages: [MockLens.TrueImage] = []
        for (i, img) in visible.enumerated() {
            let gamma = (img.gamma1 * img.gamma1 + img.gamma2 * img.gamma2).squareRoot()
            let queried = Result { () throws(LensInferenceError) -> MicrolensedFlux.ImagePDF in
                try microlensing.pdf(kappa: img.kappa, gamma: gamma, s: img.smoothFraction,
                                     sourceSize: sv.sourceSize, lens: id, image: i)
            }
            let pdf: MicrolensedFlux.ImagePDF
            switch queried {
            case .success(let p): pdf = p
            case .failure(let e):
                if sv.rejectOutsideTable { return nil }
                throw e
            }
            let factor = MicrolensedFlux.drawFactor(pdf, rng: &rng)
            let x = img.x + sv.positionError * rng.normal(), y = img.y + sv.positionError * rng.normal()
            let flux = sv.observedFlux(macroFlux: sourceFlux * abs(img.magnification), microlensingFactor: factor, rng: &rng)
            observed.append(ObservedImage(x: x, y: y, positionError: sv.positionError, flux: flux.flux, fluxError: flux.error))
            trueImages.append(.init(x: img.x, y: img.y, kappa: img.kappa, gamma: gamma, smoothFraction: img.smoothFraction,
                                    macroMagnification: img.magnification, microlensingFactor: factor,
                                    parity: img.parity, timeDelayDays: img.timeDelayDays ?? .nan))
        }
        return (observed, trueImages)
    }

    /// The images the lens model of `lens` (its data and true parameters, η's α_sps) gives now, for checking a
    /// catalog read back or edited by hand.
    /// - Throws: `.invalidLens` naming the lens when there is no multiple-image solution (fewer than two
    ///   non-central images, or the solver finds none), with the source position and the count found.
    public func solve(_ lens: MockLens) throws -> [LensImage] {
        let p = lens.truth.parameters
        let galaxy = try LensGalaxy(lensRedshift: lens.lensRedshift, sourceRedshift: lens.sourceRedshift,
                                    stellarMassSPS: Double.exp10(lens.logMsps), alphaSPS: lens.truth.alphaSPS,
                                    effectiveRadiusKpc: Double.exp10(lens.logEffectiveRadius),
                                    haloMass: Double.exp10(p.logHaloMass), shear1: p.shear1, shear2: p.shear2, cosmology: cosmology)
        let solved = Result { () throws(StrongLensingError) -> [LensImage] in
            try galaxy.images(sourceX: p.sourceX, sourceY: p.sourceY, solver: solver)
        }
        let images: [LensImage]
        switch solved {
        case .success(let found): images = found
        case .failure(.noSolution):
            throw LensInferenceError.invalidLens(lens: lens.id, reason: "no solution: the solver finds no image of the source at (\(p.sourceX), \(p.sourceY)) arcsec")
        case .failure(let e): throw e
        }
        let visible = images.filter { $0.kind != .maximum }
        guard visible.count >= 2 else {
            throw LensInferenceError.invalidLens(
                lens: lens.id, reason: "no multiple-image solution: the source at (\(p.sourceX), \(p.sourceY)) arcsec has \(visible.count) "
                    + "non-central image(s) (log M_h = \(p.logHaloMass), z_l = \(lens.lensRedshift), z_s = \(lens.sourceRedshift)); "
                    + "the catalog lists \(lens.images.count)")
        }
        return visible
    }

    /// Draws until `count` lenses are selected (or `maxDraws` draws were made, which throws).
    public func catalog(count: Int, seed: UInt64, maxDraws: Int = 1_000_000) throws -> MockLensCatalog {
        var lenses: [MockLens] = [], drawn = 0, outside = 0
        while lenses.count < count {
            guard drawn < maxDraws else {
                throw LensInferenceError.invalidParameter(name: "maxDraws", value: Double(maxDraws),
                                                          allowed: "enough draws to select \(count) lenses (got \(lenses.count))")
            }
            switch try draw(index: drawn, seed: seed) {
            case .selected(let lens): lenses.append(lens)
            case .notSelected: break
            case .outsideTable: outside += 1
            }
            drawn += 1
        }
        return MockLensCatalog(hyperparameters: hyperparameters, survey: survey, seed: seed, drawn: drawn,
                               rejectedOutsideTable: outside, lenses: lenses)
    }
}
