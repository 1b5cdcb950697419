import Foundation
import LensInference
import XCTest

final class SelectionTests: XCTestCase {
    func testTableInterpolatesMultilinearFunctionsExactlyAndNamesOutOfGridParameter() throws {
        let axes = [[1.0, 1.3, 1.6], [1.2, 1.8], [12.5, 13.0, 13.5], [0.1, 0.3]]
        func f(_ x: [Double]) -> Double { -2 + 0.4 * x[0] - 0.1 * x[1] + 0.7 * (x[2] - 13) + 0.2 * x[3] + 0.05 * x[0] * x[2] }
        let table = try SelectionTable.build(version: "t1", axes: axes, base: PopulationHyperparameters()) { exp(f($0.inferred)) }
        var eta = PopulationHyperparameters()
        for x in [[1.1, 1.5, 12.7, 0.2], [1.6, 1.2, 13.5, 0.1], [1.45, 1.7, 13.2, 0.25]] {
            eta.inferred = x
            XCTAssertEqual(try table.logA(eta), f(x), accuracy: 1e-12)
        }
        eta.inferred = [1.1, 1.5, 14.0, 0.2]
        XCTAssertThrowsError(try table.logA(eta)) { XCTAssertTrue("\($0)".contains("haloNormalisation"), "\($0)") }
        XCTAssertEqual(try JSONDecoder().decode(SelectionTable.self, from: JSONEncoder().encode(table)), table)
    }

    /// Heavier halos have larger Einstein radii and caustics: more sources in the fixed disc are multiply imaged
    /// and pass the separation cut. With common random numbers the paired change is resolved with 80 draws
    /// (a sign test on the draws whose selection flips).
    func testMonteCarloSelectionGrowsWithHaloMass() throws {
        let sel = SelectionFunction(population: try Fixtures.population(), draws: 80, seed: 2)
        var lo = PopulationHyperparameters(), hi = PopulationHyperparameters()
        lo.haloNormalisation = 12.6
        hi.haloNormalisation = 13.4
        let a = try sel.indicators(lo), b = try sel.indicators(hi)
        let up = zip(a, b).filter { !$0 && $1 }.count, down = zip(a, b).filter { $0 && !$1 }.count
        XCTAssertGreaterThan(Double(up - down), 2 * Double(up + down).squareRoot(), "gained \(up), lost \(down)")
        var few = sel
        few.draws = 20
        let e = try few.estimate(hi)
        XCTAssertEqual(e.fraction, Double(b.prefix(20).filter { $0 }.count) / 20)
        XCTAssertEqual(e.standardError, (e.fraction * (1 - e.fraction) / 20).squareRoot(), accuracy: 1e-15)
    }

    func testPopulationDensityPrefersInjectedHyperparametersAndSubtractsSelection() throws {
        let cat = try Fixtures.catalog(count: 3, seed: 5)
        let lenses = try cat.lenses.map { try LensLikelihood(lens: $0, cosmology: Fixtures.cosmology, microlensing: Fixtures.microlensing, sourceSize: 0) }
        let params = cat.lenses.map(\.truth.parameters)
        let axes = [[1.0, 1.5], [1.0, 2.0], [12.5, 13.5], [0.1, 0.3]]
        let table = try SelectionTable.build(version: "t", axes: axes, base: cat.hyperparameters) { eta in
            exp(-1 + 0.5 * (eta.haloNormalisation - 13))
        }
        let noSel = PopulationLikelihood(lenses: lenses, survey: cat.survey, selection: nil)
        let withSel = PopulationLikelihood(lenses: lenses, survey: cat.survey, selection: table)
        let eta = cat.hyperparameters
        let d0 = try noSel.logDensity(eta: eta, parameters: params), d1 = try withSel.logDensity(eta: eta, parameters: params)
        XCTAssertEqual(d0 - d1, 3 * (try table.logA(eta)), accuracy: 1e-9)
        // α_sps moves both the lens models and the halo relation: a 15% change costs many units of log density.
        var wrong = eta
        wrong.alphaSPS *= 1.15
        XCTAssertLessThan(try noSel.logDensity(eta: wrong, parameters: params), d0 - 10)
        // Analytic prior gradient against a central difference in each inferred hyperparameter.
        let lens = cat.lenses[0], p = params[0]
        let g = noSel.logPriorGradient(p, lens: lens, eta: eta)
        for k in 0..<4 {
            var a = eta, b = eta
            let h = 1e-6
            a.inferred[k] += h
            b.inferred[k] -= h
            let fd = (noSel.logPrior(p, lens: lens, eta: a) - noSel.logPrior(p, lens: lens, eta: b)) / (2 * h)
            XCTAssertEqual(g[k], fd, accuracy: 1e-5 * max(1, abs(fd)), "component \(k)")
        }
    }
}
