import Foundation
import XCTest
@testable import Microlensing

/// What a single map's mean depends on besides its star field: the shooting region's margin
/// (only through the light loss it is sized for), and what a map carries to be made again.
final class ShootingMarginTests: XCTestCase {
    let model = try! MacroModel(kappa: 0.45, gamma: 0.45, smoothFraction: 0.5)
    let accuracy = DeflectionAccuracy(order: 8, starsPerCell: 1)

    /// The map keeps its stars, shooting region and compensation; with them an explicit shooter
    /// makes the same map again (what `Benchmarks/map_mean_crosscheck.py` relies on).
    func testMapCarriesWhatMakesItAgain() throws {
        let settings = MapSettings(sizeRE: 10, pixels: 20, rayDensity: .perSourcePixel(4), seed: 5, accuracy: accuracy)
        let map = try makeMagnificationMap(model: model, settings: settings)
        let stars = try XCTUnwrap(map.stars), region = try XCTUnwrap(map.region)
        XCTAssertEqual(stars.count, map.starCount)
        XCTAssertEqual(region, try ShootingRegion(model: model, map: map.geometry, lightLoss: settings.lightLoss))
        let again = try RayShooter(model: model, geometry: map.geometry, region: region, stars: stars,
                                   rayDensity: settings.rayDensity, accuracy: accuracy, compensation: map.compensation)
        XCTAssertEqual(again.makeMap().pixels, map.pixels)
        // Convolved maps keep them too.
        let wide = try map.convolved(with: .gaussian(sigma: 0.5))
        XCTAssertEqual(wide.stars, stars)
        XCTAssertEqual(wide.region, region)
    }

    /// A map whose mean missed theory because its shooting region was too narrow would move
    /// towards theory as the region widens. With the same stars (drawn for the widest region)
    /// and the same rays (the grid is anchored on the pre-image, so a wider region only adds
    /// rays), widening from light loss 10⁻² to 5·10⁻⁴ adds only the expected light loss,
    /// ≈ (√(κ*·10⁻²) − √(κ*·5·10⁻⁴))/size = 0.15% of the mean, while the maps' means differ from
    /// theory by per cents: those differences belong to the star fields.
    func testWideningTheShootingRegionAddsOnlyTheLightLoss() throws {
        let geometry = try MapGeometry(sizeRE: 25, pixels: 25)
        let narrow = try ShootingRegion(model: model, map: geometry, lightLoss: 0.01)
        let wide = try ShootingRegion(model: model, map: geometry, lightLoss: 0.0005)
        XCTAssertGreaterThan(wide.area, 3 * narrow.area)
        let preimage = StarField.Rectangle(halfWidthX: geometry.halfSize / abs(model.lambdaX),
                                           halfWidthY: geometry.halfSize / abs(model.lambdaY))
        let expected = ((model.kappaStar * 0.01).squareRoot() - (model.kappaStar * 0.0005).squareRoot()) / geometry.sizeRE
        var errors: [Double] = []
        for seed in 1...3 as ClosedRange<UInt64> {
            let stars = try StarField(kappaStar: model.kappaStar, radius: wide.starFieldRadius, seed: seed,
                                      conditionedOn: preimage)
            let compensation = try MeanFieldCompensation(stars: stars, model: model, map: geometry)
            func mean(_ region: ShootingRegion) throws -> (mean: Double, rays: Int) {
                let shooter = try RayShooter(model: model, geometry: geometry, region: region, stars: stars,
                                             rayDensity: .perSourcePixel(16), accuracy: accuracy, compensation: compensation)
                return (shooter.makeMap().relativeMeanError, shooter.raysShot)
            }
            let (a, raysA) = try mean(narrow), (b, raysB) = try mean(wide)
            XCTAssertGreaterThan(raysB, 3 * raysA)
            print("seed \(seed): mean − μ_th = \(a) (light loss 0.01), \(b) (5e-4); difference \(b - a), expected \(expected)")
            XCTAssertGreaterThanOrEqual(b - a, 0, "the wider region's rays are a superset")
            XCTAssertEqual(b - a, expected, accuracy: 0.001, "seed \(seed)")
            errors.append(b)
        }
        // The widest maps still miss theory by more than the margin moved them.
        XCTAssertGreaterThan(errors.map(abs).max()!, 3 * expected, "\(errors)")
    }

    /// The numerical error of a map's mean, apart from its star field: direct summation over the
    /// same stars on an independent, coarser ray grid gives the same mean (to that grid's
    /// discreteness), for a minimum and a saddle, with and without the compensation.
    func testMapMeanEqualsDirectSummationOverTheSameStars() throws {
        for (k, g, s, compensate) in [(0.45, 0.45, 0.5, true), (0.6, 0.5, 0.5, false)] {
            let model = try MacroModel(kappa: k, gamma: g, smoothFraction: s)
            let settings = MapSettings(sizeRE: 10, pixels: 40, rayDensity: .perSourcePixel(16), seed: 2, lightLoss: 0.05,
                                       accuracy: accuracy, compensateMeanField: compensate)
            let shooter = try RayShooter(model: model, settings: settings)
            let map = shooter.makeMap()
            let direct = DirectDeflection.meanMagnification(of: shooter, spacing: 0.2)
            print("(\(k), \(g), \(s)): map mean − μ_th \(map.relativeMeanError), direct \(direct.mean / map.theoreticalMagnification - 1), "
                  + "\(direct.landed) rays landed")
            XCTAssertEqual(map.mean / direct.mean, 1, accuracy: 1 / Double(direct.landed).squareRoot(), "(\(k), \(g), \(s))")
        }
    }
}
