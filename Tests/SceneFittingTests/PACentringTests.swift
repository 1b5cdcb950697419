import Astrometry
import Foundation
import Inference
import SceneModel
import TesseraSupport
import XCTest
@testable import SceneFitting

/// pa is π-periodic: a galaxy whose pa lies near ±π/2, started on the other side of the wrap,
/// is fitted correctly only when its pa interval is centred on its current value.
final class PACentringTests: XCTestCase {
    func posterior(truthPA: Double, centres: [Double?]?) throws -> (PatchPosterior, PatchSource) {
        let truth = PatchSource(xi: 0, eta: 0, flux: [3000], q: 0.5, pa: truthPA, sersic: 1.5, rhalf: 0.35, isPoint: false)
        return (try OneGalaxyPatch.posterior(truth: truth, paCentres: centres), truth)
    }

    /// The log posterior along pa (all else at the truth), on a grid of the unconstrained
    /// coordinate: one maximum with the interval centred on the current pa, two (the mode and
    /// its copy across the wrap) with the fixed (−π/2, π/2] interval when pa lies near π/2.
    func testPosteriorAlongPAIsUnimodalOnlyWithACentredInterval() throws {
        let truthPA = 1.55
        func localMaxima(_ centres: [Double?]?) throws -> Int {
            let (p, truth) = try posterior(truthPA: truthPA, centres: centres)
            let k = p.kernel.layout.index(ofSource: 0, .pa)!
            var y = p.unconstrain(p.kernel.parameters(of: [truth]))
            let grid = stride(from: -9.0, through: 9.0, by: 0.1).map { $0 }
            let values = try grid.map { v -> Double in y[k] = v; return try p.logDensityAndGradient(y).value }
            return (1..<(values.count - 1)).filter { values[$0] > values[$0 - 1] && values[$0] > values[$0 + 1] }.count
        }
        XCTAssertEqual(try localMaxima([truthPA]), 1)
        XCTAssertEqual(try localMaxima(nil), 2)
        XCTAssertThrowsError(try posterior(truthPA: truthPA, centres: [0, 0]))
    }
}
