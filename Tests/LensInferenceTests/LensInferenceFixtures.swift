import Foundation
import HaloProfiles
import LensInference
import LensingRuns
import Microlensing
import XCTest

/// Shared fixtures: the small real magnification table (made by `tessera tabulate` from
/// Fixtures/microlensing-table-grid.yaml by scripts/make_inference_table_fixture.sh: 330 cells of 100×100-pixel
/// maps, κ 0.05–0.95 (offset so no node lies within the 0.04 margin of the critical line), γ 0–1.0, s 0.1–0.9,
/// source sizes 0 and 0.2, 70 bins of log10(μ/μ_th) over [−2, 1.5]) and a cosmology.
enum Fixtures {
    static let table: MagnificationTableInterpolator = {
        let url = Bundle.module.url(forResource: "microlensing-table", withExtension: "h5", subdirectory: "Fixtures")!
        return try! MagnificationTableInterpolator.load(url.path)
    }()
    static let cosmology = try! Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05)
    static var microlensing: MicrolensedFlux { MicrolensedFlux(table: table) }

    static func population(_ eta: PopulationHyperparameters = PopulationHyperparameters(),
                           survey: SurveySettings = SurveySettings()) throws -> MockPopulation {
        try MockPopulation(hyperparameters: eta, survey: survey, cosmology: cosmology, microlensing: microlensing)
    }

    /// A catalog of `count` lenses, drawn once per process per (count, seed).
    static func catalog(count: Int, seed: UInt64) throws -> MockLensCatalog {
        try population().catalog(count: count, seed: seed)
    }
}

/// The population density's analytic gradient against central differences (step 1e-6) in all four η components.
func assertGradientMatchesDifferences(_ pop: ReweightedPopulation, at eta: [Double], relative tolerance: Double,
                                      file: StaticString = #filePath, line: UInt = #line) throws {
    let (_, g) = try pop.logDensityAndGradient(eta)
    for k in 0..<4 {
        let step = 1e-6
        var p = eta, m = eta
        p[k] += step
        m[k] -= step
        let fd = (try pop.logDensityAndGradient(p).value - pop.logDensityAndGradient(m).value) / (2 * step)
        XCTAssertEqual(g[k], fd, accuracy: tolerance * max(1, abs(fd)), "η \(eta) component \(k)", file: file, line: line)
    }
}
