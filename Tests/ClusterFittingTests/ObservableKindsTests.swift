import Foundation
import HaloProfiles
import XCTest
import TesseraLinAlg
@testable import ClusterFitting

/// The observable kinds beyond ΔΣ: γ_t and g_t profiles (one source plane or ⟨β⟩, ⟨β²⟩), κ and
/// projected-mass maps, alone and combined; their validation.
final class ObservableKindsTests: XCTestCase {
    let cosmo = try! Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05)
    let z = 0.3
    let zs = 1.1
    let radii = MockHaloGenerator.logSpacedRadii(from: 0.3, to: 3.0, count: 10)
    let mass = 4e14
    var concentration: Double { ConcentrationRelation.duffy2008.concentration(mass: mass, redshift: z, cosmology: cosmo) }
    var geometry: MapGeometry { try! MapGeometry(width: 12, height: 12, pixelScale: 0.2) }

    func field(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as ClusterFittingError { return e.field } catch { return "other: \(error)" }
    }

    /// Every kind alone; a mock with 2% noise of the model in each bin or pixel.
    func mock(_ kind: HaloObservable.Kind, noise: Double, seed: UInt64) throws -> HaloObservable {
        let gen = MockHaloGenerator(cosmology: cosmo)
        if kind.isMap {
            let template = try HaloObservable(kind: kind, geometry: geometry, values: .init(repeating: 0, count: 144),
                                              errors: .init(repeating: 1, count: 144))
            let truth = try gen.noiseless(template, mass: mass, concentration: concentration, redshift: z)
            return try gen.map(kind, mass: mass, concentration: concentration, redshift: z, geometry: geometry,
                               noise: .perBin(template.fullMap(truth.map { noise * abs($0) })!), seed: seed)
        }
        return try gen.profile(kind, mass: mass, concentration: concentration, redshift: z, radii: radii,
                               noise: .fractional(noise), seed: seed)
    }

    var kinds: [HaloObservable.Kind] {
        let b = try! cosmo.beta(zLens: z, zSource: zs)
        return [.tangentialShear(.redshift(zs)), .reducedShear(.redshift(zs)),
                .reducedShear(.betaMoments(beta: 0.8 * b, betaSquared: 0.7 * b * b)), .convergenceMap(.redshift(zs)),
                .surfaceDensityMap]
    }

    func testNoiselessLikelihoodPeaksAtTruthAndFitsRecoverMass() throws {
        for (k, kind) in kinds.enumerated() {
            // Noiseless data (the model itself) with 2% errors: the likelihood peaks at the truth.
            let noisy = try mock(kind, noise: 0.02, seed: UInt64(10 + k))
            let truth = try MockHaloGenerator(cosmology: cosmo).noiseless(noisy, mass: mass, concentration: concentration, redshift: z)
            let exact: HaloObservable = kind.isMap
                ? try HaloObservable(kind: kind, geometry: geometry, values: noisy.fullMap(truth)!, errors: noisy.fullMap(noisy.errors)!)
                : try HaloObservable(kind: kind, radii: radii, values: truth, errors: noisy.errors)
            let lik = try HaloLikelihood(observables: [exact], redshift: z, cosmology: cosmo)
            let at = try lik.logLikelihood([log10(mass)])
            for d in [-0.05, -0.01, 0.01, 0.05] {
                XCTAssertLessThan(try lik.logLikelihood([log10(mass) + d]), at, "\(kind.name) at offset \(d)")
            }
            let fitExact = try HaloFit.fit(lik)
            XCTAssertLessThan(abs(fitExact.log10Mass - log10(mass)), 1e-3, "\(kind.name) noiseless: \(fitExact.log10Mass)")
            // 2% noise: log10 M recovered to < 0.02 dex, inside 3σ.
            let fit = try HaloFit.fit(observables: [noisy], redshift: z, cosmology: cosmo)
            XCTAssertLessThan(abs(fit.log10Mass - log10(mass)), 0.02, "\(kind.name): \(fit.log10Mass) ± \(fit.log10MassError)")
            XCTAssertLessThan(abs(fit.log10Mass - log10(mass)), 3 * fit.log10MassError, "\(kind.name)")
        }
    }

    func testCombinationIsASumOfIndependentTermsAndRecoversMass() throws {
        let observables = try [mock(.excessSurfaceDensity, noise: 0.05, seed: 1), mock(kinds[0], noise: 0.05, seed: 2),
                               mock(kinds[1], noise: 0.05, seed: 3), mock(kinds[3], noise: 0.05, seed: 4),
                               mock(kinds[4], noise: 0.05, seed: 5)]
        let joint = try HaloLikelihood(observables: observables, redshift: z, cosmology: cosmo)
        let x = [log10(mass) + 0.03]
        var sum = 0.0
        for o in observables { sum += try HaloLikelihood(observables: [o], redshift: z, cosmology: cosmo).logLikelihood(x) }
        XCTAssertLessThan(abs(try joint.logLikelihood(x) - sum), 1e-9 * abs(sum))
        let fit = try HaloFit.fit(joint)
        XCTAssertLessThan(abs(fit.log10Mass - log10(mass)), 0.02, "joint: \(fit.log10Mass) ± \(fit.log10MassError)")
        let single = try HaloFit.fit(observables: [observables[0]], redshift: z, cosmology: cosmo)
        XCTAssertLessThan(fit.log10MassError, single.log10MassError)
    }

    /// ⟨β⟩ = β, ⟨β²⟩ = β² of one source plane gives the single-redshift model; γ_t and κ are
    /// exactly linear in ⟨β⟩, and g_t follows γ_t/(1 − (⟨β²⟩/⟨β⟩²) κ).
    func testBetaMomentsMatchSingleSourcePlane() throws {
        let b = try cosmo.beta(zLens: z, zSource: zs)
        let nfw = try NFW(mass: mass, concentration: concentration, redshift: z, cosmology: cosmo)
        let plane = try SourceSample.redshift(zs).efficiency(zLens: z, cosmology: cosmo)
        let moments = try SourceSample.betaMoments(beta: b, betaSquared: b * b).efficiency(zLens: z, cosmology: cosmo)
        XCTAssertLessThan(abs(plane.criticalSurfaceDensity / moments.criticalSurfaceDensity - 1), 1e-10)
        XCTAssertLessThan(abs(moments.betaRatio - 1), 1e-12)
        let g = try HaloObservable(kind: .reducedShear(.redshift(zs)), radii: radii, values: radii.map { _ in 0 }, errors: radii.map { _ in 1 })
        let model = try g.model(nfw, efficiency: plane)
        for (i, r) in radii.enumerated() {
            XCTAssertLessThan(abs(model[i] / (try nfw.reducedTangentialShear(at: r, sourceRedshift: zs)) - 1), 1e-12)
        }
        let wide = LensingEfficiency(criticalSurfaceDensity: plane.criticalSurfaceDensity, betaRatio: 1.2)
        let m2 = try g.model(nfw, efficiency: wide)
        let r = radii[0]
        let kappa = try nfw.surfaceDensity(at: r) / plane.criticalSurfaceDensity
        let gamma = try nfw.excessSurfaceDensity(at: r) / plane.criticalSurfaceDensity
        XCTAssertLessThan(abs(m2[0] - gamma / (1 - 1.2 * kappa)), 1e-14)
    }

    func testMapGeometryAndDiagonalLikelihood() throws {
        let odd = try MapGeometry(width: 5, height: 3, pixelScale: 0.5)
        XCTAssertTrue(odd.centreX == 2 && odd.centreY == 1)
        XCTAssertLessThan(abs(odd.radius(ofPixel: 0) - 0.5 * (4.0 + 1.0).squareRoot()), 1e-15)
        XCTAssertFalse(odd.usedPixels.contains(7), "the pixel at R = 0 is not fitted")
        XCTAssertEqual(odd.usedPixels.count, 14)
        var mask = [Bool](repeating: false, count: 15)
        mask[0] = true
        let cut = try MapGeometry(width: 5, height: 3, pixelScale: 0.5, centreX: 0.5, centreY: 1, minimumRadius: 0.3, mask: mask)
        XCTAssertEqual(cut.usedPixels, [1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14])
        var values = (0..<15).map { Double($0) }
        values[0] = .nan  // masked: ignored
        let errors = (0..<15).map { 1 + Double($0) / 10 }
        let map = try HaloObservable(kind: .surfaceDensityMap, geometry: cut, values: values, errors: errors)
        XCTAssertTrue(map.pixels == cut.usedPixels && map.hasDiagonalCovariance)
        let model = map.values.map { $0 + 0.5 }
        var expected = 0.0
        for (k, i) in map.pixels.enumerated() {
            expected += -0.5 * 0.25 / (errors[i] * errors[i]) - log(errors[i]) - 0.5 * log(2 * Double.pi)
            XCTAssertEqual(map.radii[k], cut.radius(ofPixel: i))
        }
        XCTAssertLessThan(abs(try map.logLikelihood(model: model) - expected), 1e-10)
        let full = map.fullMap(map.values)!
        XCTAssertTrue(full[0].isNaN && full[5].isNaN && full[6].isNaN && full[2] == 2)
    }

    func testBadInputNamesTheField() throws {
        let v = radii.map { _ in 0.01 }, e = radii.map { _ in 0.001 }
        // Source redshift below (or at) the lens: for every kind that needs one.
        for kind in [HaloObservable.Kind.tangentialShear(.redshift(0.2)), .reducedShear(.redshift(0.3))] {
            let o = try HaloObservable(kind: kind, radii: radii, values: v, errors: e)
            XCTAssertEqual(field { _ = try HaloLikelihood(observables: [o], redshift: z, cosmology: cosmo) }, "sourceRedshift")
        }
        let k = try HaloObservable(kind: .convergenceMap(.redshift(0.25)), geometry: geometry, values: .init(repeating: 0, count: 144),
                                   errors: .init(repeating: 1, count: 144))
        XCTAssertEqual(field { _ = try HaloLikelihood(observables: [k], redshift: z, cosmology: cosmo) }, "sourceRedshift")
        XCTAssertEqual(field { _ = try MockHaloGenerator(cosmology: cosmo).map(.convergenceMap(.redshift(0.2)), mass: mass, concentration: 4,
                                                                       redshift: z, geometry: geometry, noise: .fractional(0.1), seed: 1) }, "sourceRedshift")
        XCTAssertEqual(field { _ = try HaloObservable(kind: .tangentialShear(.redshift(-1)), radii: radii, values: v, errors: e) }, "sourceRedshift")
        XCTAssertEqual(field { _ = try HaloObservable(kind: .tangentialShear(.redshift(.nan)), radii: radii, values: v, errors: e) }, "sourceRedshift")
        XCTAssertEqual(field { _ = try HaloObservable(kind: .reducedShear(.betaMoments(beta: 1.2, betaSquared: 1)), radii: radii, values: v,
                                               errors: e) }, "beta")
        XCTAssertEqual(field { _ = try HaloObservable(kind: .reducedShear(.betaMoments(beta: 0.5, betaSquared: 0.2)), radii: radii, values: v,
                                               errors: e) }, "betaSquared")
        // Errors, radii, shapes.
        var bad = e
        bad[2] = 0
        XCTAssertEqual(field { _ = try HaloObservable(kind: .tangentialShear(.redshift(zs)), radii: radii, values: v, errors: bad) }, "errors")
        bad[2] = -1
        XCTAssertEqual(field { _ = try HaloObservable(kind: .reducedShear(.redshift(zs)), radii: radii, values: v, errors: bad) }, "errors")
        var r = radii
        r[1] = .nan
        XCTAssertEqual(field { _ = try HaloObservable(kind: .tangentialShear(.redshift(zs)), radii: r, values: v, errors: e) }, "radii")
        XCTAssertEqual(field { _ = try HaloObservable(kind: .convergenceMap(.redshift(zs)), radii: radii, values: v, errors: e) }, "kind")
        XCTAssertEqual(field { _ = try HaloObservable(kind: .excessSurfaceDensity, geometry: geometry, values: [], errors: []) }, "kind")
        let n = geometry.pixelCount
        let ones = [Double](repeating: 1, count: n)
        XCTAssertEqual(field { _ = try HaloObservable(kind: .surfaceDensityMap, geometry: geometry, values: [1, 2], errors: ones) }, "values")
        XCTAssertEqual(field { _ = try HaloObservable(kind: .surfaceDensityMap, geometry: geometry, values: ones, errors: [1]) }, "errors")
        var mapErrors = ones
        mapErrors[5] = 0
        XCTAssertEqual(field { _ = try HaloObservable(kind: .surfaceDensityMap, geometry: geometry, values: ones, errors: mapErrors) }, "errors")
        var mapValues = ones
        mapValues[7] = .nan
        XCTAssertEqual(field { _ = try HaloObservable(kind: .surfaceDensityMap, geometry: geometry, values: mapValues, errors: ones) }, "values")
        XCTAssertEqual(field { _ = try MapGeometry(width: 4, height: 4, pixelScale: 0) }, "pixelScale")
        XCTAssertEqual(field { _ = try MapGeometry(width: 4, height: 4, pixelScale: .nan) }, "pixelScale")
        XCTAssertEqual(field { _ = try MapGeometry(width: 0, height: 4, pixelScale: 1) }, "width")
        XCTAssertEqual(field { _ = try MapGeometry(width: 4, height: 4, pixelScale: 1, centreX: .infinity) }, "centreX")
        XCTAssertEqual(field { _ = try MapGeometry(width: 4, height: 4, pixelScale: 1, mask: [true]) }, "mask")
        let allMasked = try MapGeometry(width: 2, height: 2, pixelScale: 1, mask: [true, true, true, true])
        XCTAssertEqual(field { _ = try HaloObservable(kind: .surfaceDensityMap, geometry: allMasked, values: [1, 1, 1, 1], errors: [1, 1, 1, 1]) }?
            .hasPrefix("pixels"), true)
    }
}
