import Foundation
import XCTest
import HaloProfiles

/// Compares every recorded CLMM (CCL backend) quantity with this module at relative tolerance 1e-6.
final class CLMMFixtureTests: XCTestCase {
    static let tolerance = 1e-6

    func testCosmologyParameters() throws {
        let fx = try CLMMFixture.load()
        let cosmo = try fx.makeCosmology()
        XCTAssertLessThan(relativeError(cosmo.omegaPhoton, fx.cosmology.Omega_g), 1e-12)
        XCTAssertLessThan(relativeError(cosmo.omegaNeutrinoRelativistic, fx.cosmology.Omega_nu_rel), 1e-12)
        XCTAssertLessThan(relativeError(cosmo.omegaLambda, fx.cosmology.Omega_l), 1e-12)
        XCTAssertLessThan(relativeError(cosmo.omegaMatter, fx.cosmology.Omega_m), 1e-12)
    }

    func testDistancesAndDensities() throws {
        let fx = try CLMMFixture.load()
        let cosmo = try fx.makeCosmology()
        let w = WorstError()
        for d in fx.distances {
            w.record("D_A", try cosmo.angularDiameterDistance(d.z), d.da)
            w.record("rho_c", try cosmo.criticalDensity(d.z), d.rho_c)
            w.record("rho_m", try cosmo.meanMatterDensity(d.z), d.rho_m)
            w.record("E2", cosmo.E(d.z) * cosmo.E(d.z), d.E2)
        }
        for s in fx.sigma_crit {
            w.record("D_A(zl,zs)", try cosmo.angularDiameterDistance(from: s.z_lens, to: s.z_source), s.da_ls)
            w.record("Sigma_crit", try cosmo.criticalSurfaceDensity(zLens: s.z_lens, zSource: s.z_source), s.sigma_crit)
        }
        print("Worst relative errors (cosmology):\n" + w.report())
        for (k, v) in w.worst { XCTAssertLessThan(v, Self.tolerance, k) }
    }

    func makeProfile(_ p: CLMMFixture.Profile, _ cosmo: Cosmology) throws -> any HaloProfile {
        let md = try MassDefinition(delta: p.delta, reference: p.massdef == "critical" ? .critical : .mean)
        let hp = try HaloParameters(mass: p.mass, concentration: p.concentration, redshift: p.z_lens,
                                    massDefinition: md, cosmology: cosmo)
        switch p.model {
        case "nfw": return NFW(hp)
        case "hernquist": return Hernquist(hp)
        case "einasto": return try Einasto(hp, alpha: p.alpha ?? Einasto.defaultAlpha)
        default: throw XCTSkip("unknown model \(p.model)")
        }
    }

    /// Worst errors keyed "model massdef quantity". Condition-aware comparison for μ (see `testHernquist...`).
    func profileErrors(models: Set<String>) throws -> WorstError {
        let fx = try CLMMFixture.load()
        let cosmo = try fx.makeCosmology()
        let w = WorstError()
        for p in fx.profiles where models.contains(p.model) {
            let prof = try makeProfile(p, cosmo)
            let key = "\(p.model) \(Int(p.delta))\(p.massdef == "critical" ? "c" : "m")"
            for (i, R) in p.radii.enumerated() {
                w.record("\(key) rho", try prof.density(at: R), p.rho[i])
                w.record("\(key) Sigma", try prof.surfaceDensity(at: R), p.sigma[i])
                w.record("\(key) meanSigma", try prof.meanSurfaceDensity(within: R), p.mean_sigma[i])
                w.record("\(key) DeltaSigma", try prof.excessSurfaceDensity(at: R), p.delta_sigma[i])
                w.record("\(key) kappa", try prof.convergence(at: R, sourceRedshift: p.z_source), p.kappa[i])
                w.record("\(key) gamma_t", try prof.tangentialShear(at: R, sourceRedshift: p.z_source), p.gamma_t[i])
                w.record("\(key) g_t", try prof.reducedTangentialShear(at: R, sourceRedshift: p.z_source), p.g_t[i])
                // μ = 1/((1−κ)²−γ²) amplifies the ~4e-8 Σ_crit difference (CCL's distance splines) by the
                // condition number cond = (2|1−κ|κ + 2γ²)/|(1−κ)²−γ²|; compare μ error / max(1, cond).
                let k = p.kappa[i], g = p.gamma_t[i]
                let cond = (2 * abs(1 - k) * k + 2 * g * g) / abs((1 - k) * (1 - k) - g * g)
                let muErr = relativeError(try prof.magnification(at: R, sourceRedshift: p.z_source), p.mu[i])
                w.worst["\(key) mu (raw)"] = max(w.worst["\(key) mu (raw)"] ?? 0, muErr)
                w.worst["\(key) mu / max(1,cond)"] = max(w.worst["\(key) mu / max(1,cond)"] ?? 0, muErr / max(1, cond))
                if let sm = p.sigma_mpmath, let msm = p.mean_sigma_mpmath {
                    w.record("\(key) Sigma vs mpmath", try prof.surfaceDensity(at: R), sm[i])
                    w.record("\(key) meanSigma vs mpmath", try prof.meanSurfaceDensity(within: R), msm[i])
                    // How far CLMM/CCL itself is from the 30-digit reference at this point.
                    w.worst["\(key) CLMM Sigma vs mpmath"] = max(w.worst["\(key) CLMM Sigma vs mpmath"] ?? 0,
                                                                relativeError(p.sigma[i], sm[i]))
                    w.worst["\(key) CLMM meanSigma vs mpmath"] = max(
                        w.worst["\(key) CLMM meanSigma vs mpmath"] ?? 0, relativeError(p.mean_sigma[i], msm[i]))
                }
            }
        }
        return w
    }

    /// Every quantity within 1e-6 (μ: within 1e-6 × its condition number, see above).
    func assertAllWithinTolerance(_ w: WorstError, file: StaticString = #filePath, line: UInt = #line) {
        for (k, v) in w.worst where !k.hasSuffix("mu (raw)") {
            XCTAssertLessThan(v, Self.tolerance, k, file: file, line: line)
        }
    }

    func testNFWAgainstCLMM() throws {
        let w = try profileErrors(models: ["nfw"])
        print("Worst relative errors (NFW):\n" + w.report())
        XCTAssertEqual(w.worst.count, 3 * 9)
        assertAllWithinTolerance(w)
    }

    func testHernquistAgainstCLMM() throws {
        let w = try profileErrors(models: ["hernquist"])
        print("Worst relative errors (Hernquist):\n" + w.report())
        XCTAssertEqual(w.worst.count, 3 * 9)
        assertAllWithinTolerance(w)
    }

    /// Einasto. CCL computes mean Σ(<R) by FFTLog (no quadrature option), which is only good to ~1e-4 at
    /// R ≫ r_s (checked here against the 30-digit mpmath reference stored in the fixture), and its quad_vec
    /// Σ(R) is off by 1.7e-5 at R = 10 Mpc for the 1e13 M☉, 500c halo. Hence:
    ///  - ρ, Σ, κ agree with CLMM to 1e-6 except at points where CLMM's own Σ is > 1e-7 from mpmath;
    ///  - Σ and mean Σ agree with the mpmath reference to 1e-8 everywhere;
    ///  - mean Σ, ΔΣ, γ_t, g_t, μ agree with CLMM only to 2e-4 (CCL's FFTLog error, not ours).
    func testEinastoAgainstCLMM() throws {
        let fx = try CLMMFixture.load()
        let cosmo = try fx.makeCosmology()
        let w = try profileErrors(models: ["einasto"])
        print("Worst relative errors (Einasto):\n" + w.report())
        for (k, v) in w.worst {
            if k.contains("CLMM") || k.hasSuffix("mu (raw)") { continue }
            if k.hasSuffix("vs mpmath") { XCTAssertLessThan(v, 1e-8, k); continue }
            if k.hasSuffix(" rho") { XCTAssertLessThan(v, Self.tolerance, k); continue }
            if k.hasSuffix(" Sigma") || k.hasSuffix(" kappa") { continue } // checked point-wise below
            XCTAssertLessThan(v, 2e-4, k) // FFTLog-limited in CCL
        }
        var compared = 0
        for p in fx.profiles where p.model == "einasto" {
            let prof = try makeProfile(p, cosmo)
            for (i, R) in p.radii.enumerated() where relativeError(p.sigma[i], p.sigma_mpmath![i]) < 1e-7 {
                XCTAssertLessThan(relativeError(try prof.surfaceDensity(at: R), p.sigma[i]), Self.tolerance)
                XCTAssertLessThan(relativeError(try prof.convergence(at: R, sourceRedshift: p.z_source), p.kappa[i]),
                                  Self.tolerance)
                compared += 1
            }
        }
        XCTAssertGreaterThanOrEqual(compared, 59) // all 60 points but one
    }
}
