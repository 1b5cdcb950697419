import Foundation
import HaloProfiles
import TesseraLinAlg
import TesseraSupport

/// Per-bin Gaussian noise level for mock profiles.
public enum MockNoise: Sendable, Equatable {
    /// σᵢ = fraction × |model(Rᵢ)|.
    case fractional(Double)
    /// σᵢ = value, in the observable's units (M☉/Mpc² for ΔΣ and Σ, dimensionless for γ_t, g_t, κ).
    case absolute(Double)
    /// σᵢ given per radial bin, in the observable's units (one per radius).
    case perBin([Double])
}

/// Noisy mock observables (ΔΣ, γ_t, g_t profiles, κ and Σ maps) of an NFW halo, deterministic from the seed (`RandomSource(seed:)`).
/// The returned observable carries the diagonal covariance diag(σᵢ²) used to draw the noise.
public struct MockHaloGenerator: Sendable {
    public let cosmology: Cosmology
    public let massDefinition: MassDefinition

    public init(cosmology: Cosmology, massDefinition: MassDefinition = .critical200) {
        self.cosmology = cosmology
        self.massDefinition = massDefinition
    }

    /// `count` logarithmically spaced radii from `from` to `to` [physical Mpc].
    public static func logSpacedRadii(from a: Double, to b: Double, count: Int) -> [Double] {
        guard count > 1 else { return [a] }
        let la = Foundation.log(a), lb = Foundation.log(b)
        return (0..<count).map { Foundation.exp(la + (lb - la) * Double($0) / Double(count - 1)) }
    }

    /// Mock ΔΣ profile [M☉/Mpc²] of an NFW halo of mass `mass` [M☉], concentration `concentration`,
    /// at redshift `redshift`, at `radii` [physical Mpc].
    public func excessSurfaceDensity(mass: Double, concentration: Double, redshift: Double, radii: [Double],
                                     noise: MockNoise, seed: UInt64) throws -> HaloObservable {
        try profile(.excessSurfaceDensity, mass: mass, concentration: concentration, redshift: redshift, radii: radii,
                    noise: noise, seed: seed)
    }

    /// Mock reduced tangential shear profile for sources at `sourceRedshift`.
    public func reducedShear(mass: Double, concentration: Double, redshift: Double, sourceRedshift: Double,
                             radii: [Double], noise: MockNoise, seed: UInt64) throws -> HaloObservable {
        try profile(.reducedShear(.redshift(sourceRedshift)), mass: mass, concentration: concentration, redshift: redshift,
                    radii: radii, noise: noise, seed: seed)
    }

    /// Mock profile of any profile kind (ΔΣ, γ_t, g_t) at `radii` [physical Mpc]. Noise σᵢ is in
    /// the observable's units; the value is the NFW model plus σᵢ · N(0, 1) from `RandomSource(seed:)`.
    public func profile(_ kind: HaloObservable.Kind, mass: Double, concentration: Double, redshift: Double, radii: [Double],
                        noise: MockNoise, seed: UInt64) throws -> HaloObservable {
        let template = try HaloObservable(kind: kind, radii: radii, values: radii.map { _ in 0 }, errors: radii.map { _ in 1 })
        let truth = try noiseless(template, mass: mass, concentration: concentration, redshift: redshift)
        let (values, errors) = try addNoise(truth, noise: noise, seed: seed)
        return try HaloObservable(kind: kind, radii: radii, values: values, errors: errors)
    }

    /// Mock map (κ or Σ, see `MapGeometry` for the pixel-centre model) of an NFW halo. Noise is per
    /// pixel; `.perBin` takes one error per grid pixel (width · height). Pixels the geometry
    /// excludes hold NaN.
    public func map(_ kind: HaloObservable.Kind, mass: Double, concentration: Double, redshift: Double, geometry: MapGeometry,
                    noise: MockNoise, seed: UInt64) throws -> HaloObservable {
        let n = geometry.pixelCount
        let template = try HaloObservable(kind: kind, geometry: geometry, values: [Double](repeating: 0, count: n),
                                          errors: [Double](repeating: 1, count: n))
        let truth = try noiseless(template, mass: mass, concentration: concentration, redshift: redshift)
        var pixelNoise = noise
        if case let .perBin(e) = noise {
            guard e.count == n else { throw ClusterFittingError.lengthMismatch(field: "noise", expected: n, got: e.count) }
            pixelNoise = .perBin(template.pixels.map { e[$0] })
        }
        let (values, errors) = try addNoise(truth, noise: pixelNoise, seed: seed)
        return try HaloObservable(kind: kind, geometry: geometry, values: template.fullMap(values)!, errors: template.fullMap(errors)!)
    }

    /// The noiseless NFW model of `observable` (its kind, radii and sources) for the given halo.
    public func noiseless(_ observable: HaloObservable, mass: Double, concentration: Double, redshift: Double) throws -> [Double] {
        let nfw = try NFW(mass: mass, concentration: concentration, redshift: redshift,
                          massDefinition: massDefinition, cosmology: cosmology)
        try observable.validate(lensRedshift: redshift)
        let efficiency = try observable.kind.sources.map { try $0.efficiency(zLens: redshift, cosmology: cosmology) }
        return try observable.model(nfw, efficiency: efficiency)
    }

    private func addNoise(_ truth: [Double], noise: MockNoise, seed: UInt64) throws -> ([Double], [Double]) {
        let errors: [Double]
        switch noise {
        case let .fractional(f):
            guard f > 0, f.isFinite else { throw ClusterFittingError.invalidArgument(field: "noise", reason: "fraction must be > 0") }
            errors = truth.map { f * Swift.abs($0) }
        case let .absolute(s):
            guard s > 0, s.isFinite else { throw ClusterFittingError.invalidArgument(field: "noise", reason: "sigma must be > 0") }
            errors = truth.map { _ in s }
        case let .perBin(e):
            guard e.count == truth.count else {
                throw ClusterFittingError.lengthMismatch(field: "noise", expected: truth.count, got: e.count)
            }
            for (i, x) in e.enumerated() where !(x > 0 && x.isFinite) { throw ClusterFittingError.nonPositive(field: "noise", index: i, value: x) }
            errors = e
        }
        var rng = RandomSource(seed: seed)
        var values = truth
        for i in 0..<values.count { values[i] += errors[i] * rng.normal() }
        return (values, errors)
    }
}
