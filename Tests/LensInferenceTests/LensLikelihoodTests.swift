import Foundation
import LensInference
import Microlensing
import XCTest

final class LensLikelihoodTests: XCTestCase {
    static let catalog: MockLensCatalog = try! Fixtures.catalog(count: 3, seed: 5)

    /// Injected truth. The maximum-likelihood point is not the truth (position noise of 5 mas, 5% flux errors and
    /// a random microlensing factor per image), so the checks are: along each parameter a 13-point scan over
    /// ±w about the truth peaks within w/2 of it and falls by more than 10 in ln L at both ends (4 for the source
    /// flux, which microlensing's broad PDF leaves loosely constrained: its ±1 dex), and the truth is
    /// not far below the scan maxima (Δ ln L < 8, where noise gives ~½ per constrained direction).
    func testLikelihoodPeaksNearTheInjectedLens() throws {
        for lens in Self.catalog.lenses.prefix(2) {
            let like = try LensLikelihood(lens: lens, cosmology: Fixtures.cosmology, microlensing: Fixtures.microlensing, sourceSize: 0)
            let truth = lens.truth.parameters, alpha = lens.truth.alphaSPS
            let atTruth = try like.logLikelihood(truth, alphaSPS: alpha)
            XCTAssertTrue(atTruth.isFinite)
            // log M_h, γ₁, γ₂, β_x, β_y [arcsec], log F_s.
            let half = [0.15, 0.03, 0.03, 0.03, 0.03, 1.0]
            for k in 0..<6 {
                var best = (-Double.infinity, 0.0), ends: [Double] = []
                for j in -6...6 {
                    var p = truth
                    let d = half[k] * Double(j) / 6
                    p.vector[k] += d
                    let l = try like.logLikelihood(p, alphaSPS: alpha)
                    if l > best.0 { best = (l, d) }
                    if abs(j) == 6 { ends.append(l) }
                }
                XCTAssertLessThan(abs(best.1), half[k] / 2, "\(lens.id) parameter \(k): peak at \(best.1)")
                XCTAssertLessThan(best.0 - atTruth, 8, "\(lens.id) parameter \(k)")
                for e in ends { XCTAssertLessThan(e, best.0 - (k == 5 ? 4 : 10), "\(lens.id) parameter \(k)") }
            }
            // α_sps at fixed halo and source: ±20% is far worse than the truth.
            XCTAssertLessThan(try like.logLikelihood(truth, alphaSPS: alpha * 1.2), atTruth - 10)
            XCTAssertLessThan(try like.logLikelihood(truth, alphaSPS: alpha / 1.2), atTruth - 10)
        }
    }

    func testWrongImageCountOrBadLensIsMinusInfinity() throws {
        let lens = Self.catalog.lenses[0]
        let like = try LensLikelihood(lens: lens, cosmology: Fixtures.cosmology, microlensing: Fixtures.microlensing, sourceSize: 0)
        var p = lens.truth.parameters
        p.sourceX = 3; p.sourceY = 3  // far outside every caustic: one image
        XCTAssertEqual(try like.logLikelihood(p, alphaSPS: 1.2), -.infinity)
        XCTAssertEqual(try like.logLikelihood(lens.truth.parameters, alphaSPS: -1), -.infinity)
    }

    func testOutsideTableErrorNamesTheLensAndImage() throws {
        let lens = Self.catalog.lenses[0]
        // A table covering only κ ∈ [0.05, 0.1]: every image is outside it.
        let tiny = MagnificationTableInterpolator(kappaAxis: [0.05, 0.1], gammaAxis: [0, 2], sAxis: [0, 1], sourceSizes: [0],
                                                  logMuEdges: [-1, 0, 1], pdf: [Double](repeating: 0.5, count: 16),
                                                  present: [Bool](repeating: true, count: 8), criticalMargin: 0)
        let like = try LensLikelihood(lens: lens, cosmology: Fixtures.cosmology, microlensing: MicrolensedFlux(table: tiny), sourceSize: 0)
        XCTAssertThrowsError(try like.logLikelihood(lens.truth.parameters, alphaSPS: lens.truth.alphaSPS)) { e in
            XCTAssertTrue("\(e)".contains("lens '\(lens.id)', image 0: (κ, γ, s) = ("), "\(e)")
            XCTAssertTrue("\(e)".contains("κ = "), "\(e)")
        }
        // Without microlensing the same lens needs no table.
        XCTAssertTrue(try like.logLikelihood(lens.truth.parameters, alphaSPS: lens.truth.alphaSPS, microlensing: false).isFinite)
    }

    func testFiniteDifferenceGradientIsStableAcrossSteps() throws {
        let lens = Self.catalog.lenses[1]
        var like = try LensLikelihood(lens: lens, cosmology: Fixtures.cosmology, microlensing: Fixtures.microlensing, sourceSize: 0)
        let g1 = try like.gradient(lens.truth.parameters, alphaSPS: lens.truth.alphaSPS)
        like.finiteDifferenceSteps = like.finiteDifferenceSteps.map { $0 * 4 }
        let g4 = try like.gradient(lens.truth.parameters, alphaSPS: lens.truth.alphaSPS)
        for k in 0..<6 {
            XCTAssertTrue(g1[k].isFinite)
            XCTAssertEqual(g1[k], g4[k], accuracy: 1e-2 * max(1, abs(g1[k])), "component \(k)")
        }
    }
}
