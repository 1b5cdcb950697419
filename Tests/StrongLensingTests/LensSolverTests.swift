import Foundation
import XCTest
@testable import StrongLensing

/// Agreement of the solver's images with lenstronomy's LensEquationSolver on the fixture lenses.
struct SolverComparison {
    var lenses = 0
    var images = 0
    /// Image counts (Tessera) → number of lenses.
    var multiplicity = [Int: Int]()
    /// Lenses where Tessera and lenstronomy (wide + central search) found different numbers of images.
    var countMismatches = [Int]()
    /// Largest |Δθ| [arcsec] between matched images, and relative |Δμ| and |Δτ|/θ_E².
    var maxPositionError = 0.0, maxMagnificationError = 0.0, maxFermatError = 0.0
    /// Largest source-plane residual of a lenstronomy image (lenstronomy's own ray shooting) and of a Tessera one.
    var maxLenstronomyResidual = 0.0, maxTesseraResidual = 0.0
    /// Images lenstronomy's wide search alone (its usual use) missed, and of those, central images.
    var missedByWideSearch = 0, centralMissedByWideSearch = 0
    var centralImages = 0

    static func run(_ configs: [LensFixtures.Config], _ reference: [Int: [LensFixtures.Image]],
                    solver: LensSolver = LensSolver()) throws -> SolverComparison {
        var s = SolverComparison()
        for c in configs {
            let mine = try solver.images(of: c.model, sourceX: c.sourceX, sourceY: c.sourceY)
            let theirs = reference[c.id] ?? []
            s.lenses += 1
            s.images += mine.count
            s.multiplicity[mine.count, default: 0] += 1
            s.centralImages += mine.filter { $0.kind == .maximum }.count
            for m in mine { s.maxTesseraResidual = max(s.maxTesseraResidual, m.sourcePlaneResidual) }
            if theirs.count != mine.count { s.countMismatches.append(c.id) }
            s.missedByWideSearch += theirs.count - theirs.filter { $0.foundBy & 1 != 0 }.count
            for t in theirs {
                s.maxLenstronomyResidual = max(s.maxLenstronomyResidual, t.residual)
                guard let m = mine.min(by: { hypot($0.x - t.x, $0.y - t.y) < hypot($1.x - t.x, $1.y - t.y) }) else { continue }
                if t.foundBy & 1 == 0, m.kind == .maximum { s.centralMissedByWideSearch += 1 }
                s.maxPositionError = max(s.maxPositionError, hypot(m.x - t.x, m.y - t.y))
                s.maxMagnificationError = max(s.maxMagnificationError, relativeError(m.magnification, t.mu))
                s.maxFermatError = max(s.maxFermatError, abs(m.fermatPotential - t.fermat) / (c.einsteinRadius * c.einsteinRadius))
            }
        }
        return s
    }
}

final class LensSolverTests: XCTestCase {
    /// Every 10th fixture lens (100 of 1000; the full set runs in `tessera-bench lens-solver`): the same images
    /// as lenstronomy's wide + central searches, positions within 1e-6″, μ and τ within 1e-6 relative.
    func testAgreesWithLenstronomyOnFixtureSubset() throws {
        let all = try LensFixtures.configs()
        XCTAssertEqual(all.count, 1000)
        let subset = all.filter { $0.id % 10 == 0 }
        let s = try SolverComparison.run(subset, try LensFixtures.images())
        print("solver vs lenstronomy (\(s.lenses) lenses):", s)
        XCTAssertEqual(s.countMismatches, [], "lenses where the image counts differ")
        XCTAssertLessThan(s.maxPositionError, 1e-6)
        XCTAssertLessThan(s.maxMagnificationError, 1e-6)
        XCTAssertLessThan(s.maxFermatError, 1e-6)
        XCTAssertLessThan(s.maxLenstronomyResidual, 1e-9)
        XCTAssertLessThan(s.maxTesseraResidual, 1e-12)
        // The subset exercises doubles and quads, each with its central image.
        XCTAssertGreaterThan(s.multiplicity[3] ?? 0, 10)
        XCTAssertGreaterThanOrEqual(s.multiplicity[5] ?? 0, 5)
    }

    /// A 1e-4 change of the halo normalisation moves the images by far more than the 1e-6″ tolerance.
    func testComparisonFailsForAWrongLens() throws {
        let wrong = try LensFixtures.configs(alphaRsScale: 1 + 1e-4).filter { $0.id % 100 == 0 }
        let s = try SolverComparison.run(wrong, try LensFixtures.images())
        XCTAssertGreaterThan(s.maxPositionError, 1e-6)
    }

    /// Parities, kinds, magnifications and time delays are consistent: minima/maxima have μ > 0, saddles μ < 0,
    /// arrival order follows τ, the central image is a demagnified maximum, and each image solves the lens
    /// equation (checked here with the model's own `sourcePosition`).
    func testImagePropertiesAreConsistent() throws {
        let cosmo = try HaloProfilesCosmology.make()
        let g = try LensGalaxy(lensRedshift: 0.5, sourceRedshift: 2, stellarMassSPS: 2.5e11, alphaSPS: 1.2,
                               effectiveRadiusKpc: 5, haloMass: 1e13, shear1: 0.05, shear2: 0.02, cosmology: cosmo)
        let thetaE = try XCTUnwrap(g.model.einsteinRadius())
        let imgs = try g.images(sourceX: 0.02 * thetaE, sourceY: 0.01 * thetaE)
        XCTAssertEqual(imgs.count, 5)
        XCTAssertEqual(imgs.filter { $0.kind == .saddle }.count, 2)
        XCTAssertEqual(imgs.filter { $0.kind == .maximum }.count, 1)
        var last = -Double.infinity
        for i in imgs {
            XCTAssertEqual(i.parity, i.magnification > 0 ? 1 : -1)
            XCTAssertEqual(i.kind == .saddle, i.magnification < 0)
            let beta = g.model.sourcePosition(x: i.x, y: i.y)
            XCTAssertLessThan(hypot(beta.x - 0.02 * thetaE, beta.y - 0.01 * thetaE), 1e-12)
            let dt = try XCTUnwrap(i.timeDelayDays)
            XCTAssertGreaterThanOrEqual(dt, last)
            last = dt
            XCTAssertEqual(dt, (i.fermatPotential - imgs[0].fermatPotential) * g.daysPerArcsec2, accuracy: 1e-9 * max(1, dt))
            XCTAssertTrue(i.smoothFraction > 0 && i.smoothFraction < 1)
        }
        let central = try XCTUnwrap(imgs.first { $0.kind == .maximum })
        XCTAssertLessThan(abs(central.magnification), 0.1)
        XCTAssertLessThan(hypot(central.x, central.y), 0.1 * thetaE)
        XCTAssertEqual(imgs.last?.kind, .maximum, "the central image arrives last")
    }

    func testBadInputIsAClearError() throws {
        let model = try LensModel(halo: AngularNFW(scaleRadius: 10, kappaS: 0.1), stars: AngularHernquist(scaleRadius: 0.5, kappa0: 2))
        XCTAssertThrowsError(try LensSolver().images(of: model, sourceX: .nan, sourceY: 0)) {
            guard case let .invalidParameter(name, _, _) = $0 as? StrongLensingError else { return XCTFail("\($0)") }
            XCTAssertEqual(name, "sourceX")
        }
        var impossible = LensSolver()
        impossible.sourceTolerance = 1e-300  // nothing can converge: reported, never an empty list
        XCTAssertThrowsError(try impossible.images(of: model, sourceX: 0.1, sourceY: 0)) {
            XCTAssertEqual($0 as? StrongLensingError, .noSolution(sourceX: 0.1, sourceY: 0))
        }
        // A source exactly behind a circularly symmetric lens makes an Einstein ring: no finite set of images.
        XCTAssertThrowsError(try LensSolver().images(of: model, sourceX: 0, sourceY: 0)) {
            guard case let .invalidParameter(name, _, _) = $0 as? StrongLensingError else { return XCTFail("\($0)") }
            XCTAssertEqual(name, "source")
        }
    }
}
