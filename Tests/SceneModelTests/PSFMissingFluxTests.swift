import Foundation
import XCTest
@testable import SceneModel

/// `PSFFitResult.missingFluxBeyond` / `missingFluxFraction`: the wing flux a mixture misses.
final class PSFMissingFluxTests: XCTestCase {
    /// A pixel-integrated Gaussian is matched exactly by one component: nothing is missing.
    func testAGaussianMissesNothing() throws {
        let (n, c) = (41, 20.3)
        let image = try PSFImage(width: n, height: n, values: renderExactCircular(sigma: 1.8, width: n, height: n, cx: c, cy: c))
        let fit = try PSFFitter.fit(image, options: PSFFitOptions(components: 1))
        XCTAssertEqual(fit.missingFluxRadii, [3, 6, 10, 15])
        XCTAssertEqual(fit.missingFluxBeyond.count, 4)
        for m in fit.missingFluxBeyond { XCTAssertLessThan(abs(m), 2e-3, "\(fit.missingFluxBeyond)") }
        XCTAssertLessThan(abs(fit.missingFluxFraction), 2e-3)
    }

    /// A Moffat profile with β = 2 has power-law wings (flux beyond r ∝ (1 + r²/α²)⁻¹). One
    /// Gaussian with its second moments is too wide in the core and too narrow far out: it puts
    /// too much light beyond 3 pixels (negative) and misses light beyond 10 (positive); the
    /// headline is the entry largest in size. Four components miss far less.
    func testMoffatWingsAreReportedMissing() throws {
        let (n, c, alpha) = (41, 20.0, 2.0)
        var values = [Double](repeating: 0, count: n * n)
        for y in 0..<n { for x in 0..<n {
            let r2 = (Double(x) - c) * (Double(x) - c) + (Double(y) - c) * (Double(y) - c)
            values[y * n + x] = pow(1 + r2 / (alpha * alpha), -2)
        } }
        let image = try PSFImage(width: n, height: n, values: values)
        let one = try PSFFitter.fit(image, options: PSFFitOptions(components: 1))
        let four = try PSFFitter.fit(image, options: PSFFitOptions(components: 4, maxIterations: 400))
        XCTAssertLessThan(one.missingFluxBeyond[0], -0.1, "one Gaussian: \(one.missingFluxBeyond)")
        XCTAssertGreaterThan(one.missingFluxBeyond[2], 0.02, "one Gaussian: \(one.missingFluxBeyond)")
        XCTAssertEqual(one.missingFluxFraction, one.missingFluxBeyond.max { abs($0) < abs($1) })
        let worstFour = four.missingFluxBeyond.map(abs).max()!
        XCTAssertLessThan(worstFour, 0.5 * abs(one.missingFluxFraction), "four: \(four.missingFluxBeyond)")
    }
}
