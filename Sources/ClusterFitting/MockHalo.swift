import Foundation
import HaloProfiles
import TesseraLinAlg
import TesseraSupport

/// Per-bin Gaussian noise level for mock profiles.
public enum MockNoise: Sendable, Equatable {
    /// σᵢ = fraction × |model(Rᵢ)|.
    case fractional(Double)
    /// σᵢ = value, in the observable's units (M☉/Mpc² for ΔΣ, dimensionless for g_t).
    case absolute(Double)
    /// σᵢ given per radial bin, in the observable's units (one per radius).
    case perBin([Double])
}

/// Noisy mock observables of an NFW halo, deterministic from the seed (`RandomSource(seed:)`).
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
        let nfw = try NFW(mass: mass, concentration: concentration, redshift: redshift,
                          massDefinition: massDefinition, cosmology: cosmology)
        let truth = try radii.map { try nfw.excessSurfaceDensity(at: $0) }
        let (values, errors) = try addNoise(truth, noise: noise, seed: seed)
        return try .excessSurfaceDensity(radii: radii, values: values, errors: errors)
    }

    /// Mock reduced tangential shear profile for sources at `sourceRedshift`.
    public func reducedShear(mass: Double, concentration: Double, redshift: Double, sourceRedshift: Double,
                             radii: [Double], noise: MockNoise, seed: UInt64) throws -> HaloObservable {
        guard sourceRedshift > redshift else {
            throw ClusterFittingError.sourceNotBehindLens(zLens: redshift, zSource: sourceRedshift)
        }
        let nfw = try NFW(mass: mass, concentration: concentration, redshift: redshift,
                          massDefinition: massDefinition, cosmology: cosmology)
        let sc = try cosmology.criticalSurfaceDensity(zLens: redshift, zSource: sourceRedshift)
        let truth = try radii.map { try nfw.reducedTangentialShear(at: $0, criticalSurfaceDensity: sc) }
        let (values, errors) = try addNoise(truth, noise: noise, seed: seed)
        return try .reducedShear(radii: radii, values: values, errors: errors, sourceRedshift: sourceRedshift)
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
