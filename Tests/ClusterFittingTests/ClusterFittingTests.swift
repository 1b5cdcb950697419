import Foundation
import HaloProfiles
import Inference
import TesseraLinAlg
import TesseraSupport
import XCTest
@testable import ClusterFitting

final class ClusterFittingTests: XCTestCase {
    let cosmo = try! Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05)
    let radii = MockHaloGenerator.logSpacedRadii(from: 0.3, to: 3.0, count: 10)
    let z = 0.3

    func field(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as ClusterFittingError { return e.field } catch { return "other: \(error)" }
    }

    func testObservableValidationNamesField() throws {
        let r = [0.5, 1.0, 2.0], v = [1e14, 5e13, 2e13]
        XCTAssertEqual(field { _ = try HaloObservable.excessSurfaceDensity(radii: r, values: v, errors: [1, 0, 1]) }, "errors")
        XCTAssertEqual(field { _ = try HaloObservable.excessSurfaceDensity(radii: r, values: v, errors: [1, .nan, 1]) }, "errors")
        XCTAssertEqual(field { _ = try HaloObservable.excessSurfaceDensity(radii: r, values: v, errors: [1, -2, 1]) }, "errors")
        XCTAssertEqual(field { _ = try HaloObservable.excessSurfaceDensity(radii: [0.5, .nan, 2], values: v, errors: [1, 1, 1]) }, "radii")
        XCTAssertEqual(field { _ = try HaloObservable.excessSurfaceDensity(radii: r, values: [1, 2], errors: [1, 1, 1]) }, "values")
        XCTAssertEqual(field { _ = try HaloObservable.excessSurfaceDensity(radii: r, values: v, errors: [1, 1]) }, "errors")
        let bad = Matrix([[1, 2, 0], [2, 1, 0], [0, 0, 1]])
        XCTAssertEqual(field { _ = try HaloObservable.excessSurfaceDensity(radii: r, values: v, covariance: bad) }, "covariance")
        XCTAssertEqual(field { _ = try HaloObservable.excessSurfaceDensity(radii: r, values: v, covariance: .identity(2)) }, "covariance")
        let g = try HaloObservable.reducedShear(radii: r, values: [0.05, 0.03, 0.01], errors: [0.01, 0.01, 0.01], sourceRedshift: 0.2)
        XCTAssertEqual(field { _ = try HaloLikelihood(observables: [g], redshift: 0.3, cosmology: self.cosmo) }, "sourceRedshift")
        do {
            _ = try HaloObservable.excessSurfaceDensity(radii: r, values: v, errors: [1, 0, 1])
        } catch { XCTAssertTrue("\(error)".contains("errors[1]")) }
        // A valid full covariance gives the same likelihood as the equivalent per-bin errors.
        let a = try HaloObservable.excessSurfaceDensity(radii: r, values: v, errors: [2, 3, 4])
        let b = try HaloObservable.excessSurfaceDensity(radii: r, values: v, covariance: .diagonal([4, 9, 16]))
        let m = [v[0] + 1, v[1] - 2, v[2] + 3]
        XCTAssertEqual(try a.logLikelihood(model: m), try b.logLikelihood(model: m), accuracy: 1e-10)
    }

    func testDuffyConcentration() {
        let m = 2e12 / cosmo.h
        XCTAssertEqual(ConcentrationRelation.duffy2008.concentration(mass: m, redshift: 0, cosmology: cosmo), 5.71, accuracy: 1e-12)
        let c1 = ConcentrationRelation.duffy2008.concentration(mass: 1e15, redshift: 0.5, cosmology: cosmo)
        XCTAssertEqual(c1, 5.71 * pow(1e15 * 0.7 / 2e12, -0.084) * pow(1.5, -0.47), accuracy: 1e-12)
    }

    func testMockDeterministicAndGradient() throws {
        let gen = MockHaloGenerator(cosmology: cosmo)
        let a = try gen.excessSurfaceDensity(mass: 3e14, concentration: 4, redshift: z, radii: radii, noise: .fractional(0.2), seed: 7)
        let b = try gen.excessSurfaceDensity(mass: 3e14, concentration: 4, redshift: z, radii: radii, noise: .fractional(0.2), seed: 7)
        let c = try gen.excessSurfaceDensity(mass: 3e14, concentration: 4, redshift: z, radii: radii, noise: .fractional(0.2), seed: 8)
        XCTAssertEqual(a.values, b.values)
        XCTAssertNotEqual(a.values, c.values)
        let lik = try HaloLikelihood(observables: [a], redshift: z, cosmology: cosmo, fitConcentration: true)
        let x = [14.4, 0.55]
        let g = try lik.logDensityAndGradient(x).gradient
        for j in 0..<2 {
            var xp = x, xm = x
            xp[j] += 1e-3; xm[j] -= 1e-3
            let fd = (try lik.logDensityAndGradient(xp).value - lik.logDensityAndGradient(xm).value) / 2e-3
            XCTAssertEqual(g[j], fd, accuracy: 1e-3 * max(1, abs(fd)))
        }
        XCTAssertEqual(try lik.logDensityAndGradient([16.5, 0.5]).value, -.infinity)
    }

    /// 40 mock ΔΣ halos: recovered log10 M within 3σ for ≥ 36, pulls with std in [0.6, 1.5].
    func testOptimizeRecoveryAndCalibration() throws {
        let gen = MockHaloGenerator(cosmology: cosmo)
        var pulls: [Double] = []
        var within = 0, converged = 0
        let n = ProcessInfo.processInfo.environment["CF_N"].flatMap { Int($0) } ?? 40
        for seed in 0..<n {
            let logM = 14.0 + 0.05 * Double(seed % 20)
            let m = pow(10, logM)
            let c = ConcentrationRelation.duffy2008.concentration(mass: m, redshift: z, cosmology: cosmo)
            let obs = try gen.excessSurfaceDensity(mass: m, concentration: c, redshift: z, radii: radii,
                                                   noise: .fractional(0.25), seed: UInt64(100 + seed))
            let r = try HaloFit.fit(observables: [obs], redshift: z, cosmology: cosmo)
            if r.optimizerConverged { converged += 1 } else { print("seed \(seed) not converged: \(r.optimizerStatus)") }
            XCTAssertGreaterThan(r.log10MassError, 0)
            let pull = (r.log10Mass - logM) / r.log10MassError
            pulls.append(pull)
            if abs(pull) < 3 { within += 1 }
        }
        let mean = pulls.reduce(0, +) / Double(n)
        let sd = (pulls.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)).squareRoot()
        XCTAssertGreaterThanOrEqual(Double(within), 0.9 * Double(n))
        XCTAssertGreaterThanOrEqual(Double(converged), 0.95 * Double(n))
        XCTAssertGreaterThan(sd, 0.6)
        XCTAssertLessThan(sd, 1.5)
        print("pull mean \(mean) sd \(sd) within3σ \(within)/\(n)")
    }

    func testNUTSFitMatchesLaplace() throws {
        let gen = MockHaloGenerator(cosmology: cosmo)
        let m = 5e14
        let c = ConcentrationRelation.duffy2008.concentration(mass: m, redshift: z, cosmology: cosmo)
        let obs = try gen.excessSurfaceDensity(mass: m, concentration: c, redshift: z, radii: radii, noise: .fractional(0.2), seed: 3)
        let opt = try HaloFit.fit(observables: [obs], redshift: z, cosmology: cosmo)
        let nuts = try HaloFit.fit(observables: [obs], redshift: z, cosmology: cosmo,
                                   method: .nuts(warmup: 200, draws: 300, chains: 2), seed: 11)
        XCTAssertEqual(nuts.log10MassSamples.count, 600)
        XCTAssertLessThan(nuts.rHat[0], 1.05)
        XCTAssertGreaterThan(nuts.effectiveSampleSize[0], 100)
        XCTAssertEqual(nuts.log10Mass, opt.log10Mass, accuracy: 0.5 * opt.log10MassError)
        XCTAssertEqual(nuts.log10MassError / opt.log10MassError, 1, accuracy: 0.25)
        XCTAssertLessThan(abs(nuts.log10Mass - log10(m)), 3 * nuts.log10MassError)
    }

    func testReducedShearAndConcentrationFit() throws {
        let gen = MockHaloGenerator(cosmology: cosmo)
        let m = 8e14, c = 4.0
        let g = try gen.reducedShear(mass: m, concentration: c, redshift: z, sourceRedshift: 1.0,
                                     radii: MockHaloGenerator.logSpacedRadii(from: 0.2, to: 4, count: 15),
                                     noise: .absolute(0.003), seed: 5)
        let r = try HaloFit.fit(observables: [g], redshift: z, cosmology: cosmo, fitConcentration: true)
        XCTAssertEqual(r.parameterNames, ["log10M", "log10c"])
        XCTAssertLessThan(abs(r.log10Mass - log10(m)), 3 * r.log10MassError)
        XCTAssertLessThan(abs(r.log10Concentration! - log10(c)), 3 * r.log10ConcentrationError!)
    }

    func testJointFitAndGaussianPrior() throws {
        let gen = MockHaloGenerator(cosmology: cosmo)
        let m = 4e14
        let c = ConcentrationRelation.duffy2008.concentration(mass: m, redshift: z, cosmology: cosmo)
        let ds = try gen.excessSurfaceDensity(mass: m, concentration: c, redshift: z, radii: radii, noise: .fractional(0.3), seed: 21)
        let g = try gen.reducedShear(mass: m, concentration: c, redshift: z, sourceRedshift: 0.9, radii: radii,
                                     noise: .absolute(0.01), seed: 22)
        let single = try HaloFit.fit(observables: [ds], redshift: z, cosmology: cosmo)
        let joint = try HaloFit.fit(observables: [ds, g], redshift: z, cosmology: cosmo)
        XCTAssertLessThan(joint.log10MassError, single.log10MassError)
        XCTAssertLessThan(abs(joint.log10Mass - log10(m)), 3 * joint.log10MassError)
        // A tight Gaussian prior dominates.
        let tight = try HaloFit.fit(observables: [ds], redshift: z, cosmology: cosmo,
                                    massPrior: .gaussian(mean: 13.5, sigma: 0.001, lower: 12, upper: 16))
        XCTAssertEqual(tight.log10Mass, 13.5, accuracy: 0.005)
        XCTAssertLessThan(tight.log10MassError, 0.0011)
    }

    /// 60 halos with b = 0.9, σ = 0.2: b and σ within their 95% intervals.
    func testPopulationRecovery() throws {
        var rng = RandomSource(seed: ProcessInfo.processInfo.environment["CF_POPSEED"].flatMap { UInt64($0) } ?? 2024)
        let ln10 = log(10.0)
        let width = 0.1  // posterior width in ln M
        var halos: [PopulationHalo] = []
        for _ in 0..<60 {
            let lnTrue = (14 + rng.uniform()) * ln10
            let lnWL = log(0.9) + lnTrue + 0.2 * rng.normal()
            let est = lnWL + width * rng.normal()
            let samples = (0..<100).map { _ in (est + width * rng.normal()) / ln10 }
            halos.append(try PopulationHalo(log10TrueMass: lnTrue / ln10, log10MassSamples: samples))
        }
        let model = try PopulationModel(halos: halos)
        // Exact gradient vs. finite differences.
        let x = [-0.1, log(0.25)]
        let g = try model.logDensityAndGradient(x).gradient
        for j in 0..<2 {
            var xp = x, xm = x
            xp[j] += 1e-5; xm[j] -= 1e-5
            let fd = (try model.logDensityAndGradient(xp).value - model.logDensityAndGradient(xm).value) / 2e-5
            XCTAssertEqual(g[j], fd, accuracy: 1e-4 * max(1, abs(fd)))
        }
        let r = try model.fit(warmup: 150, draws: 200, chains: 2, seed: 9)
        print("b \(r.biasMedian) \(r.biasInterval95) σ \(r.scatterMedian) \(r.scatterInterval95) rhat \(r.rHat)")
        XCTAssertLessThan(r.biasInterval95.lower, 0.9)
        XCTAssertGreaterThan(r.biasInterval95.upper, 0.9)
        XCTAssertLessThan(r.scatterInterval95.lower, 0.2)
        XCTAssertGreaterThan(r.scatterInterval95.upper, 0.2)
        XCTAssertLessThan(r.rHat.max()!, 1.05)
    }

    /// Edges: half-open bins, the top edge inside the last bin, NaN and out-of-range values
    /// unbinned, empty bins reported; bad edges are errors naming the field.
    func testBinningByEdges() throws {
        let b = try HaloBinning(values: [14.1, 14.5, 15.0, 13.9, .nan, 14.49, 16.5, 15.01], edges: [14, 14.5, 15, 15.5, 16],
                                field: "edges")
        XCTAssertEqual(b.labels, ["0", "1", "2", "3"])
        XCTAssertEqual(b.members, [[0, 5], [1], [2, 7], []])
        XCTAssertEqual(b.emptyBins, ["3"])
        XCTAssertEqual(b.unbinned, [3, 4, 6])
        let top = try HaloBinning(values: [15.0], edges: [14, 14.5, 15])
        XCTAssertEqual(top.members, [[], [0]])
        XCTAssertEqual(field { _ = try HaloBinning(values: [1], edges: [1, 1, 2], field: "edges") }, "edges")
        XCTAssertEqual(field { _ = try HaloBinning(values: [1], edges: [1], field: "edges") }, "edges")
        XCTAssertEqual(field { _ = try HaloBinning(values: [1], edges: [0, .infinity], field: "edges") }, "edges")
        let labelled = HaloBinning(labels: ["hi", nil, "lo", "hi"], expected: ["lo", "hi", "mid"])
        XCTAssertEqual(labelled.labels, ["lo", "hi", "mid"])
        XCTAssertEqual(labelled.members, [[2], [0, 3], []])
        XCTAssertEqual(labelled.emptyBins, ["mid"])
        XCTAssertEqual(labelled.unbinned, [1])
    }

    /// Gaussian (optimiser) halos: the likelihood is the exact marginal N(μ̂ | ln b + ln M_true, σ² + s²),
    /// which the importance-sampling estimate over many posterior draws of the same Gaussian
    /// approaches; the gradient is exact; 60 halos recover b = 0.9, σ = 0.2 within their 95% intervals.
    func testPopulationWithGaussianHalos() throws {
        var rng = RandomSource(seed: 77)
        let ln10 = log(10.0), width = 0.12
        var gaussian: [PopulationHalo] = [], sampled: [PopulationHalo] = []
        for _ in 0..<60 {
            let lnTrue = (14 + rng.uniform()) * ln10
            let est = log(0.9) + lnTrue + 0.2 * rng.normal() + width * rng.normal()
            gaussian.append(try PopulationHalo(log10TrueMass: lnTrue / ln10, log10Mass: est / ln10, log10Error: width / ln10))
            if sampled.count < 5 {
                sampled.append(try PopulationHalo(log10TrueMass: lnTrue / ln10,
                                                  log10MassSamples: (0..<20000).map { _ in (est + width * rng.normal()) / ln10 }))
            }
        }
        XCTAssertThrowsError(try PopulationHalo(log10TrueMass: 14, log10Mass: 14, log10Error: 0))
        let exact = try PopulationModel(halos: Array(gaussian.prefix(5))), mc = try PopulationModel(halos: sampled)
        for (b, s) in [(0.9, 0.2), (0.95, 0.3), (0.85, 0.25)] {
            XCTAssertEqual(exact.logLikelihood(bias: b, scatter: s), mc.logLikelihood(bias: b, scatter: s), accuracy: 0.05, "b \(b) σ \(s)")
        }
        let model = try PopulationModel(halos: gaussian)
        let x = [-0.05, log(0.3)]
        let g = try model.logDensityAndGradient(x).gradient
        for j in 0..<2 {
            var xp = x, xm = x
            xp[j] += 1e-5; xm[j] -= 1e-5
            let fd = (try model.logDensityAndGradient(xp).value - model.logDensityAndGradient(xm).value) / 2e-5
            XCTAssertEqual(g[j], fd, accuracy: 1e-5 * max(1, abs(fd)))
        }
        let r = try model.fit(warmup: 150, draws: 200, chains: 2, seed: 3)
        XCTAssertLessThan(r.biasInterval95.lower, 0.9)
        XCTAssertGreaterThan(r.biasInterval95.upper, 0.9)
        XCTAssertLessThan(r.scatterInterval95.lower, 0.2)
        XCTAssertGreaterThan(r.scatterInterval95.upper, 0.2)
        XCTAssertLessThanOrEqual(r.biasInterval95.lower, r.biasInterval68.lower)
        XCTAssertGreaterThanOrEqual(r.biasInterval95.upper, r.biasInterval68.upper)
    }

    /// Per-bin mock errors: used as given (the covariance is their squares), and checked.
    func testMockPerBinNoise() throws {
        let gen = MockHaloGenerator(cosmology: cosmo)
        let errors = radii.map { 1e12 / $0 }
        let obs = try gen.excessSurfaceDensity(mass: 3e14, concentration: 4, redshift: z, radii: radii, noise: .perBin(errors), seed: 5)
        for i in 0..<radii.count { XCTAssertEqual(obs.covariance[i, i], errors[i] * errors[i], accuracy: 1e-6 * errors[i] * errors[i]) }
        XCTAssertEqual(field { _ = try gen.excessSurfaceDensity(mass: 3e14, concentration: 4, redshift: self.z, radii: self.radii,
                                                                noise: .perBin([1, 2]), seed: 5) }, "noise")
        var bad = errors
        bad[3] = 0
        XCTAssertEqual(field { _ = try gen.excessSurfaceDensity(mass: 3e14, concentration: 4, redshift: self.z, radii: self.radii,
                                                                noise: .perBin(bad), seed: 5) }, "noise")
    }
}
