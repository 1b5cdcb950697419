import Astrometry
import Foundation
import SceneModel

/// Throughput of the scene kernel (`SceneKernel.evaluate`: model, χ² and exact gradient) on one
/// core, in Gaussian-pixel evaluations per second, with the FLOP rate against the core's peak.
///
/// Scene: 10 galaxies × 6 Sérsic components × 3 PSF components on 3 exposures of 64×64 pixels
/// (2 bands), i.e. 180 image-plane Gaussians per exposure rendered on every pixel of it, as the
/// kernel does (no culling). The Sérsic table is a smooth made-up 6-component one: the kernel's
/// cost does not depend on the table's values, only on its component count.
///
/// Peak per core: 16 flops/cycle in double precision with AVX2 + FMA (2 FMA units × 4 lanes × 2), 32 in single,
/// times the clock read from /proc/cpuinfo (the nominal clock a VM reports; turbo may differ).
/// Timings are the best call (least disturbed by other processes) and the mean.
/// These raw-throughput figures are measured with culling off (every pair evaluated).
///
/// A second scene is a realistic sampling patch (`samplingPatch`): 3 galaxies about 1.5″ apart,
/// 4 exposures, discs of 10 px around each source (0.1″ pixels), the bundled 20-component Sérsic
/// table and a 2-component PSF. It reports the time per ln L + gradient call with and without
/// culling (`SceneKernel.culling`), the pairs each evaluates, and how far the two results differ.
enum KernelBenchmark {
    static func run(seconds: Double = 2) {
        do {
            var kernel = try makeKernel()
            kernel.culling = false
            var rng = SystemRandomNumberGenerator()
            var theta = kernel.parameters(of: sources)
            // Slightly off the truth, as during a fit.
            for i in theta.indices { theta[i] *= 1 + 0.01 * Double.random(in: -1...1, using: &rng) }
            let evals = Double(kernel.gaussianPixelEvaluationsPerCall)
            let clock = cpuClockHz()
            print("scene kernel: \(kernel.layout.sourceCount) galaxies, \(kernel.sersic.componentCount) Sersic × 3 PSF components, 3 exposures of 64×64 pixels")
            print(String(format: "  Gaussian-pixel evaluations per call: %.0f", evals))
            let measured = measuredClockHz()
            if let clock {
                print(String(format: "  CPU clock %.3f GHz (/proc/cpuinfo, nominal); peak per core %.1f GFLOP/s double (16 flops/cycle)",
                             clock * 1e-9, clock * 16e-9))
            } else {
                print("  CPU clock unknown (no /proc/cpuinfo 'cpu MHz'): % of nominal peak not computed")
            }
            print(String(format: "  measured clock %.3f GHz (dependent double adds, 3-cycle latency as on AMD Zen; Intel Skylake+ has 4)",
                         measured * 1e-9))
            var checksum = 0.0
            for (precision, flops, peakPerCycle) in [(SceneKernel.Precision.double, SceneKernel.flopsPerEvaluation, 16.0),
                                                     (.single, SceneKernel.singleFlopsPerEvaluation, 32.0)] {
                let label = precision.rawValue
                var k = kernel
                k.precision = precision
                func call() throws -> Double { try k.evaluate(theta).gradient[0] }
                checksum += try call()  // warm-up
                var best = Double.infinity
                var calls = 0
                let start = Date()
                while Date().timeIntervalSince(start) < seconds {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    checksum += try call()
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
                    calls += 1
                }
                let mean = Date().timeIntervalSince(start) / Double(calls)
                let rate = evals / best
                var line = String(format: "  %@ precision, with gradients: %.3g evaluations/s per core (best of %d calls, %.3f ms; mean %.3f ms -> %.3g/s)",
                                  label, rate, calls, best * 1e3, mean * 1e3, evals / mean)
                line += String(format: "\n    %d FLOPs per evaluation (counted from the inner loop, multiply-add = 2) -> %.2f GFLOP/s",
                               flops, rate * Double(flops) * 1e-9)
                if let clock {
                    line += String(format: ", %.1f%% of the %.0f flop/cycle peak at the nominal clock", 100 * rate * Double(flops) / (clock * peakPerCycle), peakPerCycle)
                }
                line += String(format: ", %.1f%% at the measured clock", 100 * rate * Double(flops) / (measured * peakPerCycle))
                print(line)
            }
            print("  goals (double): >= 1e8 evaluations/s per core and >= 25% of peak")
            // The release build's gradient against central finite differences, every parameter.
            let result = try kernel.evaluate(theta)
            var worst = 0.0, worstName = ""
            for s in 0..<kernel.layout.sourceCount {
                for (k, parameter) in kernel.layout.parameters(ofSource: s).enumerated() {
                    let i = kernel.layout.offsets[s] + k
                    let h: Double
                    switch parameter {
                    case .flux: h = 1e-3 * abs(theta[i])
                    case .rhalf: h = 1e-6
                    default: h = 1e-5
                    }
                    var plus = theta, minus = theta
                    plus[i] += h; minus[i] -= h
                    let fd = (try kernel.evaluate(plus).logLikelihood - kernel.evaluate(minus).logLikelihood) / (2 * h)
                    let rel = abs(fd - result.gradient[i]) / max(abs(fd), abs(result.gradient[i]), 1e-3)
                    if rel > worst { worst = rel; worstName = "source \(s) \(parameter.name)" }
                }
            }
            print(String(format: "  gradient vs central finite differences, all %d parameters: worst relative difference %.2g (%@); goal <= 1e-5",
                         theta.count, worst, worstName))
            print("  SceneModel code generation: \(SceneKernel.codeGeneration)")
            print(String(format: "  (checksum %.6g)", checksum))
            try runSamplingPatch(seconds: seconds)
        } catch {
            print("kernel benchmark failed: \(error)")
            exit(1)
        }
    }

    /// Best and mean seconds per call of `call` over about `seconds`.
    static func time(seconds: Double, _ call: () throws -> Double) rethrows -> (best: Double, mean: Double, calls: Int, checksum: Double) {
        var checksum = try call()  // warm-up
        var best = Double.infinity
        var calls = 0
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            let t0 = DispatchTime.now().uptimeNanoseconds
            checksum += try call()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
            calls += 1
        }
        return (best, Date().timeIntervalSince(start) / Double(calls), calls, checksum)
    }

    /// The realistic sampling patch: culled against un-culled ln L + gradient calls.
    static func runSamplingPatch(seconds: Double) throws {
        let (culled, pixels) = try samplingPatch()
        var full = culled
        full.culling = false
        var rng = SystemRandomNumberGenerator()
        var theta = culled.parameters(of: samplingSources)
        for i in theta.indices { theta[i] *= 1 + 0.01 * Double.random(in: -1...1, using: &rng) }
        print("sampling patch: \(culled.layout.sourceCount) galaxies × \(culled.sersic.componentCount) Sersic (bundled table) × 2 PSF components, 4 exposures, discs of 10 px: \(pixels) pixels in all")
        let rc = try culled.evaluate(theta), rf = try full.evaluate(theta)
        let norm = rf.gradient.map { $0 * $0 }.reduce(0, +).squareRoot()
        var worst = 0.0
        for i in theta.indices { worst = max(worst, abs(rc.gradient[i] - rf.gradient[i]) / max(abs(rf.gradient[i]), 1e-6 * norm)) }
        print(String(format: "  Gaussian-pixel pairs per call: %d un-culled, %d evaluated with culling (%.1f%%)",
                     rf.gaussianPixelEvaluations, rc.gaussianPixelEvaluations,
                     100 * Double(rc.gaussianPixelEvaluations) / Double(rf.gaussianPixelEvaluations)))
        print(String(format: "  culled vs un-culled: chi2 relative difference %.2g, worst gradient relative difference %.2g",
                     abs(rc.chi2 - rf.chi2) / rf.chi2, worst))
        var single = culled
        single.precision = .single
        let rs = try single.evaluate(theta)
        var worstSingle = 0.0
        for i in theta.indices { worstSingle = max(worstSingle, abs(rs.gradient[i] - rc.gradient[i]) / max(abs(rc.gradient[i]), 1e-3 * norm)) }
        print(String(format: "  single vs double precision (culled): ln L difference %.2g, worst gradient relative difference %.2g",
                     rs.logLikelihood - rc.logLikelihood, worstSingle))
        let tf = try time(seconds: seconds) { try full.evaluate(theta).gradient[0] }
        let tc = try time(seconds: seconds) { try culled.evaluate(theta).gradient[0] }
        let ts = try time(seconds: seconds) { try single.evaluate(theta).gradient[0] }
        for (label, t, pairs) in [("without culling", tf, rf.gaussianPixelEvaluations), ("with culling   ", tc, rc.gaussianPixelEvaluations),
                                  ("culling, single", ts, rs.gaussianPixelEvaluations)] {
            print(String(format: "  ln L + gradient %@: best %.3f ms, mean %.3f ms per call (%d calls; %.3g evaluated pairs/s)",
                         label, t.best * 1e3, t.mean * 1e3, t.calls, Double(pairs) / t.best))
        }
        print(String(format: "  speed-up from culling: %.2fx (best), %.2fx (mean); single precision on top: %.2fx (best), %.2fx (mean)   (checksum %.6g)",
                     tf.best / tc.best, tf.mean / tc.mean, tc.best / ts.best, tc.mean / ts.mean, tf.checksum + tc.checksum + ts.checksum))
    }

    /// Three galaxies about 1.5″ apart (blended neighbours), typical sizes and profiles.
    static let samplingSources: [PatchSource] = [
        PatchSource(xi: 0, eta: 0, flux: [150, 200], q: 0.7, pa: 0.3, sersic: 1.2, rhalf: 0.25),
        PatchSource(xi: 1.4, eta: 0.5, flux: [80, 90], q: 0.45, pa: -0.8, sersic: 3.5, rhalf: 0.18),
        PatchSource(xi: -0.6, eta: 1.3, flux: [60, 40], q: 0.85, pa: 1.4, sersic: 2.2, rhalf: 0.12),
    ]

    /// The sampling patch as the patch builder makes it: per exposure (2 bands × 2 dithers, 0.1″
    /// pixels, rotated WCS), the pixels within 10 px of any source, row by row over their bounding
    /// box; data = model + noise.
    static func samplingPatch() throws -> (kernel: SceneKernel, pixels: Int) {
        let sersic = try SersicMixture.bundled()
        let psf = PSFMixture(components: [
            GaussianComponent(amplitude: 0.8, cxx: 0.9, cxy: 0.05, cyy: 0.8),
            GaussianComponent(amplitude: 0.2, x: 0.05, cxx: 4.5, cxy: -0.2, cyy: 5.0),
        ])
        let radius = 10.0, scale = 0.1
        var exposures: [PatchExposure] = []
        for (e, (rot, shift)) in [(0.0, 0.0), (0.5, 0.37), (-0.3, 0.61), (1.1, 0.18)].enumerated() {
            let a = LocalAstrometry(x0: 40 + shift, y0: 35 - shift, xi0: 0, eta0: 0,
                                    dxdXi: -cos(rot) / scale, dxdEta: -sin(rot) / scale,
                                    dydXi: -sin(rot) / scale, dydEta: cos(rot) / scale)
            let centres = samplingSources.map { a.pixel(xi: $0.xi, eta: $0.eta) }
            let x0 = Int((centres.map(\.x).min()! - radius).rounded(.down)), x1 = Int((centres.map(\.x).max()! + radius).rounded(.up))
            let y0 = Int((centres.map(\.y).min()! - radius).rounded(.down)), y1 = Int((centres.map(\.y).max()! + radius).rounded(.up))
            var x: [Double] = [], y: [Double] = []
            for j in y0...y1 {
                for i in x0...x1 where centres.contains(where: { pow(Double(i) - $0.x, 2) + pow(Double(j) - $0.y, 2) <= radius * radius }) {
                    x.append(Double(i)); y.append(Double(j))
                }
            }
            exposures.append(PatchExposure(name: "sample\(e)", band: e % 2, x: x, y: y,
                                           data: [Double](repeating: 0, count: x.count),
                                           inverseError: [Double](repeating: 0.5, count: x.count), psf: psf,
                                           calibration: 1.1, astrometry: [LocalAstrometry](repeating: a, count: samplingSources.count)))
        }
        let blank = Patch(bands: ["F200W", "F444W"], plane: TangentPlane(ra0: 53.1, dec0: -27.8), exposures: exposures)
        return (try noisyKernel(blank, sources: samplingSources, sersic: sersic), blank.pixelCount)
    }

    /// The kernel over `blank`'s pixels with data = the sources' model plus uniform noise in ±2 counts.
    static func noisyKernel(_ blank: Patch, sources: [PatchSource], sersic: SersicMixture) throws -> SceneKernel {
        let isPoint = sources.map(\.isPoint)
        let truth = try SceneKernel(patch: blank, sersic: sersic, isPoint: isPoint)
        let models = truth.modelImages(truth.parameters(of: sources))
        var patch = blank
        var rng = SystemRandomNumberGenerator()
        for e in patch.exposures.indices {
            patch.exposures[e].data = models[e].map { $0 + 2 * Double.random(in: -1...1, using: &rng) }
        }
        return try SceneKernel(patch: patch, sersic: sersic, isPoint: isPoint)
    }

    /// Galaxies scattered over the central ±1.2 arcsec (pixel scale 0.04″: 64 px = 2.56″).
    static let sources: [PatchSource] = (0..<10).map { i in
        let t = Double(i)
        return PatchSource(xi: 1.2 * sin(1.7 * t), eta: 1.2 * cos(2.3 * t + 0.4),
                           flux: [100 + 30 * t, 80 + 20 * t], q: 0.4 + 0.05 * t, pa: -1.2 + 0.25 * t,
                           sersic: 0.8 + 0.45 * t, rhalf: 0.08 + 0.02 * t)
    }

    static func makeKernel() throws -> SceneKernel {
        let radii = [0.05, 0.12, 0.3, 0.6, 1.1, 2.0]
        let nodes = Array(stride(from: 0.5, through: 7.0, by: 0.5))
        let amps = nodes.map { n -> [Double] in
            let mu = log(0.5) + 0.22 * (n - 2)
            let w = radii.map { exp(-pow(log($0) - mu, 2) / 1.28) }
            let t = w.reduce(0, +)
            return w.map { $0 / t }
        }
        let sersic = try SersicMixture(radii: radii, nodes: nodes, amplitudes: amps)
        let psf = PSFMixture(components: [
            GaussianComponent(amplitude: 0.6, cxx: 1.2, cxy: 0.05, cyy: 1.1),
            GaussianComponent(amplitude: 0.3, x: 0.1, cxx: 3.5, cxy: -0.2, cyy: 3.8),
            GaussianComponent(amplitude: 0.1, y: -0.1, cxx: 12, cxy: 0.5, cyy: 11),
        ])
        var exposures: [PatchExposure] = []
        for (e, rot) in [0.0, 0.4, -0.9].enumerated() {
            let scale = 0.04
            let a = LocalAstrometry(x0: 31.5, y0: 31.5, xi0: 0, eta0: 0,
                                    dxdXi: -cos(rot) / scale, dxdEta: -sin(rot) / scale,
                                    dydXi: -sin(rot) / scale, dydEta: cos(rot) / scale)
            var x: [Double] = [], y: [Double] = []
            for j in 0..<64 { for i in 0..<64 { x.append(Double(i)); y.append(Double(j)) } }
            exposures.append(PatchExposure(name: "bench\(e)", band: e == 1 ? 1 : 0, x: x, y: y,
                                           data: [Double](repeating: 0, count: x.count),
                                           inverseError: [Double](repeating: 0.5, count: x.count), psf: psf,
                                           calibration: 1.3, astrometry: [LocalAstrometry](repeating: a, count: sources.count)))
        }
        let blank = Patch(bands: ["F200W", "F444W"], plane: TangentPlane(ra0: 53.1, dec0: -27.8), exposures: exposures)
        return try noisyKernel(blank, sources: sources, sersic: sersic)
    }

    /// The clock the core actually runs at (boost included), from the time of a chain of
    /// dependent double-precision adds (the compiler may not reassociate them), best of many
    /// short runs so other processes disturb it least. Assumes a 3-cycle add latency (AMD Zen).
    static func measuredClockHz() -> Double {
        var x = Double(CommandLine.arguments.count)
        let y = 1e-300 * x
        let n = 5_000_000
        var best = Double.infinity
        for _ in 0..<100 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<n { x += y }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
        if x == 0 { print("") }  // keeps the chain alive
        return 3 * Double(n) / best
    }

    /// Nominal clock in Hz from the first 'cpu MHz' line of /proc/cpuinfo.
    static func cpuClockHz() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("cpu MHz") {
            if let v = line.split(separator: ":").last.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
                return v * 1e6
            }
        }
        return nil
    }
}
