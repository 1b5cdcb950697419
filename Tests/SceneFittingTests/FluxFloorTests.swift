import Astrometry
import Foundation
import XCTest
import TesseraSupport
import Inference
import SceneModel
@testable import SceneFitting

/// The flux floor (`ParameterBounds.fluxFloorSigmas`, `PatchPosterior.fluxFloors`) and the
/// fluxes-alone optimisation stage (`FitSettings.fluxesFirst`, `fluxesOnly`) of issue 16.
final class FluxFloorTests: XCTestCase {
    /// A point source on two 20² exposures (bands A and B) with unit noise and a Gaussian PSF of
    /// σ = 1.5 px; `fluxes` is the truth, the data carry noise from `seed`.
    static func pointSourcePatch(fluxes: [Double], seed: UInt64) throws -> SceneKernel {
        var rng = RandomSource(seed: seed)
        let n = 20
        let truth = PatchSource(xi: 0, eta: 0, flux: fluxes, q: 1, pa: 0, sersic: 1, rhalf: 0.1, isPoint: true)
        let mixture = try SersicMixture(radii: [0.3, 1.0, 2.5], nodes: [0.5, 3, 7], amplitudes: [[0.2, 0.6, 0.2], [0.4, 0.4, 0.2], [0.5, 0.3, 0.2]])
        var exposures: [PatchExposure] = []
        for b in 0..<2 {
            let a = LocalAstrometry(x0: 10, y0: 10, xi0: 0, eta0: 0, dxdXi: -10, dxdEta: 0, dydXi: 0, dydEta: 10)
            let x = (0..<(n * n)).map { Double($0 % n) }, y = (0..<(n * n)).map { Double($0 / n) }
            var e = PatchExposure(name: "e\(b)", band: b, x: x, y: y, data: .init(repeating: 0, count: n * n),
                                  inverseError: .init(repeating: 1, count: n * n), psf: .gaussian(sigma: 1.5), calibration: 1, astrometry: [a])
            let k = try SceneKernel(patch: Patch(bands: ["A", "B"], plane: TangentPlane(ra0: 10, dec0: 10), exposures: [e]),
                                    sersic: mixture, isPoint: [true])
            e.data = k.modelImages(k.parameters(of: [truth]))[0].map { $0 + rng.normal() }
            exposures.append(e)
        }
        return try SceneKernel(patch: Patch(bands: ["A", "B"], plane: TangentPlane(ra0: 10, dec0: 10), exposures: exposures),
                               sersic: mixture, isPoint: [true])
    }

    /// σ_F is the linear least-squares flux error 1/√(Σ w² ψ²) (ψ the model image of unit flux),
    /// the floor is −k σ_F, and a start already below −k σ_F gets a floor k σ_F below itself.
    func testFloorIsKSigmaOfTheFluxError() throws {
        let kernel = try Self.pointSourcePatch(fluxes: [100, 80], seed: 1)
        let unit = kernel.modelImages(kernel.parameters(of: [PatchSource(xi: 0, eta: 0, flux: [1, 1], q: 1, pa: 0, sersic: 1,
                                                                          rhalf: 0.1, isPoint: true)]))
        let sigma = unit.map { 1 / $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let x = [100.0, -400, 0, 0]
        let floors = try PatchPosterior.fluxFloors(kernel: kernel, at: x, sigmas: 5)
        XCTAssertEqual(floors[0][0], -5 * sigma[0], accuracy: 1e-6 * sigma[0])
        XCTAssertEqual(floors[0][1], -400 - 5 * sigma[1], accuracy: 1e-6 * sigma[1], "a start below −kσ stays inside")
        // The transform keeps every flux above its floor.
        let posterior = try PatchPosterior(kernel: kernel, anchors: [(0, 0)], bounds: ParameterBounds(), fluxFloors: floors)
        XCTAssertEqual(posterior.constrain([-3, -3, 0, 0])[0], floors[0][0] + exp(-3), accuracy: 1e-9)
        XCTAssertEqual(posterior.constrain(posterior.unconstrain(x))[1], -400, accuracy: 1e-9)
    }

    /// A dropout (true flux 0 in band B) keeps a negative optimum when the noise says so. The
    /// optimum in y (x = floor + eʸ) carries the log-Jacobian y, which moves it up by
    /// σ²/(x − floor) (from −(x − x̂)/σ² + 1/(x − floor) = 0): ≈ 0.2σ for a floor 5σ below zero,
    /// less for brighter fluxes. That shift is checked to 0.03σ, so neither a missing floor nor a
    /// wrong Jacobian passes.
    func testDropoutKeepsNegativeFlux() throws {
        var negative = 0
        for seed in UInt64(1)...12 {
            let kernel = try Self.pointSourcePatch(fluxes: [100, 0], seed: seed)
            let start = [100.0, 5, 0, 0]
            var settings = FitSettings()
            settings.mode = .optimize
            let free = try PatchFitter.fit(posterior: try PatchPosterior(kernel: kernel, anchors: [(0, 0)], bounds: ParameterBounds()),
                                           start: start, covariances: [nil], settings: settings, seed: 1, stream: 0)
            let floors = try PatchPosterior.fluxFloors(kernel: kernel, at: start, sigmas: 5)
            let bounded = try PatchFitter.fit(posterior: try PatchPosterior(kernel: kernel, anchors: [(0, 0)], bounds: ParameterBounds(), fluxFloors: floors),
                                              start: start, covariances: [nil], settings: settings, seed: 1, stream: 0)
            let sigma = -floors[0][1] / 5
            let shift = sigma * sigma / (bounded.final[1] - floors[0][1])
            XCTAssertEqual(bounded.final[1] - free.final[1], shift, accuracy: 0.03 * sigma,
                           "seed \(seed): free \(free.final[1]), bounded \(bounded.final[1]), σ \(sigma)")
            if free.final[1] < -0.5 * sigma {
                XCTAssertLessThan(bounded.final[1], 0, "seed \(seed): a dropout measured negative stays negative")
                negative += 1
            }
        }
        XCTAssertGreaterThan(negative, 1, "some seeds give a clearly negative flux")
    }

    /// `fluxesOnly` maximises over the fluxes alone: positions and shapes stay at the start and
    /// the fluxes' gradient vanishes there; `fluxesFirst` then reaches the same optimum as the
    /// plain joint fit on this single galaxy.
    func testFluxesOnlyHoldsShapesAndSolvesFluxes() throws {
        let (posterior, _, start) = try PatchFitterTests.makePosterior(seed: 3)
        var settings = FitSettings()
        settings.mode = .optimize
        settings.fluxesOnly = true
        let fit = try PatchFitter.fit(posterior: posterior, start: start, covariances: [nil], settings: settings, seed: 1, stream: 0)
        let clamped = posterior.clampedInside(start)
        for i in 2..<8 { XCTAssertEqual(fit.final[i], clamped[i], accuracy: 1e-12 * max(1, abs(clamped[i])), "parameter \(i) held") }
        XCTAssertNotEqual(fit.final[0], start[0])
        let g = try posterior.logDensityAndGradient(posterior.unconstrain(fit.final)).gradient
        XCTAssertLessThan(max(abs(g[0]), abs(g[1])), 1e-3, "flux gradient at the fluxes-alone optimum")
        XCTAssertEqual(fit.optimizerConverged, true)

        settings.fluxesOnly = false
        let staged = try PatchFitter.fit(posterior: posterior, start: start, covariances: [nil], settings: settings, seed: 1, stream: 0)
        settings.fluxesFirst = false
        let direct = try PatchFitter.fit(posterior: posterior, start: start, covariances: [nil], settings: settings, seed: 1, stream: 0)
        let sd = staged.covariances[0][0].squareRoot()
        XCTAssertEqual(staged.final[0], direct.final[0], accuracy: 0.01 * sd)
    }
}
