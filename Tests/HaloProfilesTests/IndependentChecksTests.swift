import Foundation
import XCTest
import HaloProfiles

/// Checks that do not rely on CLMM: identities, quadratures of the profiles, analytic limits, bad input.
final class IndependentChecksTests: XCTestCase {
    let cosmo = try! Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05)

    func profiles() throws -> [(String, any HaloProfile)] {
        var out: [(String, any HaloProfile)] = []
        for md in [MassDefinition.critical200, .mean200, .critical500] {
            for (m, c, z) in [(1e13, 10.0, 0.1), (3e14, 4.0, 0.3), (1e16, 2.0, 1.0)] {
                let hp = try HaloParameters(mass: m, concentration: c, redshift: z, massDefinition: md, cosmology: cosmo)
                out.append(("NFW \(md) M=\(m)", NFW(hp)))
                out.append(("Hernquist \(md) M=\(m)", Hernquist(hp)))
                out.append(("Einasto \(md) M=\(m)", try Einasto(hp, alpha: 0.2)))
            }
        }
        return out
    }

    /// ΔΣ = Σ̄(<R) − Σ(R), and NFW's allocation-free fast path agrees with the generic pieces.
    func testExcessSurfaceDensityIdentity() throws {
        for (name, p) in try profiles() {
            for R in [0.01, 0.1, 0.5, 1.0, 3.0, 10.0, 30.0] {
                let ds = try p.excessSurfaceDensity(at: R)
                let ref = try p.meanSurfaceDensity(within: R) - p.surfaceDensity(at: R)
                XCTAssertLessThan(relativeError(ds, ref), 1e-12, "\(name) R=\(R)")
            }
        }
    }

    /// 2π ∫₀ᴿ Σ(R') R' dR' (numerical, in ln R') equals the projected mass πR² Σ̄(<R).
    func testDiskIntegralOfSigmaEqualsProjectedMass() throws {
        for (name, p) in try profiles() where !name.hasPrefix("Einasto") || name.contains("200c") {
            for R in [0.2, 1.0, 5.0] {
                let lo = log(R * 1e-9), hi = log(R)
                let m2d = Quadrature.integrate({ u in
                    let r = exp(u)
                    return 2 * Double.pi * r * r * ((try? p.surfaceDensity(at: r)) ?? .nan)
                }, from: lo, to: hi, relativeTolerance: 1e-10)
                let ref = try p.projectedMass(within: R)
                XCTAssertLessThan(relativeError(m2d, ref), 1e-7, "\(name) R=\(R)")
            }
        }
    }

    /// 4π ∫₀^{r_Δ} r² ρ(r) dr = M_Δ (numerical) and enclosedMass(r_Δ) = M_Δ (analytic / incomplete Γ).
    func testMassRecoveredAtRadiusDelta() throws {
        for (name, p) in try profiles() {
            let rD = p.parameters.radiusDelta
            let m = Quadrature.integrate({ u in
                let r = exp(u)
                return 4 * Double.pi * r * r * r * ((try? p.density(at: r)) ?? .nan)
            }, from: log(rD * 1e-10), to: log(rD), relativeTolerance: 1e-11)
            XCTAssertLessThan(relativeError(m, p.parameters.mass), 1e-8, name)
            XCTAssertLessThan(relativeError(try p.enclosedMass(within: rD), p.parameters.mass), 1e-12, name)
            // Mean density inside r_Δ is Δ ρ_ref.
            let md = p.parameters.massDefinition
            let meanRho = p.parameters.mass / (4.0 / 3.0 * Double.pi * rD * rD * rD)
            XCTAssertLessThan(relativeError(meanRho, md.delta * md.referenceDensity(cosmo, z: p.parameters.redshift)), 1e-13)
        }
    }

    /// The series used near x = R/r_s = 1 joins the closed forms continuously (NFW and Hernquist).
    func testSeriesNearScaleRadiusIsContinuous() throws {
        let hp = try HaloParameters(mass: 1e15, concentration: 5, redshift: 0.3, massDefinition: .critical200,
                                    cosmology: cosmo)
        let profiles: [any HaloProfile] = [NFW(hp), Hernquist(hp)]
        for p in profiles {
            let rs = hp.scaleRadius
            for x in [0.97, 0.9747, 0.99, 1.0, 1.0 + 1e-9, 1.01, 1.0246, 1.03] {
                let a = try p.surfaceDensity(at: rs * x), b = try p.surfaceDensity(at: rs * x * (1 + 1e-7))
                XCTAssertLessThan(relativeError(a, b), 1e-6, "x=\(x)")
                XCTAssertTrue(try p.excessSurfaceDensity(at: rs * x).isFinite)
            }
            // Either side of the series switch (|1−x²| = 0.05).
            let x1 = (0.95).squareRoot(), x2 = (1.05).squareRoot()
            for x in [x1, x2] {
                let a = try p.surfaceDensity(at: rs * x * (1 - 1e-12)), b = try p.surfaceDensity(at: rs * x * (1 + 1e-12))
                XCTAssertLessThan(relativeError(a, b), 1e-10, "switch at x=\(x)")
            }
        }
        // Exact values at x = 1: NFW Σ = 2ρ_s r_s/3, Hernquist Σ = 4ρ_s r_s/15.
        let nfw = NFW(hp), her = Hernquist(hp)
        XCTAssertLessThan(relativeError(try nfw.surfaceDensity(at: hp.scaleRadius),
                                        2 * nfw.characteristicDensity * hp.scaleRadius / 3), 1e-14)
        XCTAssertLessThan(relativeError(try her.surfaceDensity(at: hp.scaleRadius),
                                        4 * her.characteristicDensity * hp.scaleRadius / 15), 1e-14)
    }

    /// NFW mean Σ at small x = R/r_s: M_2D → 4πρ_s r_s³ (x²/4)(2 ln(2/x) − 1) + O(x⁴ ln x) (no cancellation loss),
    /// and the small-x branch joins the closed form at x = 0.5.
    func testNFWMeanSigmaSmallRadius() throws {
        let nfw = try NFW(mass: 1e15, concentration: 4, redshift: 0.3, cosmology: cosmo)
        let rs = nfw.parameters.scaleRadius, rhoRs = nfw.characteristicDensity * rs
        for x in [1e-7, 1e-5, 1e-4] {
            let expected = 4 * rhoRs * (2 * log(2 / x) - 1) / 4
            XCTAssertLessThan(relativeError(try nfw.meanSurfaceDensity(within: x * rs), expected), 10 * x * x, "x=\(x)")
        }
        let a = try nfw.meanSurfaceDensity(within: 0.5 * rs * (1 - 1e-13))
        let b = try nfw.meanSurfaceDensity(within: 0.5 * rs * (1 + 1e-13))
        XCTAssertLessThan(relativeError(a, b), 1e-12)
    }

    /// Matter-only limit (Ω_m = 1, no radiation): χ = 2c/H₀ (1 − 1/√(1+z)).
    func testEinsteinDeSitterDistances() throws {
        let eds = try Cosmology(H0: 70, omegaCDM: 0.95, omegaBaryon: 0.05, cmbTemperature: 0, nEff: 0)
        XCTAssertEqual(eds.omegaLambda, 0, accuracy: 1e-15)
        for z in [0.01, 0.3, 1.0, 3.0, 10.0] {
            let exact = 2 * eds.hubbleDistance * (1 - 1 / (1 + z).squareRoot())
            XCTAssertLessThan(relativeError(try eds.comovingDistance(z), exact), 1e-12, "z=\(z)")
        }
        // Flat: D_A(z1,z2) (1+z2) = χ(z2) − χ(z1).
        let d12 = try cosmo.angularDiameterDistance(from: 0.3, to: 1.2) * 2.2
        let diff = try cosmo.comovingDistance(1.2) - cosmo.comovingDistance(0.3)
        XCTAssertLessThan(relativeError(d12, diff), 1e-12)
    }

    func testLensingRelations() throws {
        let p = try NFW(mass: 1e15, concentration: 4, redshift: 0.3, massDefinition: .critical200, cosmology: cosmo)
        let sc = try cosmo.criticalSurfaceDensity(zLens: 0.3, zSource: 1.0)
        for R in [0.1, 1.0, 5.0] {
            let k = try p.convergence(at: R, sourceRedshift: 1.0), g = try p.tangentialShear(at: R, sourceRedshift: 1.0)
            XCTAssertLessThan(relativeError(k, try p.surfaceDensity(at: R) / sc), 1e-14)
            XCTAssertLessThan(relativeError(try p.reducedTangentialShear(at: R, sourceRedshift: 1.0), g / (1 - k)), 1e-14)
            XCTAssertLessThan(relativeError(try p.magnification(at: R, sourceRedshift: 1.0),
                                            1 / ((1 - k) * (1 - k) - g * g)), 1e-14)
        }
    }

    func testMeanBeta() throws {
        // Single plane: ⟨β⟩ = β, ⟨β²⟩ = β²; Σ_crit = Σ_crit,∞ / β.
        let b = try cosmo.beta(zLens: 0.3, zSource: 1.0)
        let single = try cosmo.meanBeta(zLens: 0.3, sourceRedshifts: [1.0])
        XCTAssertEqual(single.beta, b, accuracy: 1e-15)
        XCTAssertEqual(single.betaSquared, b * b, accuracy: 1e-15)
        XCTAssertLessThan(relativeError(try cosmo.criticalSurfaceDensityInfinity(zLens: 0.3) / b,
                                        try cosmo.criticalSurfaceDensity(zLens: 0.3, zSource: 1.0)), 1e-12)
        // Foreground sources count with β = 0.
        let mixed = try cosmo.meanBeta(zLens: 0.3, sourceRedshifts: [0.2, 1.0], weights: [1, 3])
        XCTAssertEqual(mixed.beta, 0.75 * b, accuracy: 1e-15)
        // Continuous N(z): a narrow top-hat approaches the single plane; ⟨β²⟩ ≥ ⟨β⟩².
        let narrow = try cosmo.meanBeta(zLens: 0.3, zMin: 0.999, zMax: 1.001) { _ in 1 }
        XCTAssertEqual(narrow.beta, b, accuracy: 1e-6)
        let broad = try cosmo.meanBeta(zLens: 0.3, zMin: 0, zMax: 3) { z in z * z * exp(-z / 0.5) }
        XCTAssertGreaterThan(broad.betaSquared, broad.beta * broad.beta)
        XCTAssertGreaterThan(broad.beta, 0)
        XCTAssertLessThan(broad.beta, 1)
    }

    // MARK: Bad input

    func assertThrows(_ expectedParameter: String, _ body: () throws -> Void,
                      file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("expected HaloProfileError for \(expectedParameter)", file: file, line: line)
        } catch let e as HaloProfileError {
            XCTAssertEqual(e.parameter, expectedParameter, file: file, line: line)
            XCTAssertTrue(e.description.contains(expectedParameter), e.description, file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }

    func testBadInputErrors() throws {
        assertThrows("mass") { _ = try NFW(mass: 0, concentration: 4, redshift: 0.3, cosmology: cosmo) }
        assertThrows("mass") { _ = try NFW(mass: -1e14, concentration: 4, redshift: 0.3, cosmology: cosmo) }
        assertThrows("mass") { _ = try Hernquist(mass: .nan, concentration: 4, redshift: 0.3, cosmology: cosmo) }
        assertThrows("concentration") { _ = try NFW(mass: 1e14, concentration: 0, redshift: 0.3, cosmology: cosmo) }
        assertThrows("concentration") {
            _ = try Einasto(mass: 1e14, concentration: -2, redshift: 0.3, cosmology: self.cosmo)
        }
        assertThrows("alpha") { _ = try Einasto(mass: 1e14, concentration: 4, redshift: 0.3, alpha: 0, cosmology: self.cosmo) }
        assertThrows("redshift") { _ = try NFW(mass: 1e14, concentration: 4, redshift: -0.5, cosmology: cosmo) }
        assertThrows("delta") { _ = try MassDefinition(delta: 0, reference: .critical) }
        assertThrows("H0") { _ = try Cosmology(H0: 0, omegaCDM: 0.25, omegaBaryon: 0.05) }

        let nfw = try NFW(mass: 1e14, concentration: 4, redshift: 0.3, cosmology: cosmo)
        let ein = try Einasto(mass: 1e14, concentration: 4, redshift: 0.3, cosmology: cosmo)
        let her = try Hernquist(mass: 1e14, concentration: 4, redshift: 0.3, cosmology: cosmo)
        for p in [nfw, ein, her] as [any HaloProfile] {
            assertThrows("radius") { _ = try p.density(at: .nan) }
            assertThrows("radius") { _ = try p.surfaceDensity(at: .nan) }
            assertThrows("radius") { _ = try p.meanSurfaceDensity(within: .nan) }
            assertThrows("radius") { _ = try p.excessSurfaceDensity(at: .nan) }
            assertThrows("radius") { _ = try p.excessSurfaceDensity(at: 0) }
            assertThrows("radius") { _ = try p.surfaceDensity(at: -1) }
            assertThrows("radius") { _ = try p.density(at: .infinity) }
            assertThrows("zSource") { _ = try p.convergence(at: 1, sourceRedshift: 0.3) }
            assertThrows("zSource") { _ = try p.tangentialShear(at: 1, sourceRedshift: 0.2) }
            assertThrows("zSource") { _ = try p.magnification(at: 1, sourceRedshift: 0.1) }
            assertThrows("zSource") { _ = try p.reducedTangentialShear(at: 1, sourceRedshift: .nan) }
        }
        assertThrows("zSource") { _ = try self.cosmo.criticalSurfaceDensity(zLens: 0.5, zSource: 0.5) }
        XCTAssertEqual(HaloProfileError.sourceNotBehindLens(zLens: 0.5, zSource: 0.4).description,
                       "HaloProfileError: parameter 'zSource' (0.4) must be greater than 'zLens' (0.5)")
    }
}
