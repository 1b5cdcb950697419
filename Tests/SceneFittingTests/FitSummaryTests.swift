import Astrometry
import Foundation
import XCTest
import TesseraSupport
import Inference
import SceneModel
@testable import SceneFitting

final class FitSummaryTests: XCTestCase {
    func testCatalogColumns() {
        XCTAssertEqual(CatalogColumns.names(bands: ["g", "r"], isPoint: false), ["g", "r", "ra", "dec", "q", "pa", "sersic", "rhalf"])
        XCTAssertEqual(CatalogColumns.names(bands: ["g", "r"], isPoint: true), ["g", "r", "ra", "dec"])
        let galaxy = Source(id: 7, ra: 10, dec: -3, flux: [1, 2], q: 0.5, pa: 0.2, sersic: 2, rhalf: 0.3, isPoint: false)
        XCTAssertEqual(CatalogColumns.values(galaxy), [1, 2, 10, -3, 0.5, 0.2, 2, 0.3])
        var point = galaxy
        point.isPoint = true
        XCTAssertEqual(CatalogColumns.values(point), [1, 2, 10, -3])
        let layout = ParameterLayout(bandCount: 2, isPoint: [false])
        XCTAssertEqual(layout.parameters(ofSource: 0).map { CatalogColumns.name(of: $0, bands: ["g", "r"]) },
                       CatalogColumns.names(bands: ["g", "r"], isPoint: false))
    }

    /// Sample standard deviations of the draws, with positions in arcsec on the sky.
    func testUncertaintiesFromDraws() throws {
        let (posterior, truth, _) = try PatchFitterTests.makePosterior(seed: 3)
        let layout = posterior.kernel.layout
        let xi = layout.index(ofSource: 0, .xi)!, eta = layout.index(ofSource: 0, .eta)!, flux = layout.index(ofSource: 0, .flux(band: 1))!
        let offsets = [-0.02, 0.0, 0.03, 0.01]
        let chain = offsets.map { d -> [Double] in
            var t = truth
            t[xi] += d; t[eta] -= 2 * d; t[flux] += 100 * d
            return t
        }
        let fit = PatchFitResult(final: chain.last!, covariances: [[Double](repeating: 0, count: 64)], chain: chain, stats: nil,
                                 logLikelihood: 0, chi2: 0, evaluations: 0, optimizerConverged: nil)
        let plane = TangentPlane(ra0: 10, dec0: 10)
        let active = [Source(id: 42, ra: 10, dec: 10, flux: [1, 1], isPoint: false)]
        let summary = FitSummary(fit: fit, posterior: posterior, plane: plane, active: active, bands: ["A", "B"], sampled: true)
        XCTAssertTrue(summary.fromDraws)
        XCTAssertEqual(summary.sources.map(\.id), [42])
        XCTAssertTrue(summary.draws.count == 1 && summary.draws[0].count == 4 && summary.draws[0][0].count == 8)
        let mean = offsets.reduce(0, +) / 4
        let sd = (offsets.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3).squareRoot()
        let u = summary.uncertainties[0]
        XCTAssertEqual(Set(u.keys), Set(CatalogColumns.names(bands: ["A", "B"], isPoint: false)))
        XCTAssertLessThan(abs(u["ra"]! - sd), 1e-6 * sd, "ra \(u["ra"]!) vs \(sd) arcsec")
        XCTAssertLessThan(abs(u["dec"]! - 2 * sd), 1e-6 * sd)
        XCTAssertLessThan(abs(u["B"]! - 100 * sd), 1e-9 * sd)
        XCTAssertTrue(u["A"]! == 0 && u["q"]! == 0)
    }

    /// Without draws (optimising, or fewer than two draws): σ = |dx/dy| σ_y per parameter.
    func testUncertaintiesFromTheLaplaceCovariance() throws {
        let (posterior, truth, _) = try PatchFitterTests.makePosterior(seed: 3)
        var covariance = [Double](repeating: 0, count: 64)
        for j in 0..<8 { covariance[j * 8 + j] = Double(j + 1) * 0.01 }
        let fit = PatchFitResult(final: truth, covariances: [covariance], chain: [truth], stats: nil,
                                 logLikelihood: 0, chi2: 0, evaluations: 0, optimizerConverged: true)
        let active = [Source(id: 1, ra: 10, dec: 10, flux: [1, 1], isPoint: false)]
        let summary = FitSummary(fit: fit, posterior: posterior, plane: TangentPlane(ra0: 10, dec0: 10), active: active,
                                 bands: ["A", "B"], sampled: true)
        XCTAssertTrue(!summary.fromDraws && summary.draws.isEmpty)
        let u = summary.uncertainties[0]
        XCTAssertEqual(u["A"], (0.01 as Double).squareRoot())  // identity transform on fluxes
        let y = posterior.unconstrain(truth)
        let layout = posterior.kernel.layout
        for (j, p) in layout.parameters(ofSource: 0).enumerated() {
            let i = layout.index(ofSource: 0, p)!
            let expected = abs(posterior.density.transforms[i].derivative(y[i])) * (Double(j + 1) * 0.01).squareRoot()
            XCTAssertEqual(u[CatalogColumns.name(of: p, bands: ["A", "B"])], expected, "\(p)")
        }
    }
}
