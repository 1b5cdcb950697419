import Foundation
import LensInference
import StrongLensing
import XCTest

final class MockPopulationTests: XCTestCase {
    func testCatalogIsReproducibleSelectedAndConsistentWithItsTruth() throws {
        let pop = try Fixtures.population()
        let cat = try pop.catalog(count: 4, seed: 11)
        XCTAssertEqual(cat.lenses.count, 4)
        XCTAssertGreaterThan(cat.drawn, cat.lenses.count)
        let again = try pop.catalog(count: 4, seed: 11)
        XCTAssertEqual(cat, again)
        let sv = pop.survey
        for lens in cat.lenses {
            XCTAssertGreaterThanOrEqual(lens.images.count, 2)
            XCTAssertEqual(lens.images.count, lens.truth.images.count)
            // Selection.
            XCTAssertTrue(lens.images.allSatisfy { $0.flux >= sv.fluxLimit })
            // Observed positions scatter about the true ones by the stated error.
            for (o, t) in zip(lens.images, lens.truth.images) {
                XCTAssertLessThan(hypot(o.x - t.x, o.y - t.y), 5 * o.positionError)
                // σ_F from the flux without microlensing (the reported error must not tell the factor).
                XCTAssertEqual(o.fluxError, sv.fluxErrorFraction * pow(10, lens.truth.parameters.logSourceFlux)
                               * abs(t.macroMagnification), accuracy: 1e-9 * o.fluxError)
            }
            // True images solve the lens equation of the truth's lens.
            let g = try LensGalaxy(lensRedshift: lens.lensRedshift, sourceRedshift: lens.sourceRedshift,
                                   stellarMassSPS: pow(10, lens.logMsps), alphaSPS: lens.truth.alphaSPS,
                                   effectiveRadiusKpc: pow(10, lens.logEffectiveRadius),
                                   haloMass: pow(10, lens.truth.parameters.logHaloMass),
                                   shear1: lens.truth.parameters.shear1, shear2: lens.truth.parameters.shear2,
                                   cosmology: Fixtures.cosmology)
            for t in lens.truth.images {
                let beta = g.model.sourcePosition(x: t.x, y: t.y)
                XCTAssertEqual(beta.x, lens.truth.parameters.sourceX, accuracy: 1e-9)
                XCTAssertEqual(beta.y, lens.truth.parameters.sourceY, accuracy: 1e-9)
                let p = g.model.evaluate(x: t.x, y: t.y)
                XCTAssertEqual(t.macroMagnification, p.magnification, accuracy: 1e-9 * abs(p.magnification))
            }
        }
        // The catalog is a Codable value: JSON round trip.
        let data = try JSONEncoder().encode(cat)
        XCTAssertEqual(try JSONDecoder().decode(MockLensCatalog.self, from: data), cat)
    }

    func testOutsideTableIsAnErrorNamingTheLensWhenNotRejected() throws {
        var survey = SurveySettings()
        survey.rejectOutsideTable = false
        let pop = try Fixtures.population(survey: survey)
        // Some draw among the first few hundred has a highly magnified image beyond the table's critical margin.
        var caught: LensInferenceError?
        for i in 0..<400 {
            do { _ = try pop.draw(index: i, seed: 11) } catch let e as LensInferenceError { caught = e; break }
        }
        let e = try XCTUnwrap(caught)
        guard case let .outsideTable(lens, image, _, _, _, _, _) = e else { return XCTFail("\(e)") }
        XCTAssertTrue(lens.hasPrefix("lens-"))
        XCTAssertTrue("\(e)".contains("lens '\(lens)', image \(image): (κ, γ, s) = ("), "\(e)")
    }
}
