import Foundation
import SceneFitting
import SceneModel
import TesseraRun

/// Configuration of `tessera optimize` and `tessera sample` (one file serves both; the command
/// picks the mode). Units: radii in arcsec, angles in radians.
public struct SceneFitConfiguration: Configuration, Equatable {
    public var catalog = "catalog.fits"
    public var pixelStore = "pixels.h5"
    public var psfStore = "psf.h5"
    public var bands: [String] = []
    public var targetIterations = 200
    public var drawsPerPatch = 100
    public var warmup = 150
    public var maxTreeDepth = 8
    public var targetAcceptance = 0.8
    public var denseMetric = true
    public var adaptMetric = true
    public var optimizerIterations = 300
    public var activeRadius = 0.5
    public var fixedRadius = 1.5
    public var roi = 1.0
    public var maxActive = 4
    public var sersicRange: [Double] = [0.8, 6]
    public var qRange: [Double] = [0.2, 1]
    public var rhalfRange: [Double] = [0.03, 1.5]
    public var positionHalfWidth = 0.5
    public var seed: UInt64 = 1
    public var maxAttempts = 2
    public var sersicTable: String?
    public var fluxColumn = "{band}"
    public var rhalfConvention = RHalfConvention.major
    public var passes = ScenePasses()
    /// Prior on r_half inside `rhalf_range`: "log_uniform" (default) or "uniform".
    public var rhalfPrior = "log_uniform"
    /// Fluxes are bounded below at −k σ_F (`ParameterBounds.fluxFloorSigmas`); 0: unbounded.
    public var fluxFloorSigmas = 5.0
    /// Sampling: the coordinates of each galaxy's (q, pa) (`PatchPosterior.ShapeCoordinates`).
    public var sampleShapeCoordinates = PatchPosterior.ShapeCoordinates.ellipticity
    /// Sampling: the scene kernel's arithmetic during NUTS (`SceneKernel.Precision`). Single by default: on the
    /// crowded GalSim scene's patches it halved NUTS's wall time (2.4× per gradient) at the same gradient
    /// evaluations per iteration and no divergences (README, issue 16).
    public var samplePrecision = SceneKernel.Precision.single
    /// Sampling: the kernel's footprint budget τ during NUTS (`SceneKernel.footprintTolerance`); 0: the exact cut.
    public var sampleFootprintTolerance = FitSettings.defaultSamplingFootprintTolerance
    /// Sampling: extend a patch's chain (thinned back to draws_per_patch rows) until every parameter has this ESS and
    /// R̂ ≤ 1.05 (`FitSettings.minESS`); 0, the default: exactly draws_per_patch transitions.
    public var minESS = 0.0
    /// Sampling: at most this many transitions per kept draw when extending for min_ess.
    public var maxThinning = 4
    /// A galaxy's fitted pixels: radius max(roi, roi_rhalf_multiple × its current r_half), at most roi_max arcsec
    /// (`SuperScene.roiRHalfMultiple`); 0: roi alone.
    public var roiRHalfMultiple = 0.0
    public var roiMax = 3.0
    /// Regions in flight may hold fixed a source another region is fitting, at its last checked-in values
    /// (`SuperScene.staleNeighbours`).
    public var staleNeighbours = false
    /// How far a source's light is modelled in other sources' regions: 0 (default) the fixed 8 r_half + 0.5″; > 0
    /// the distance at which its model falls below this fraction of the per-pixel noise (`NoiseLightReach`), capped by it.
    public var reachNoiseFraction = 0.0
    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case catalog, pixelStore = "pixel_store", psfStore = "psf_store", bands
        case targetIterations = "target_iterations", drawsPerPatch = "draws_per_patch", warmup
        case maxTreeDepth = "max_tree_depth", targetAcceptance = "target_acceptance", denseMetric = "dense_metric"
        case adaptMetric = "adapt_metric"
        case optimizerIterations = "optimizer_iterations", activeRadius = "active_radius", fixedRadius = "fixed_radius"
        case roi, maxActive = "max_active", sersicRange = "sersic_range", qRange = "q_range", rhalfRange = "rhalf_range"
        case positionHalfWidth = "position_half_width", seed, maxAttempts = "max_attempts", sersicTable = "sersic_table"
        case fluxColumn = "flux_column", rhalfConvention = "rhalf_convention"
        case passes
        case rhalfPrior = "rhalf_prior"
        case fluxFloorSigmas = "flux_floor_sigmas"
        case sampleShapeCoordinates = "sample_shape_coordinates"
        case samplePrecision = "sample_precision", sampleFootprintTolerance = "sample_footprint_tolerance"
        case minESS = "min_ess", maxThinning = "max_thinning"
        case roiRHalfMultiple = "roi_rhalf_multiple", roiMax = "roi_max", staleNeighbours = "stale_neighbours"
        case reachNoiseFraction = "reach_noise_fraction"
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .catalog: return "Input catalog (FITS table: id, ra, dec, q, pa, sersic, rhalf, one flux column per band; optional is_point, roi)."
        case .pixelStore: return "Pixel store written by `tessera preprocess`."
        case .psfStore: return "PSF store (HDF5, one group per band; `tessera fit-psf` or `tessera mock-scene` write it)."
        case .bands: return "Bands to fit, in the order of the output flux columns (required)."
        case .targetIterations: return "Sampling: kept NUTS draws every source must receive (a multiple of draws_per_patch)."
        case .drawsPerPatch: return "Sampling: kept draws per patch check-out."
        case .warmup: return "Sampling: NUTS warm-up iterations per patch (adaptation, not kept)."
        case .maxTreeDepth: return "Sampling: NUTS maximum tree depth."
        case .targetAcceptance: return "Sampling: dual-averaging target acceptance statistic."
        case .denseMetric: return "Sampling: dense (true) or diagonal (false) mass matrix."
        case .adaptMetric: return "Sampling: re-estimate the mass matrix during warm-up (Stan's windows), or false: keep the starting metric (the source's covariance from its previous pass, else the Laplace covariance) and adapt only the step size."
        case .optimizerIterations: return "L-BFGS iterations per patch (optimize, and first sampling patch of a source)."
        case .activeRadius: return "Sources within this distance (arcsec) of a region's seed source are fitted together."
        case .fixedRadius: return "Sources within this distance (arcsec) of an active source are held fixed and subtracted; so is every source whose light reaches the active source's roi (distance <= roi + 8 r_half + 0.5 arcsec)."
        case .roi: return "Default radius (arcsec) of the pixels fitted around each source (catalog column roi overrides)."
        case .maxActive: return "Most active sources per region."
        case .sersicRange: return "Bounds on the Sérsic index n."
        case .qRange: return "Bounds on the axis ratio q = b/a."
        case .rhalfRange: return "Bounds on the half-light radius (arcsec)."
        case .positionHalfWidth: return "Position bound: ± this many arcsec about the catalog position."
        case .seed: return "Base random seed; patch k samples with stream k."
        case .maxAttempts: return "Attempts per region before its active sources are flagged and left at their values."
        case .sersicTable: return "Sérsic mixture table (default: the bundled one from `tessera sersic-table`)."
        case .fluxColumn: return "Input catalog flux column per band: a pattern with {band}, e.g. flux_{band} reads flux_F200W (default {band}: the band's name). Output catalogs use the band's name."
        case .passes: return "Optimize: passes over the whole scene, each source refitted with its neighbours at their latest values (ngmixer's MOF loop).\n"
            + "min/max: fewest and most passes. After a pass a source is converged when every parameter moved by at most maxabs (its unit),\n"
            + "OR at most maxfrac relative to its previous value, OR at most maxerr of its error (positions as arcsec on the sky);\n"
            + "a source is refitted while it or a neighbour within fixed_radius is not converged. fluxes_first (default true): the first pass fits fluxes only,\n"
            + "positions and shapes held, so that neighbours are subtracted with right fluxes before shapes are fitted (min is then at least 2).\n"
            + "Sampling's passes are target_iterations / draws_per_patch."
        case .rhalfPrior: return "Prior on r_half inside rhalf_range: log_uniform (p ∝ 1/r_half, the default: a size is a scale parameter) or uniform."
        case .fluxFloorSigmas: return "Lower bound on every flux, in units of that flux's noise sigma at the patch's start: flux > -k sigma (default 5). It closes the ridge on which two overlapping galaxies take fluxes +F and -F; 0: no bound."
        case .sampleShapeCoordinates: return "Sampling: how NUTS moves in each galaxy's axis ratio and position angle. ellipticity (default): one point of the plane per galaxy, |g| = (1 - q)/(1 + q) at angle 2 pa, with the same flat prior in q and pa; round and small galaxies then mix far better than in q_pa (q and pa each in its own interval, where pa wanders freely as q -> 1). Optimize always uses q_pa."
        case .samplePrecision: return "Sampling: the scene kernel's arithmetic during NUTS. single (default): the pixel loop in float on 8 lanes, 1.8-2.4x faster per gradient on these machines; ln L within 0.05 and gradients within 1e-3 relative for models up to ~1e4 sigma per pixel (README, Scene fitting); double: every pair in double precision. Optimize, the Laplace errors and reported ln L always use double."
        case .sampleFootprintTolerance: return "Sampling: the scene kernel's footprint budget tau during NUTS (default 0.01): each Gaussian is evaluated only where it can still matter against the pixel noise, with the noise-weighted model error of the whole patch at most tau (moves no parameter by more than tau of its standard error; SceneKernel, README). 0: every Gaussian out to exp(-37) of its peak. Optimize and the Laplace errors always use the exact cut."
        case .minESS: return "Sampling: extend each patch's chain after warm-up until every parameter's ESS is at least this and its split R-hat at most 1.05, thinning the k x draws_per_patch transitions to every k-th so that draws_per_patch rows are kept (0, the default: exactly draws_per_patch transitions). Only the slow patches pay; the run's log names sources still short after max_thinning. Must not exceed draws_per_patch."
        case .maxThinning: return "Sampling: the most transitions per kept draw when extending a chain for min_ess (default 4: a patch costs at most 4x its draws)."
        case .roiRHalfMultiple: return "Fitted pixels that follow each galaxy's size: a region's pixels lie within max(roi, roi_rhalf_multiple x the galaxy's current r_half) arcsec of each active galaxy, at most roi_max (0, the default: roi alone). With a fixed roi a large galaxy's wings fall on its neighbours' pixels, which take its light up."
        case .roiMax: return "Largest region-of-interest radius (arcsec) that roi_rhalf_multiple may give (default 3)."
        case .staleNeighbours: return "Let regions in flight overlap (default false): a region may hold fixed a source that another worker is fitting, at its last checked-in values. In crowded fields, where every region holds most other sources fixed, the strict rule leaves all but one worker idle."
        case .reachNoiseFraction: return "Which neighbours a region holds fixed: 0 (default) every source within fixed_radius, or whose light reaches the region's pixels by the fixed rule 8 r_half + 0.5 arcsec; > 0: the light reaches only as far as its PSF-convolved model still puts this fraction of the band's per-pixel noise (combined over exposures) into a pixel (e.g. 0.003), never farther than the fixed rule. Faint sources then reach less far, so more regions can be fitted at once in crowded fields."
        case .rhalfConvention: return "What the input catalog's rhalf holds: major (half-light radius along the major axis, the default) or circularized (r_circ = r_major·sqrt(q), converted to r_major = r_circ/sqrt(q)). Output catalogs give the major axis."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        catalog = try c.decodeIfPresent(String.self, forKey: .catalog) ?? d.catalog
        pixelStore = try c.decodeIfPresent(String.self, forKey: .pixelStore) ?? d.pixelStore
        psfStore = try c.decodeIfPresent(String.self, forKey: .psfStore) ?? d.psfStore
        bands = try c.decodeIfPresent([String].self, forKey: .bands) ?? d.bands
        targetIterations = try c.decodeIfPresent(Int.self, forKey: .targetIterations) ?? d.targetIterations
        drawsPerPatch = try c.decodeIfPresent(Int.self, forKey: .drawsPerPatch) ?? d.drawsPerPatch
        warmup = try c.decodeIfPresent(Int.self, forKey: .warmup) ?? d.warmup
        maxTreeDepth = try c.decodeIfPresent(Int.self, forKey: .maxTreeDepth) ?? d.maxTreeDepth
        targetAcceptance = try c.decodeIfPresent(Double.self, forKey: .targetAcceptance) ?? d.targetAcceptance
        denseMetric = try c.decodeIfPresent(Bool.self, forKey: .denseMetric) ?? d.denseMetric
        optimizerIterations = try c.decodeIfPresent(Int.self, forKey: .optimizerIterations) ?? d.optimizerIterations
        adaptMetric = try c.decodeIfPresent(Bool.self, forKey: .adaptMetric) ?? d.adaptMetric
        activeRadius = try c.decodeIfPresent(Double.self, forKey: .activeRadius) ?? d.activeRadius
        fixedRadius = try c.decodeIfPresent(Double.self, forKey: .fixedRadius) ?? d.fixedRadius
        roi = try c.decodeIfPresent(Double.self, forKey: .roi) ?? d.roi
        maxActive = try c.decodeIfPresent(Int.self, forKey: .maxActive) ?? d.maxActive
        sersicRange = try c.decodeIfPresent([Double].self, forKey: .sersicRange) ?? d.sersicRange
        qRange = try c.decodeIfPresent([Double].self, forKey: .qRange) ?? d.qRange
        rhalfRange = try c.decodeIfPresent([Double].self, forKey: .rhalfRange) ?? d.rhalfRange
        positionHalfWidth = try c.decodeIfPresent(Double.self, forKey: .positionHalfWidth) ?? d.positionHalfWidth
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
        sersicTable = try c.decodeIfPresent(String.self, forKey: .sersicTable)
        fluxColumn = try c.decodeIfPresent(String.self, forKey: .fluxColumn) ?? d.fluxColumn
        if let text = try c.decodeIfPresent(String.self, forKey: .rhalfConvention) {
            guard let v = RHalfConvention(rawValue: text) else {
                throw InvalidConfigValue(field: "rhalf_convention", reason: "must be major or circularized, got '\(text)'")
            }
            rhalfConvention = v
        }
        passes = try c.decodeIfPresent(ScenePasses.self, forKey: .passes) ?? d.passes
        rhalfPrior = try c.decodeIfPresent(String.self, forKey: .rhalfPrior) ?? d.rhalfPrior
        fluxFloorSigmas = try c.decodeIfPresent(Double.self, forKey: .fluxFloorSigmas) ?? d.fluxFloorSigmas
        if let text = try c.decodeIfPresent(String.self, forKey: .sampleShapeCoordinates) {
            guard let v = PatchPosterior.ShapeCoordinates(rawValue: text) else {
                throw InvalidConfigValue(field: "sample_shape_coordinates", reason: "must be ellipticity or q_pa, got '\(text)'")
            }
            sampleShapeCoordinates = v
        }
        if let text = try c.decodeIfPresent(String.self, forKey: .samplePrecision) {
            guard let v = SceneKernel.Precision(rawValue: text) else {
                throw InvalidConfigValue(field: "sample_precision", reason: "must be double or single, got '\(text)'")
            }
            samplePrecision = v
        }
        sampleFootprintTolerance = try c.decodeIfPresent(Double.self, forKey: .sampleFootprintTolerance) ?? d.sampleFootprintTolerance
        guard sampleFootprintTolerance.isFinite, sampleFootprintTolerance >= 0, sampleFootprintTolerance < 1 else {
            throw InvalidConfigValue(field: "sample_footprint_tolerance", reason: "must be in [0, 1), got \(sampleFootprintTolerance)")
        }
        minESS = try c.decodeIfPresent(Double.self, forKey: .minESS) ?? d.minESS
        maxThinning = try c.decodeIfPresent(Int.self, forKey: .maxThinning) ?? d.maxThinning
        roiRHalfMultiple = try c.decodeIfPresent(Double.self, forKey: .roiRHalfMultiple) ?? d.roiRHalfMultiple
        staleNeighbours = try c.decodeIfPresent(Bool.self, forKey: .staleNeighbours) ?? d.staleNeighbours
        roiMax = try c.decodeIfPresent(Double.self, forKey: .roiMax) ?? d.roiMax
        reachNoiseFraction = try c.decodeIfPresent(Double.self, forKey: .reachNoiseFraction) ?? d.reachNoiseFraction
    }

    public func validate() throws {
        if bands.isEmpty { throw InvalidConfigValue(field: "bands", reason: "list the bands to fit, e.g. [F150W, F200W]") }
        if Set(bands).count != bands.count { throw InvalidConfigValue(field: "bands", reason: "a band is listed twice") }
        if drawsPerPatch < 1 { throw InvalidConfigValue(field: "draws_per_patch", reason: "must be >= 1") }
        if targetIterations < drawsPerPatch || targetIterations % drawsPerPatch != 0 {
            throw InvalidConfigValue(field: "target_iterations", reason: "must be a positive multiple of draws_per_patch (\(drawsPerPatch))")
        }
        if warmup < 0 { throw InvalidConfigValue(field: "warmup", reason: "must be >= 0") }
        if !(1...15).contains(maxTreeDepth) { throw InvalidConfigValue(field: "max_tree_depth", reason: "must be in 1...15") }
        if !(targetAcceptance > 0 && targetAcceptance < 1) { throw InvalidConfigValue(field: "target_acceptance", reason: "must be in (0, 1)") }
        if activeRadius < 0 || fixedRadius < activeRadius {
            throw InvalidConfigValue(field: "fixed_radius", reason: "need 0 <= active_radius <= fixed_radius")
        }
        if roi <= 0 { throw InvalidConfigValue(field: "roi", reason: "must be > 0 arcsec") }
        if maxActive < 1 { throw InvalidConfigValue(field: "max_active", reason: "must be >= 1") }
        for (k, r) in [("sersic_range", sersicRange), ("q_range", qRange), ("rhalf_range", rhalfRange)] {
            guard r.count == 2, r[0] < r[1], r[0] > 0 else { throw InvalidConfigValue(field: k, reason: "must be [low, high] with 0 < low < high") }
        }
        if qRange[1] > 1 { throw InvalidConfigValue(field: "q_range", reason: "q cannot exceed 1") }
        if positionHalfWidth <= 0 { throw InvalidConfigValue(field: "position_half_width", reason: "must be > 0 arcsec") }
        if maxAttempts < 1 { throw InvalidConfigValue(field: "max_attempts", reason: "must be >= 1") }
        try passes.validate()
        if !["log_uniform", "uniform"].contains(rhalfPrior) {
            throw InvalidConfigValue(field: "rhalf_prior", reason: "must be log_uniform or uniform, got '\(rhalfPrior)'")
        }
        if !(fluxFloorSigmas >= 0 && fluxFloorSigmas.isFinite) {
            throw InvalidConfigValue(field: "flux_floor_sigmas", reason: "must be >= 0 (0: no floor)")
        }
        if !(minESS >= 0 && minESS <= Double(drawsPerPatch)) {
            throw InvalidConfigValue(field: "min_ess", reason: "must be in 0...draws_per_patch (\(drawsPerPatch)); 0: off")
        }
        if maxThinning < 1 { throw InvalidConfigValue(field: "max_thinning", reason: "must be >= 1") }
        if !(roiRHalfMultiple >= 0 && roiRHalfMultiple.isFinite) {
            throw InvalidConfigValue(field: "roi_rhalf_multiple", reason: "must be >= 0 (0: roi alone)")
        }
        if !(reachNoiseFraction >= 0 && reachNoiseFraction.isFinite) {
            throw InvalidConfigValue(field: "reach_noise_fraction", reason: "must be >= 0 (0: the fixed 8 r_half + 0.5 arcsec)")
        }
        if roiRHalfMultiple > 0 && !(roiMax >= roi && roiMax.isFinite) {
            throw InvalidConfigValue(field: "roi_max", reason: "must be >= roi (\(roi) arcsec) when roi_rhalf_multiple is set")
        }
        if !fluxColumn.contains("{band}") { throw InvalidConfigValue(field: "flux_column", reason: "must contain {band}, e.g. flux_{band}") }
    }

    /// The Sérsic mixture table `sersic_table` names, or the bundled one.
    public func sersicMixture() throws -> SersicMixture {
        try sersicTable.map { try SersicMixture.load(contentsOf: URL(fileURLWithPath: $0)) } ?? SersicMixture.bundled()
    }

    public var bounds: ParameterBounds {
        var b = ParameterBounds()
        b.sersic = sersicRange[0]...sersicRange[1]
        b.q = qRange[0]...qRange[1]
        b.rhalf = rhalfRange[0]...rhalfRange[1]
        b.positionHalfWidth = positionHalfWidth
        b.rhalfLogUniform = rhalfPrior == "log_uniform"
        b.fluxFloorSigmas = fluxFloorSigmas > 0 ? fluxFloorSigmas : nil
        return b
    }

    public func fitSettings(mode: FitSettings.Mode) -> FitSettings {
        var s = FitSettings()
        s.mode = mode
        s.warmup = warmup
        s.draws = drawsPerPatch
        s.maxTreeDepth = maxTreeDepth
        s.targetAcceptance = targetAcceptance
        s.denseMetric = denseMetric
        s.optimizerIterations = optimizerIterations
        s.adaptMetric = adaptMetric
        s.shapeCoordinates = mode == .sample ? sampleShapeCoordinates : .axisRatioAngle
        s.samplingPrecision = samplePrecision
        s.samplingFootprintTolerance = sampleFootprintTolerance
        s.minESS = mode == .sample ? minESS : 0
        s.maxThinning = maxThinning
        return s
    }
}
