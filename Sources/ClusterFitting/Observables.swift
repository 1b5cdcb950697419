import Foundation
import HaloProfiles
import TesseraLinAlg

/// Errors thrown by the `ClusterFitting` module. Every case names the offending field.
public enum ClusterFittingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// An array that must not be empty was empty.
    case empty(field: String)
    /// Two arrays that must have the same length do not.
    case lengthMismatch(field: String, expected: Int, got: Int)
    /// An element was NaN or infinite.
    case notFinite(field: String, index: Int, value: Double)
    /// An element that must be > 0 (an error, a radius) was ≤ 0.
    case nonPositive(field: String, index: Int, value: Double)
    /// A covariance matrix is not symmetric positive definite.
    case covarianceNotPositiveDefinite(field: String)
    /// The source redshift is not strictly beyond the lens redshift.
    case sourceNotBehindLens(zLens: Double, zSource: Double)
    /// Any other invalid argument.
    case invalidArgument(field: String, reason: String)

    public var description: String {
        switch self {
        case let .empty(f): return "ClusterFittingError: '\(f)' must not be empty"
        case let .lengthMismatch(f, e, g): return "ClusterFittingError: '\(f)' has length \(g), expected \(e)"
        case let .notFinite(f, i, v): return "ClusterFittingError: '\(f)[\(i)]' must be finite (got \(v))"
        case let .nonPositive(f, i, v): return "ClusterFittingError: '\(f)[\(i)]' must be > 0 (got \(v))"
        case let .covarianceNotPositiveDefinite(f):
            return "ClusterFittingError: '\(f)' is not symmetric positive definite"
        case let .sourceNotBehindLens(zl, zs):
            return "ClusterFittingError: 'sourceRedshift' (\(zs)) must be greater than the lens redshift (\(zl))"
        case let .invalidArgument(f, r): return "ClusterFittingError: '\(f)': \(r)"
        }
    }

    /// Name of the offending field.
    public var field: String {
        switch self {
        case let .empty(f), let .lengthMismatch(f, _, _), let .notFinite(f, _, _), let .nonPositive(f, _, _),
             let .covarianceNotPositiveDefinite(f), let .invalidArgument(f, _): return f
        case .sourceNotBehindLens: return "sourceRedshift"
        }
    }
}


/// Where the lensed background sources lie, for the observables that depend on Σ_crit
/// (γ_t, g_t, κ).
///
/// With β = D_ls/D_s (0 for sources in front of the lens) and Σ_crit,∞ = c²/(4πG D_l), a sample
/// has an effective critical density Σ_crit,eff = Σ_crit,∞/⟨β⟩, so that γ_t = ΔΣ/Σ_crit,eff and
/// κ = Σ/Σ_crit,eff exactly (both are linear in β), and the reduced shear is, to second order in κ
/// (Seitz & Schneider 1997; CLMM's "applegate14" approximation),
/// g_t = γ_t / (1 − (⟨β²⟩/⟨β⟩²) κ). For one source plane ⟨β²⟩ = ⟨β⟩², which gives the exact
/// g_t = γ_t/(1 − κ).
public enum SourceSample: Sendable, Equatable {
    /// Every source at redshift z_s (must lie behind the lens).
    case redshift(Double)
    /// A source population given by ⟨β⟩ and ⟨β²⟩ (as `Cosmology.meanBeta` computes them),
    /// with 0 < ⟨β⟩ ≤ 1 and ⟨β⟩² ≤ ⟨β²⟩ ≤ ⟨β⟩.
    case betaMoments(beta: Double, betaSquared: Double)

    /// Checks the numbers alone (the lens redshift is checked by `efficiency`).
    func validate() throws(ClusterFittingError) {
        switch self {
        case let .redshift(zs):
            guard zs.isFinite else { throw .notFinite(field: "sourceRedshift", index: 0, value: zs) }
            guard zs > 0 else { throw .nonPositive(field: "sourceRedshift", index: 0, value: zs) }
        case let .betaMoments(b, b2):
            guard b.isFinite else { throw .notFinite(field: "beta", index: 0, value: b) }
            guard b > 0, b <= 1 else { throw .invalidArgument(field: "beta", reason: "⟨β⟩ must be in (0, 1] (got \(b))") }
            guard b2.isFinite else { throw .notFinite(field: "betaSquared", index: 0, value: b2) }
            guard b2 >= b * b * (1 - 1e-9), b2 <= b * (1 + 1e-9) else {
                throw .invalidArgument(field: "betaSquared", reason: "⟨β²⟩ must lie in [⟨β⟩², ⟨β⟩] = [\(b * b), \(b)] (got \(b2))")
            }
        }
    }

    /// The effective critical density and ⟨β²⟩/⟨β⟩² for a lens at `zLens`.
    /// - Throws: `.sourceNotBehindLens` when the source redshift is not beyond the lens.
    public func efficiency(zLens: Double, cosmology: Cosmology) throws -> LensingEfficiency {
        try validate()
        switch self {
        case let .redshift(zs):
            guard zs > zLens else { throw ClusterFittingError.sourceNotBehindLens(zLens: zLens, zSource: zs) }
            return LensingEfficiency(criticalSurfaceDensity: try cosmology.criticalSurfaceDensity(zLens: zLens, zSource: zs),
                                     betaRatio: 1)
        case let .betaMoments(b, b2):
            return LensingEfficiency(criticalSurfaceDensity: try cosmology.criticalSurfaceDensityInfinity(zLens: zLens) / b,
                                     betaRatio: b2 / (b * b))
        }
    }
}

/// Σ_crit,eff [M☉/Mpc², physical] and ⟨β²⟩/⟨β⟩² of a source sample behind one lens (see `SourceSample`).
public struct LensingEfficiency: Sendable, Equatable {
    public let criticalSurfaceDensity: Double
    public let betaRatio: Double
    public init(criticalSurfaceDensity: Double, betaRatio: Double) {
        self.criticalSurfaceDensity = criticalSurfaceDensity
        self.betaRatio = betaRatio
    }
}

/// The pixel grid of a κ or projected-mass map, centred on the halo.
///
/// Pixels are stored x fastest (`index = y · width + x`, the FITS NAXIS1 order and the HDF5
/// [height, width] row-major order). Pixel (x, y), 0-based, has its centre at pixel coordinates
/// (x, y); the halo centre is at (`centreX`, `centreY`) in the same coordinates (it may fall
/// anywhere, e.g. (width−1)/2 for the middle of the grid). A pixel's projected radius is
/// R = `pixelScale` · √((x − centreX)² + (y − centreY)²) in physical Mpc at the lens.
///
/// Model choice: each used pixel is compared with the profile evaluated at its centre's R (no
/// sub-pixel or radial-bin averaging): maps made by averaging over pixels should be built at a
/// resolution where Σ varies little across a pixel, or the central pixels masked. Pixels excluded
/// from the fit: those with `mask[i] == true` and those with R ≤ `minimumRadius` (R = 0 is always
/// excluded: Σ of a cuspy profile diverges there).
public struct MapGeometry: Sendable, Equatable {
    /// Pixels along x (FITS NAXIS1) and y (NAXIS2).
    public let width: Int
    public let height: Int
    /// Pixel side [physical Mpc at the lens redshift].
    public let pixelScale: Double
    /// Halo centre [pixels, 0-based, pixel centres at integers].
    public let centreX: Double
    public let centreY: Double
    /// Pixels closer to the centre than this [physical Mpc] are not fitted (≥ 0).
    public let minimumRadius: Double
    /// `true` marks a pixel excluded from the fit (width · height entries), or nil for none.
    public let mask: [Bool]?

    public init(width: Int, height: Int, pixelScale: Double, centreX: Double? = nil, centreY: Double? = nil,
                minimumRadius: Double = 0, mask: [Bool]? = nil) throws(ClusterFittingError) {
        guard width > 0 else { throw .invalidArgument(field: "width", reason: "must be > 0 (got \(width))") }
        guard height > 0 else { throw .invalidArgument(field: "height", reason: "must be > 0 (got \(height))") }
        guard pixelScale.isFinite else { throw .notFinite(field: "pixelScale", index: 0, value: pixelScale) }
        guard pixelScale > 0 else { throw .nonPositive(field: "pixelScale", index: 0, value: pixelScale) }
        let cx = centreX ?? Double(width - 1) / 2, cy = centreY ?? Double(height - 1) / 2
        guard cx.isFinite else { throw .notFinite(field: "centreX", index: 0, value: cx) }
        guard cy.isFinite else { throw .notFinite(field: "centreY", index: 0, value: cy) }
        guard minimumRadius.isFinite, minimumRadius >= 0 else {
            throw .invalidArgument(field: "minimumRadius", reason: "must be finite and ≥ 0 (got \(minimumRadius))")
        }
        if let mask, mask.count != width * height {
            throw .lengthMismatch(field: "mask", expected: width * height, got: mask.count)
        }
        self.width = width
        self.height = height
        self.pixelScale = pixelScale
        self.centreX = cx
        self.centreY = cy
        self.minimumRadius = minimumRadius
        self.mask = mask
    }

    public var pixelCount: Int { width * height }

    /// Projected radius of pixel `index`'s centre [physical Mpc].
    public func radius(ofPixel index: Int) -> Double {
        let dx = Double(index % width) - centreX, dy = Double(index / width) - centreY
        return pixelScale * (dx * dx + dy * dy).squareRoot()
    }

    /// Indices of the pixels that enter the fit (not masked, R > minimumRadius, R > 0).
    public var usedPixels: [Int] {
        (0..<pixelCount).filter { i in
            if let mask, mask[i] { return false }
            let r = radius(ofPixel: i)
            return r > 0 && r > minimumRadius
        }
    }
}

/// One measured weak-lensing observable of one halo: a radial profile (ΔΣ, γ_t or g_t) or a map
/// (κ or Σ) whose used pixels act as data points at their projected radii.
///
/// Units: radii in physical (proper) Mpc; ΔΣ and Σ in M☉/Mpc² (covariance in (M☉/Mpc²)²);
/// γ_t, g_t and κ are dimensionless. The noise is Gaussian: a full covariance, or per-point
/// errors (a diagonal covariance, stored as such, so maps with many pixels stay cheap).
public struct HaloObservable: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Excess surface density profile ΔΣ(R) [M☉/Mpc²].
        case excessSurfaceDensity
        /// Tangential shear profile γ_t(R) = ΔΣ/Σ_crit,eff.
        case tangentialShear(SourceSample)
        /// Reduced tangential shear profile g_t(R) = γ_t/(1 − (⟨β²⟩/⟨β⟩²) κ).
        case reducedShear(SourceSample)
        /// Convergence map κ = Σ/Σ_crit,eff, pixel centres (see `MapGeometry`).
        case convergenceMap(SourceSample)
        /// Projected mass map: surface density Σ [M☉/Mpc²] at pixel centres (a map of mass per
        /// pixel divided by the pixel area, pixelScale²).
        case surfaceDensityMap

        /// Source sample of the lensing kinds, nil for ΔΣ and Σ.
        public var sources: SourceSample? {
            switch self {
            case .excessSurfaceDensity, .surfaceDensityMap: return nil
            case let .tangentialShear(s), let .reducedShear(s), let .convergenceMap(s): return s
            }
        }

        public var isMap: Bool {
            switch self {
            case .convergenceMap, .surfaceDensityMap: return true
            default: return false
            }
        }

        /// The short name used in files and messages: delta_sigma, tangential_shear,
        /// reduced_shear, kappa_map, mass_map.
        public var name: String {
            switch self {
            case .excessSurfaceDensity: return "delta_sigma"
            case .tangentialShear: return "tangential_shear"
            case .reducedShear: return "reduced_shear"
            case .convergenceMap: return "kappa_map"
            case .surfaceDensityMap: return "mass_map"
            }
        }
    }

    enum Noise: Sendable {
        case diagonal(variances: [Double])
        case full(Matrix, Cholesky)
    }

    public let kind: Kind
    /// Projected radii [physical Mpc], > 0: bin centres of a profile, used pixel centres of a map.
    public let radii: [Double]
    /// Data at `radii` (for a map, the used pixels in `pixels` order).
    public let values: [Double]
    /// Map geometry (nil for profiles).
    public let geometry: MapGeometry?
    /// For a map: the linear index of each used pixel (`values[k]` is pixel `pixels[k]`); empty for profiles.
    public let pixels: [Int]
    let noise: Noise
    /// log det C, cached.
    public let logDeterminant: Double

    /// Whether the covariance is diagonal (given as per-point errors).
    public var hasDiagonalCovariance: Bool { if case .diagonal = noise { return true } else { return false } }
    /// The data covariance (built on demand for diagonal noise: n² doubles).
    public var covariance: Matrix {
        switch noise {
        case let .diagonal(v): return .diagonal(v)
        case let .full(c, _): return c
        }
    }
    /// √diag(C).
    public var errors: [Double] {
        switch noise {
        case let .diagonal(v): return v.map { $0.squareRoot() }
        case let .full(c, _): return c.diagonalValues.map { $0.squareRoot() }
        }
    }

    /// The general initializer: validates radii (finite, > 0), values (finite), lengths, and that the
    /// covariance is n×n, finite, symmetric and positive definite.
    public init(kind: Kind, radii: [Double], values: [Double], covariance: Matrix) throws(ClusterFittingError) {
        try Self.validateProfile(kind: kind, radii: radii, values: values)
        let n = radii.count
        guard covariance.rows == n, covariance.columns == n else {
            throw .lengthMismatch(field: "covariance", expected: n, got: covariance.rows == n ? covariance.columns : covariance.rows)
        }
        for (k, v) in covariance.values.enumerated() where !v.isFinite {
            throw .notFinite(field: "covariance", index: k, value: v)
        }
        for i in 0..<n {
            for j in 0..<i {
                let a = covariance[i, j], b = covariance[j, i]
                guard Swift.abs(a - b) <= 1e-10 * Swift.max(Swift.abs(a), Swift.abs(b)) else {
                    throw .covarianceNotPositiveDefinite(field: "covariance")
                }
            }
        }
        let chol: Cholesky
        do { chol = try Cholesky(covariance) } catch { throw .covarianceNotPositiveDefinite(field: "covariance") }
        self.kind = kind
        self.radii = radii
        self.values = values
        self.geometry = nil
        self.pixels = []
        self.noise = .full(covariance, chol)
        self.logDeterminant = chol.logDeterminant
    }

    /// Per-bin errors (σᵢ > 0, finite) → diagonal covariance.
    public init(kind: Kind, radii: [Double], values: [Double], errors: [Double]) throws(ClusterFittingError) {
        try Self.validateProfile(kind: kind, radii: radii, values: values)
        try Self.validateErrors(errors, count: radii.count)
        self.kind = kind
        self.radii = radii
        self.values = values
        self.geometry = nil
        self.pixels = []
        let variances = errors.map { $0 * $0 }
        self.noise = .diagonal(variances: variances)
        self.logDeterminant = variances.reduce(0) { $0 + Foundation.log($1) }
    }

    /// A map (κ or Σ) with per-pixel errors. `values` and `errors` hold every pixel of the grid
    /// (width · height, x fastest); pixels that `geometry` excludes (mask, minimum radius) may hold
    /// anything (NaN included) and are dropped, every other pixel needs a finite value and an error > 0.
    public init(kind: Kind, geometry: MapGeometry, values: [Double], errors: [Double]) throws(ClusterFittingError) {
        guard kind.isMap else { throw .invalidArgument(field: "kind", reason: "\(kind.name) is a profile, not a map") }
        if let s = kind.sources { try s.validate() }
        let n = geometry.pixelCount
        guard values.count == n else { throw .lengthMismatch(field: "values", expected: n, got: values.count) }
        guard errors.count == n else { throw .lengthMismatch(field: "errors", expected: n, got: errors.count) }
        let used = geometry.usedPixels
        guard !used.isEmpty else { throw .empty(field: "pixels (every pixel is masked or inside minimumRadius)") }
        var r: [Double] = [], v: [Double] = [], variances: [Double] = []
        r.reserveCapacity(used.count); v.reserveCapacity(used.count); variances.reserveCapacity(used.count)
        for i in used {
            guard values[i].isFinite else { throw .notFinite(field: "values", index: i, value: values[i]) }
            guard errors[i].isFinite else { throw .notFinite(field: "errors", index: i, value: errors[i]) }
            guard errors[i] > 0 else { throw .nonPositive(field: "errors", index: i, value: errors[i]) }
            r.append(geometry.radius(ofPixel: i))
            v.append(values[i])
            variances.append(errors[i] * errors[i])
        }
        self.kind = kind
        self.radii = r
        self.values = v
        self.geometry = geometry
        self.pixels = used
        self.noise = .diagonal(variances: variances)
        self.logDeterminant = variances.reduce(0) { $0 + Foundation.log($1) }
    }

    private static func validateProfile(kind: Kind, radii: [Double], values: [Double]) throws(ClusterFittingError) {
        guard !kind.isMap else {
            throw .invalidArgument(field: "kind", reason: "\(kind.name) is a map: give its MapGeometry")
        }
        let n = radii.count
        guard n > 0 else { throw .empty(field: "radii") }
        guard values.count == n else { throw .lengthMismatch(field: "values", expected: n, got: values.count) }
        for (i, r) in radii.enumerated() {
            guard r.isFinite else { throw .notFinite(field: "radii", index: i, value: r) }
            guard r > 0 else { throw .nonPositive(field: "radii", index: i, value: r) }
        }
        for (i, v) in values.enumerated() where !v.isFinite { throw .notFinite(field: "values", index: i, value: v) }
        if let s = kind.sources { try s.validate() }
    }

    private static func validateErrors(_ errors: [Double], count: Int) throws(ClusterFittingError) {
        guard errors.count == count else { throw .lengthMismatch(field: "errors", expected: count, got: errors.count) }
        for (i, e) in errors.enumerated() {
            guard e.isFinite else { throw .notFinite(field: "errors", index: i, value: e) }
            guard e > 0 else { throw .nonPositive(field: "errors", index: i, value: e) }
        }
    }

    /// ΔΣ profile with per-bin errors [M☉/Mpc²].
    public static func excessSurfaceDensity(radii: [Double], values: [Double], errors: [Double]) throws(ClusterFittingError) -> HaloObservable {
        try HaloObservable(kind: .excessSurfaceDensity, radii: radii, values: values, errors: errors)
    }

    /// ΔΣ profile with a full covariance [(M☉/Mpc²)²].
    public static func excessSurfaceDensity(radii: [Double], values: [Double], covariance: Matrix) throws(ClusterFittingError) -> HaloObservable {
        try HaloObservable(kind: .excessSurfaceDensity, radii: radii, values: values, covariance: covariance)
    }

    /// g_t profile with per-bin errors; sources at `sourceRedshift`.
    public static func reducedShear(radii: [Double], values: [Double], errors: [Double], sourceRedshift: Double) throws(ClusterFittingError) -> HaloObservable {
        try HaloObservable(kind: .reducedShear(.redshift(sourceRedshift)), radii: radii, values: values, errors: errors)
    }

    /// g_t profile with a full covariance; sources at `sourceRedshift`.
    public static func reducedShear(radii: [Double], values: [Double], covariance: Matrix, sourceRedshift: Double) throws(ClusterFittingError) -> HaloObservable {
        try HaloObservable(kind: .reducedShear(.redshift(sourceRedshift)), radii: radii, values: values, covariance: covariance)
    }

    /// The map's full grid with the used pixels filled from `perPoint` (e.g. `values`, `errors`)
    /// and the others NaN; nil for profiles.
    public func fullMap(_ perPoint: [Double]) -> [Double]? {
        guard let geometry, perPoint.count == pixels.count else { return nil }
        var out = [Double](repeating: .nan, count: geometry.pixelCount)
        for (k, i) in pixels.enumerated() { out[i] = perPoint[k] }
        return out
    }

    /// Checks that this observable can be lensed by a halo at `lensRedshift`.
    public func validate(lensRedshift zl: Double) throws(ClusterFittingError) {
        if case let .redshift(zs)? = kind.sources, !(zs > zl) { throw .sourceNotBehindLens(zLens: zl, zSource: zs) }
    }

    /// The model prediction at `radii` for `profile`, with `efficiency` the source sample's
    /// lensing efficiency behind the halo (required for γ_t, g_t and κ; ignored otherwise).
    public func model(_ profile: some HaloProfile, efficiency: LensingEfficiency?) throws -> [Double] {
        func need() throws -> LensingEfficiency {
            guard let efficiency else {
                throw ClusterFittingError.invalidArgument(field: "efficiency", reason: "\(kind.name) needs the source sample's Σ_crit")
            }
            return efficiency
        }
        switch kind {
        case .excessSurfaceDensity:
            return try radii.map { try profile.excessSurfaceDensity(at: $0) }
        case .surfaceDensityMap:
            return try radii.map { try profile.surfaceDensity(at: $0) }
        case .tangentialShear:
            let sc = try need().criticalSurfaceDensity
            return try radii.map { try profile.excessSurfaceDensity(at: $0) / sc }
        case .convergenceMap:
            let sc = try need().criticalSurfaceDensity
            return try radii.map { try profile.surfaceDensity(at: $0) / sc }
        case .reducedShear:
            let e = try need()
            let sc = e.criticalSurfaceDensity
            return try radii.map { r in
                let kappa = try profile.surfaceDensity(at: r) / sc
                return try profile.excessSurfaceDensity(at: r) / sc / (1 - e.betaRatio * kappa)
            }
        }
    }

    /// Gaussian log-likelihood of `model` (same length as `values`):
    /// −½ rᵀC⁻¹r − ½ log det C − (n/2) log 2π with r = values − model.
    public func logLikelihood(model: [Double]) throws -> Double {
        guard model.count == values.count else {
            throw ClusterFittingError.lengthMismatch(field: "model", expected: values.count, got: model.count)
        }
        var chi2 = 0.0
        switch noise {
        case let .diagonal(variances):
            for i in 0..<values.count {
                let r = values[i] - model[i]
                chi2 += r * r / variances[i]
            }
        case let .full(_, cholesky):
            var r = values
            for i in 0..<r.count { r[i] -= model[i] }
            let w = try cholesky.solveLower(r)
            for x in w { chi2 += x * x }
        }
        return -0.5 * chi2 - 0.5 * logDeterminant - 0.5 * Double(values.count) * 1.8378770664093453
    }
}
