import Inference
import LensInference
import XCTest

/// `EnclosedMassCoordinates`: stage 1's (u = ln a(θ_ref), …) coordinates must be an exact change of variables of the
/// interim posterior, so the draws mapped back are draws of the same density.
final class EnclosedMassCoordinatesTests: XCTestCase {
    static let catalog: MockLensCatalog = try! Fixtures.catalog(count: 3, seed: 5)

    static func posterior(_ lens: MockLens) throws -> LensInterimPosterior {
        let like = try LensLikelihood(lens: lens, cosmology: Fixtures.cosmology, microlensing: Fixtures.microlensing, sourceSize: 0)
        return try LensInterimPosterior(likelihood: like, survey: SurveySettings(), logHaloMassRange: 11.5...15,
                                        alphaRange: 0.6...2.2, microlensing: true)
    }

    /// z → w → z returns log M_h to 1e-10 dex over the box; a deflection above the box's largest is outside (nil).
    func testRoundTripAndBox() throws {
        let c = EnclosedMassCoordinates(try Self.posterior(Self.catalog.lenses[0]))
        XCTAssertGreaterThan(c.referenceRadius, 0.2)
        for m in stride(from: 11.6, through: 14.9, by: 0.3) {
            for alpha in [0.7, 1.2, 2.0] {
                let z = [m, 0.01, -0.02, 0.05, 0.03, 1.9, alpha]
                let w = try XCTUnwrap(c.sampling(z))
                let back = try XCTUnwrap(c.constrained(w))
                XCTAssertEqual(back[0], m, accuracy: 1e-10, "log M_h \(m), α \(alpha)")
                XCTAssertEqual(Array(back[1...]), Array(z[1...]))
            }
        }
        let top = try XCTUnwrap(c.enclosedDeflection(logHaloMass: 15, alpha: 1.2))
        XCTAssertNil(c.logHaloMass(u: top + 0.01, alpha: 1.2))
    }

    /// ln q(w) − ln p(z(w)) is ln |∂ log M_h/∂u|, checked against a central difference of the root; and the
    /// gradient of ln q matches central differences of ln q in every coordinate (1e-4 relative), at the truth and
    /// 0.1 dex / 0.1 α away.
    func testJacobianAndGradient() throws {
        for lens in Self.catalog.lenses.prefix(2) {
            let posterior = try Self.posterior(lens)
            let c = EnclosedMassCoordinates(posterior)
            let t = lens.truth.parameters
            for (dm, da) in [(0.0, 0.0), (0.1, -0.1)] {
                let z = [t.logHaloMass + dm, t.shear1, t.shear2, t.sourceX, t.sourceY, t.logSourceFlux, lens.truth.alphaSPS + da]
                let w = try XCTUnwrap(c.sampling(z))
                let (q, g) = try c.logDensityAndGradient(w)
                let p = try posterior.logDensity(z)
                guard q.isFinite, p.isFinite else { continue }
                let h = 1e-5
                let mp = try XCTUnwrap(c.logHaloMass(u: w[0] + h, alpha: w[6]))
                let mm = try XCTUnwrap(c.logHaloMass(u: w[0] - h, alpha: w[6]))
                XCTAssertEqual(q - p, Double.log((mp - mm) / (2 * h)), accuracy: 1e-6, "\(lens.id)")
                let steps = [1e-5, 1e-5, 1e-5, 1e-5, 1e-5, 1e-5, 1e-4]
                for k in 0..<7 {
                    var wp = w, wm = w
                    wp[k] += steps[k]; wm[k] -= steps[k]
                    let fd = (try c.logDensityAndGradient(wp).value - c.logDensityAndGradient(wm).value) / (2 * steps[k])
                    XCTAssertEqual(g[k], fd, accuracy: 1e-4 * max(10, abs(fd)), "\(lens.id) component \(k) at Δ(\(dm), \(da))")
                }
            }
        }
    }
}
