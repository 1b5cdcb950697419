import Foundation
import Inference
import XCTest

final class PassConvergenceTests: XCTestCase {
    func rule(min: Int = 2, max: Int = 10, abs: [Double] = [0], frac: [Double] = [0], err: Double = 0) throws -> PassConvergence {
        try PassConvergence(minPasses: min, maxPasses: max, maxAbs: abs, maxFrac: frac, maxErr: err)
    }

    func testEachToleranceAloneDecidesAParameter() throws {
        let prev = [100.0, 0.5], errs = [10.0, 0.1]
        // Absolute: 0.4 and 0.004 changes, tolerance 0.5 passes both; 0.3 fails the first.
        XCTAssertTrue(try rule(abs: [0.5]).change(previous: prev, current: [100.4, 0.504], errors: errs).converged)
        XCTAssertFalse(try rule(abs: [0.3]).change(previous: prev, current: [100.4, 0.504], errors: errs).converged)
        // Fractional: 0.4% and 0.8%.
        let c = try rule(frac: [0.01]).change(previous: prev, current: [100.4, 0.504], errors: errs)
        XCTAssertTrue(c.converged)
        XCTAssertEqual(c.fractional[0], 0.004, accuracy: 1e-12)
        XCTAssertEqual(c.fractional[1], 0.008, accuracy: 1e-12)
        XCTAssertFalse(try rule(frac: [0.005]).change(previous: prev, current: [100.4, 0.504], errors: errs).converged)
        // In errors: 0.04σ each.
        let e = try rule(err: 0.05).change(previous: prev, current: [100.4, 0.504], errors: errs)
        XCTAssertTrue(e.converged)
        XCTAssertEqual(e.largestInErrors, 0.04, accuracy: 1e-9)
        XCTAssertFalse(try rule(err: 0.03).change(previous: prev, current: [100.4, 0.504], errors: errs).converged)
    }

    func testEveryParameterMustPassOneTestAndPerParameterTolerancesBroadcast() throws {
        // Parameter 0 passes only the absolute test, parameter 1 only the error test: converged.
        let r = try rule(abs: [1, 0], frac: [0], err: 0.5)
        XCTAssertTrue(try r.change(previous: [10, 5], current: [10.9, 5.2], errors: [0.1, 1]).converged)
        // Parameter 1's absolute tolerance is 0 (last value repeats), and 0.2/0.1 = 2σ: fails.
        XCTAssertFalse(try r.change(previous: [10, 5], current: [10.9, 5.2], errors: [0.1, 0.1]).converged)
    }

    func testMissingErrorsAndZeroPreviousValuesNeverPass() throws {
        let r = try rule(frac: [0.5], err: 10)
        let c = try r.change(previous: [0, 1], current: [1e-9, 1], errors: [.nan, 0])
        XCTAssertEqual(c.fractional[0], .infinity)
        XCTAssertEqual(c.inErrors[0], .infinity)
        XCTAssertFalse(c.converged)
        // No change at all converges whatever the errors.
        XCTAssertTrue(try r.change(previous: [0, 1], current: [0, 1], errors: [.nan, .nan]).converged)
        // A NaN value fails.
        XCTAssertFalse(try rule(abs: [1e9], frac: [1e9], err: 1e9).change(previous: [1], current: [.nan], errors: [1]).converged)
        XCTAssertThrowsError(try r.change(previous: [1], current: [1, 2], errors: [1, 1]))
        XCTAssertThrowsError(try rule(min: 3, max: 2))
        XCTAssertThrowsError(try rule(abs: [-1]))
    }

    func testTrackerHonoursMinMaxAndNeighbours() throws {
        // Objects 0–1 neighbours, 2 alone; tolerance 0.1σ.
        var t = PassTracker(rule: try rule(min: 2, max: 4, err: 0.1), neighbours: [[1], [0], []])
        for i in 0..<3 { try t.record(i, values: [1], errors: [1]) }
        XCTAssertEqual(t.completedPass, 1)
        XCTAssertTrue((0..<3).allSatisfy(t.needsPass), "below the minimum every object needs a pass")
        XCTAssertEqual(t.largestChange, .infinity)
        try t.record(0, values: [1.05], errors: [1])   // converged
        try t.record(1, values: [2], errors: [1])      // moved 1σ
        try t.record(2, values: [1.01], errors: [1])   // converged
        XCTAssertEqual(t.convergedCount, 2)
        XCTAssertEqual(t.largestChange, 1, accuracy: 1e-12)
        XCTAssertTrue(t.needsPass(0), "a converged object whose neighbour moved is refitted")
        XCTAssertTrue(t.needsPass(1))
        XCTAssertFalse(t.needsPass(2))
        XCTAssertEqual(t.completedPass, 2)
        XCTAssertFalse(t.isFinished)
        try t.record(1, values: [2.01], errors: [1])
        XCTAssertFalse(t.needsPass(0))
        XCTAssertFalse(t.needsPass(1))
        XCTAssertTrue(t.isFinished)
        // Maximum: an object that never converges stops at max passes.
        var u = PassTracker(rule: try rule(min: 1, max: 3, err: 0.1), neighbours: [[]])
        var k = 0
        while u.needsPass(0) { k += 1; try u.record(0, values: [Double(k)], errors: [1]) }
        XCTAssertEqual(u.passes[0], 3)
        XCTAssertFalse(u.converged[0])
        // Exclusion releases neighbours.
        var v = PassTracker(rule: try rule(min: 1, max: 5, err: 0.1), neighbours: [[1], [0]])
        try v.record(0, values: [1], errors: [1]); try v.record(0, values: [1], errors: [1])
        try v.record(1, values: [1], errors: [1])
        XCTAssertTrue(v.needsPass(0))
        v.exclude(1)
        XCTAssertFalse(v.needsPass(0))
        XCTAssertFalse(v.needsPass(1))
        XCTAssertEqual(v.activeCount, 1)
    }

    func testTrackerSurvivesAJSONRoundTripMidPass() throws {
        var t = PassTracker(rule: try rule(min: 2, max: 5, err: 0.2), neighbours: [[1], [0]])
        try t.record(0, values: [1, 2], errors: [1, 1])
        try t.record(1, values: [3, 4], errors: [1, 1])
        try t.record(0, values: [1.1, 2], errors: [1, 1])
        let data = try JSONEncoder().encode(t)
        let back = try JSONDecoder().decode(PassTracker.self, from: data)
        XCTAssertEqual(back, t)
        XCTAssertNil(back.lastChange[1])
        var restored = PassTracker(rule: t.rule, neighbours: t.neighbours)
        try restored.restore(passes: back.passes, converged: back.converged, lastChange: back.lastChange, values: back.values,
                             excluded: back.excluded)
        XCTAssertEqual(restored, t)
    }

    /// The pass loop on a mock scene of coupled objects (each object's best value depends on its
    /// neighbours', as blended fluxes do): Gauss–Seidel passes driven by the tracker stop with every
    /// object converged, before the maximum, and near the exact joint solution.
    func testPassLoopOnCoupledObjectsConvergesToTheJointSolution() throws {
        // x_i = b_i + c (x_{i−1} + x_{i+1}) on a chain of 12 objects; c = 0.3 (diagonally dominant).
        let n = 12, c = 0.3
        let b = (0..<n).map { 10 + Double($0 % 3) }
        let neighbours = (0..<n).map { i in [i - 1, i + 1].filter { (0..<n).contains($0) } }
        let sigma = 0.05
        var t = PassTracker(rule: try rule(min: 2, max: 50, abs: [0], frac: [0], err: 0.01), neighbours: neighbours)
        var x = [Double](repeating: 0, count: n)
        var sweeps = 0
        while !t.isFinished {
            sweeps += 1
            for i in 0..<n where t.needsPass(i) {
                x[i] = b[i] + c * neighbours[i].reduce(0) { $0 + x[$1] }
                try t.record(i, values: [x[i]], errors: [sigma])
            }
            XCTAssertLessThan(sweeps, 60)
        }
        // Exact solution by dense Gauss–Seidel to machine precision.
        var exact = [Double](repeating: 0, count: n)
        for _ in 0..<2000 { for i in 0..<n { exact[i] = b[i] + c * neighbours[i].reduce(0) { $0 + exact[$1] } } }
        XCTAssertEqual(t.convergedCount, n)
        XCTAssertLessThan(t.passes.max()!, 50, "stopped by convergence, not by the maximum")
        XCTAssertGreaterThan(t.passes.max()!, 3, "coupling needs more than the minimum")
        for i in 0..<n { XCTAssertEqual(x[i], exact[i], accuracy: 0.01 * sigma * 10) }
        XCTAssertLessThanOrEqual(t.largestChange, 0.01)
    }

    /// Squared extrapolation of a linear pass map with one rate λ lands on its fixed point exactly
    /// (α = −1/(1 − λ)); a map that does not contract, or states that did not move, give no jump.
    func testSquaredExtrapolationIsExactForOneRate() throws {
        let lambda = 0.84, b = [3.0, -1.0], fixed = b.map { $0 / (1 - lambda) }
        func f(_ x: [Double]) -> [Double] { zip(x, b).map { lambda * $0 + $1 } }
        let x0 = [0.0, 0.0], x1 = f(x0), x2 = f(x1)
        let jump = try XCTUnwrap(PassExtrapolation.squared(x0, x1, x2, scale: [1, 1]) { _ in true })
        for i in 0..<2 { XCTAssertEqual(jump[i], fixed[i], accuracy: 1e-9) }
        // λ = 1.2: expanding, no jump; no movement, no jump.
        let g = { (x: [Double]) in x.map { 1.2 * $0 + 1 } }
        XCTAssertNil(PassExtrapolation.squared([0], g([0]), g(g([0])), scale: [1]) { _ in true })
        XCTAssertNil(PassExtrapolation.squared([1, 1], [1, 1], [1, 1], scale: [1, 1]) { _ in true })
        // A domain that excludes the fixed point (x < 10): the jump is pulled back inside, beyond x2.
        let inside = try XCTUnwrap(PassExtrapolation.squared([0], [1], [1.84], scale: [1]) { $0[0] < 10 })
        XCTAssertTrue(inside[0] > 1.84 && inside[0] < 10, "\(inside)")
        // |α| is capped: λ = 0.99 would need α = −100; with maxStep 20 the jump stops short.
        let slow = try XCTUnwrap(PassExtrapolation.squared([0], [1], [1.99], scale: [1], maxStep: 20) { _ in true })
        XCTAssertLessThan(slow[0], 100 * 0.99)
    }

    /// A close blend as a linear model: two fluxes sharing light with overlap c = 0.9, fitted in
    /// Gauss–Seidel passes (each flux with the other held), x₀ = b₀ − c·x₁, x₁ = b₁ − c·x₀, whose
    /// error shrinks by c² = 0.81 per pass. Plain passes need more than 15 to meet a 0.05σ rule; with a jump
    /// after every three whole passes (`PassTracker.moved`, so the next pass is compared with the
    /// jump) the same rule holds within 8, at the exact joint solution.
    func testExtrapolatedPassesConvergeFasterToTheJointSolution() throws {
        let c = 0.9, b = [100.0, 40.0], sigma = 1.0
        let exact = [(b[0] - c * b[1]) / (1 - c * c), (b[1] - c * b[0]) / (1 - c * c)]
        func run(extrapolate: Bool) throws -> (passes: Int, x: [Double], converged: Bool) {
            var t = PassTracker(rule: try rule(min: 2, max: 40, abs: [0], frac: [0], err: 0.05), neighbours: [[1], [0]])
            var x = [0.0, 0.0]
            var states: [[Double]] = []
            while !t.isFinished {
                x[0] = b[0] - c * x[1]
                try t.record(0, values: [x[0]], errors: [sigma])
                x[1] = b[1] - c * x[0]
                try t.record(1, values: [x[1]], errors: [sigma])
                guard extrapolate, !t.isFinished else { continue }
                states.append(x)
                guard states.count == 3 else { continue }
                if let jump = PassExtrapolation.squared(states[0], states[1], states[2], scale: [sigma, sigma], isAcceptable: { _ in true }) {
                    x = jump
                    t.moved(0, to: [x[0]])
                    t.moved(1, to: [x[1]])
                    XCTAssertFalse(t.converged[0] || t.converged[1], "a jump is not a converged pass")
                    states = []
                } else {
                    states.removeFirst()
                }
            }
            return (t.passes.max()!, x, t.convergedCount == 2)
        }
        let plain = try run(extrapolate: false), fast = try run(extrapolate: true)
        XCTAssertTrue(plain.converged && fast.converged)
        XCTAssertGreaterThan(plain.passes, 15)
        XCTAssertLessThanOrEqual(fast.passes, 8, "plain \(plain.passes), extrapolated \(fast.passes)")
        for i in 0..<2 { XCTAssertEqual(fast.x[i], exact[i], accuracy: 0.05 * sigma) }
    }
}
