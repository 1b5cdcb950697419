@testable import LensInference
import StrongLensing
import XCTest

/// The finite-difference gradient's stepped evaluations find their images by Newton tracking from the point's
/// own images (`LensSolver.track`) instead of the full mesh search; these tests hold it to the full search.
final class LensLikelihoodTrackingTests: XCTestCase {
    static let catalog: MockLensCatalog = try! Fixtures.catalog(count: 3, seed: 5)

    /// At the truth and at a point 0.02 dex / 0.01″ / 0.05 α away, with the table and without, every component of
    /// the tracked gradient equals the 15-full-search gradient to 1e-6 relative (both are differences of values
    /// that agree to Newton's tolerance, 1e-12″), and the value is the full search's exactly.
    func testTrackedGradientEqualsFullSearchGradient() throws {
        for lens in Self.catalog.lenses {
            let like = try LensLikelihood(lens: lens, cosmology: Fixtures.cosmology, microlensing: Fixtures.microlensing, sourceSize: 0)
            var away = lens.truth.parameters
            away.logHaloMass += 0.02; away.sourceX += 0.01; away.shear1 -= 0.005
            for (p, alpha) in [(lens.truth.parameters, lens.truth.alphaSPS), (away, lens.truth.alphaSPS + 0.05)] {
                for useTable in [true, false] {
                    let (value, tracked) = try like.valueAndGradient(p, alphaSPS: alpha, microlensing: useTable)
                    guard value.isFinite else { continue }
                    XCTAssertEqual(value, try like.logLikelihood(p, alphaSPS: alpha, microlensing: useTable))
                    let full = try like.fullSearchGradient(p, alphaSPS: alpha, microlensing: useTable)
                    for k in 0..<7 {
                        XCTAssertTrue(tracked[k].isFinite, "\(lens.id) component \(k)")
                        XCTAssertEqual(tracked[k], full[k], accuracy: 1e-6 * max(1, abs(full[k])),
                                       "\(lens.id) component \(k), table \(useTable)")
                    }
                }
            }
        }
    }

    /// `track` returns the same images for the same source and model, follows a small move to the full search's
    /// images, and gives nil (never a wrong image set) when the source moves far outside the caustic, where the
    /// quad's images cannot all survive.
    func testTrackFollowsSmallMovesAndRefusesLostImages() throws {
        let lens = Self.catalog.lenses[0]
        let like = try LensLikelihood(lens: lens, cosmology: Fixtures.cosmology, microlensing: Fixtures.microlensing, sourceSize: 0)
        let p = lens.truth.parameters
        let galaxy = try XCTUnwrap(like.galaxy(p, alphaSPS: lens.truth.alphaSPS))
        let solver = LensSolver()
        let images = try galaxy.images(sourceX: p.sourceX, sourceY: p.sourceY, solver: solver)
        let same = try XCTUnwrap(solver.track(images, of: galaxy.model, sourceX: p.sourceX, sourceY: p.sourceY))
        for (a, b) in zip(images, same) {
            XCTAssertEqual(a.x, b.x, accuracy: 1e-12)
            XCTAssertEqual(a.y, b.y, accuracy: 1e-12)
            XCTAssertEqual(a.kind, b.kind)
        }
        let moved = try galaxy.images(sourceX: p.sourceX + 1e-4, sourceY: p.sourceY, solver: solver)
        let tracked = try XCTUnwrap(solver.track(images, of: galaxy.model, sourceX: p.sourceX + 1e-4, sourceY: p.sourceY))
        XCTAssertEqual(moved.count, tracked.count)
        for t in tracked {
            XCTAssertTrue(moved.contains { abs($0.x - t.x) < 1e-10 && abs($0.y - t.y) < 1e-10 && $0.kind == t.kind })
        }
        XCTAssertGreaterThanOrEqual(images.filter { $0.kind != .maximum }.count, 2)
        XCTAssertNil(solver.track(images, of: galaxy.model, sourceX: 3, sourceY: 3))
    }
}
