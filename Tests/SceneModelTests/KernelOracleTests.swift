import Foundation
import XCTest
import TesseraSupport
@testable import SceneModel

/// The optimised kernel against the scalar `ReferenceRenderer` (written independently, term by
/// term), both with the bundled 20-component Sérsic table; and the kernel's gradient in n and
/// r_half *through that table* against central finite differences.
final class KernelOracleTests: XCTestCase {
    func testKernelAgreesWithReferenceRendererOnTheBundledTable() throws {
        for seed: UInt64 in [11, 12, 13] { try kernelAgreesWithReferenceRendererOnTheBundledTable(seed: seed) }
    }

    private func kernelAgreesWithReferenceRendererOnTheBundledTable(seed: UInt64) throws {
        let table = try SersicMixture.bundled()
        let (patch, sources, _) = randomTestPatch(sources: 3, exposures: 2, size: 12, seed: seed)
        var kernel = try SceneKernel(patch: patch, sersic: table, isPoint: sources.map(\.isPoint))
        kernel.footprintTolerance = 0  // the exact model against the oracle (footprint error: FootprintTests)
        let fast = try kernel.evaluate(kernel.parameters(of: sources))
        let reference = ReferenceRenderer(sersic: table).evaluate(patch: patch, sources: sources)
        XCTAssertLessThanOrEqual(abs(fast.chi2 - reference.chi2), 1e-10 * reference.chi2)
        let scale = reference.gradient.map { abs($0) }.max() ?? 1
        for (i, (a, b)) in zip(fast.gradient, reference.gradient).enumerated() {
            XCTAssertLessThanOrEqual(abs(a - b), 1e-8 * max(abs(b), 1e-3 * scale), "parameter \(i): kernel \(a), reference \(b)")
        }
        let models = kernel.modelImages(kernel.parameters(of: sources))
        for (e, m) in models.enumerated() {
            let peak = reference.models[e].map { abs($0) }.max() ?? 1
            for (x, y) in zip(m, reference.models[e]) { XCTAssertLessThanOrEqual(abs(x - y), 1e-11 * peak) }
        }
    }

    func testSersicIndexAndRadiusGradientsThroughTheBundledTable() throws {
        let table = try SersicMixture.bundled()
        for seed in [21 as UInt64, 22, 23, 24] {
            let (patch, start, _) = randomTestPatch(sources: 2, exposures: 2, size: 12, seed: seed, pointEvery: 99)
            var rng = RandomSource(seed: seed, stream: 1)
            var sources = start
            // Indices spread over the table, including near its nodes' fine low-n spacing.
            for i in sources.indices { sources[i].sersic = 0.85 + 5 * rng.uniform(); sources[i].rhalf = 0.05 + 0.4 * rng.uniform() }
            let kernel = try SceneKernel(patch: patch, sersic: table, isPoint: sources.map(\.isPoint))
            let theta = kernel.parameters(of: sources)
            let g = try kernel.evaluate(theta).gradient
            for s in sources.indices {
                for (p, h) in [(SourceParameter.sersic, 1e-5), (.rhalf, 1e-7)] {
                    let i = kernel.layout.index(ofSource: s, p)!
                    var plus = theta, minus = theta
                    plus[i] += h; minus[i] -= h
                    let fd = (try kernel.evaluate(plus).logLikelihood - kernel.evaluate(minus).logLikelihood) / (2 * h)
                    let relative = abs(g[i] - fd) / max(abs(g[i]), abs(fd), 1e-3)
                    XCTAssertLessThan(relative, 1e-5, "seed \(seed) source \(s) \(p.name): analytic \(g[i]) vs FD \(fd)")
                }
            }
        }
    }
}
