import Foundation
import XCTest
import HaloProfiles
@testable import StrongLensing

/// The lens model against lenstronomy (angular units), its own derivatives, physics identities, the physical
/// parameters against lenstronomy's LensCosmo (constants set to Tessera's), and bad input.
final class LensModelTests: XCTestCase {
    /// Largest relative errors against `lens_points.csv`: α (|Δα|/|α|), κ, γ (|Δγ|/|γ|, both components), μ, and
    /// ψ (|Δψ|/max(|ψ|, θ_E²)).
    func modelErrors(alphaRsScale: Double = 1) throws -> [String: Double] {
        let configs = try LensFixtures.configs(alphaRsScale: alphaRsScale)
        var worst = ["alpha": 0.0, "kappa": 0.0, "gamma": 0.0, "mu": 0.0, "psi": 0.0]
        let points = try LensFixtures.rows("lens_points")
        XCTAssertGreaterThanOrEqual(points.count, 900)
        for r in points {
            let c = configs[Int(r["id"]!)]
            let p = c.model.evaluate(x: r["x"]!, y: r["y"]!)
            let da = hypot(p.alphaX - r["alpha_x"]!, p.alphaY - r["alpha_y"]!) / hypot(r["alpha_x"]!, r["alpha_y"]!)
            let g = hypot(r["gamma1"]!, r["gamma2"]!)
            let dg = hypot(p.gamma1 - r["gamma1"]!, p.gamma2 - r["gamma2"]!) / g
            let dpsi = abs(p.potential - r["psi"]!) / max(abs(r["psi"]!), c.einsteinRadius * c.einsteinRadius)
            worst["alpha"] = max(worst["alpha"]!, da)
            worst["kappa"] = max(worst["kappa"]!, relativeError(p.kappa, r["kappa"]!))
            worst["gamma"] = max(worst["gamma"]!, dg)
            worst["mu"] = max(worst["mu"]!, relativeError(p.magnification, r["mu"]!))
            worst["psi"] = max(worst["psi"]!, dpsi)
        }
        return worst
    }

    /// α, κ, γ, μ and ψ agree with lenstronomy 1.14 (NFW + HERNQUIST + SHEAR, same angular parameters) to 1e-6
    /// relative at 900 points of 300 random lenses, and the comparison fails for α_Rs off by 1e-4.
    func testAgreesWithLenstronomy() throws {
        let worst = try modelErrors()
        print("lens model vs lenstronomy, worst relative errors:", worst.sorted { $0.key < $1.key })
        for (k, v) in worst { XCTAssertLessThan(v, 1e-6, k) }
        let wrong = try modelErrors(alphaRsScale: 1 + 1e-4)
        XCTAssertGreaterThan(wrong["alpha"]!, 1e-6, "a 1e-4 change in alpha_Rs must fail the comparison")
        XCTAssertGreaterThan(wrong["kappa"]!, 1e-6)
    }

    /// κ and γ equal the derivatives of the deflection, and α the gradient of ψ (central differences).
    func testDerivativesOfDeflectionAndPotential() throws {
        let model = try LensModel(halo: AngularNFW(scaleRadius: 12, kappaS: 0.12),
                                  stars: AngularHernquist(scaleRadius: 0.55, kappa0: 2.4), shear1: 0.06, shear2: -0.03)
        for (x, y) in [(0.9, 0.4), (-0.03, 0.011), (0.55 * 0.7, -0.55 * 0.7142), (12.0 * 0.6, 12.0 * 0.8), (-2.5, -7.0)] {
            let h = 1e-5 * hypot(x, y)
            let p = model.evaluate(x: x, y: y)
            let px = model.evaluate(x: x + h, y: y), mx = model.evaluate(x: x - h, y: y)
            let py = model.evaluate(x: x, y: y + h), my = model.evaluate(x: x, y: y - h)
            let axx = (px.alphaX - mx.alphaX) / (2 * h), ayy = (py.alphaY - my.alphaY) / (2 * h)
            let axy = (py.alphaX - my.alphaX) / (2 * h), ayx = (px.alphaY - mx.alphaY) / (2 * h)
            let scale = p.kappa + p.gamma
            XCTAssertEqual(0.5 * (axx + ayy), p.kappa, accuracy: 1e-8 * scale, "κ at (\(x), \(y))")
            XCTAssertEqual(0.5 * (axx - ayy), p.gamma1, accuracy: 1e-8 * scale, "γ1 at (\(x), \(y))")
            XCTAssertEqual(axy, p.gamma2, accuracy: 1e-8 * scale, "γ2 at (\(x), \(y))")
            XCTAssertEqual(ayx, p.gamma2, accuracy: 1e-8 * scale, "γ2 (yx) at (\(x), \(y))")
            let a = hypot(p.alphaX, p.alphaY)
            XCTAssertEqual((px.potential - mx.potential) / (2 * h), p.alphaX, accuracy: 1e-8 * a)
            XCTAssertEqual((py.potential - my.potential) / (2 * h), p.alphaY, accuracy: 1e-8 * a)
        }
    }

    /// A circularly symmetric lens: the mass inside the Einstein radius is π θ_E² Σ_crit (2π∫κ r dr = π θ_E²),
    /// and the tangential critical curve (μ⁻¹ = 0) lies on θ_E.
    func testMassInsideEinsteinRadius() throws {
        let model = try LensModel(halo: AngularNFW(scaleRadius: 15, kappaS: 0.1), stars: AngularHernquist(scaleRadius: 0.6, kappa0: 1.8))
        let thetaE = try XCTUnwrap(model.einsteinRadius())
        let mass = Quadrature.integrate({ u in
            let r = exp(u)
            return 2 * Double.pi * r * r * model.evaluate(x: r, y: 0).kappa
        }, from: log(thetaE * 1e-12), to: log(thetaE), relativeTolerance: 1e-12)
        XCTAssertEqual(mass / (Double.pi * thetaE * thetaE), 1, accuracy: 1e-9)
        let p = model.evaluate(x: thetaE * 0.6, y: thetaE * 0.8)
        XCTAssertEqual(1 - p.kappa - p.gamma, 0, accuracy: 1e-12)  // tangential eigenvalue of A vanishes
    }

    /// The halo's angular κ equals HaloProfiles' NFW κ = Σ(θ D_l)/Σ_crit, and the stars' M_2D(<R_e) = M*/2.
    func testPhysicalConversionMatchesHaloProfiles() throws {
        let cosmo = try Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05)
        let g = try LensGalaxy(lensRedshift: 0.4, sourceRedshift: 1.7, stellarMassSPS: 3e11, alphaSPS: 1.3,
                               effectiveRadiusKpc: 6, haloMass: 2e13, cosmology: cosmo)
        let nfw = try NFW(mass: 2e13, concentration: g.concentration, redshift: 0.4, cosmology: cosmo)
        let halo = try XCTUnwrap(g.model.halo), stars = try XCTUnwrap(g.model.stars)
        for theta in [0.01, 0.3, 1.0, 4.0, 40.0] {
            let R = theta / LensGalaxy.arcsecPerRadian * g.lensDistance
            XCTAssertLessThan(relativeError(halo.radialProfile(theta).kappa, try nfw.convergence(at: R, sourceRedshift: 1.7)), 1e-12)
        }
        let reArcsec = 6e-3 / g.lensDistance * LensGalaxy.arcsecPerRadian
        let m2d = Double.pi * reArcsec * reArcsec * stars.radialProfile(reArcsec).meanKappa * g.criticalSurfaceDensity
            * pow(g.lensDistance / LensGalaxy.arcsecPerRadian, 2)
        XCTAssertLessThan(relativeError(m2d, 0.5 * 1.3 * 3e11), 1e-12)
    }

    /// Physical → angular against lenstronomy's LensCosmo with G, M☉, Mpc and ρ_c set to Tessera's values:
    /// NFW Rs and alpha_Rs, Hernquist Rs and sigma0, Σ_crit, D_Δt and days per arcsec², the Duffy et al.
    /// concentration and the Hernquist R_e/r_s.
    func testPhysicalParametersAgreeWithLensCosmo() throws {
        let cosmo = try Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05)
        let rows = try LensFixtures.rows("lens_physical")
        XCTAssertGreaterThanOrEqual(rows.count, 40)
        XCTAssertEqual(AngularHernquist.effectiveRadiusOverScaleRadius, 1.8152709594790279, accuracy: 1e-14)
        var worst = 0.0
        for r in rows {
            let g = try LensGalaxy(lensRedshift: r["z_l"]!, sourceRedshift: r["z_s"]!, stellarMassSPS: r["m_sps"]!,
                                   alphaSPS: r["alpha_sps"]!, effectiveRadiusKpc: r["re_kpc"]!, haloMass: r["m200c"]!,
                                   cosmology: cosmo)
            let pairs: [(Double, Double)] = [
                (g.concentration, r["c_duffy"]!), (g.model.halo!.scaleRadius, r["rs_halo"]!),
                (g.model.halo!.alphaAtScaleRadius, r["alpha_rs"]!), (g.model.stars!.scaleRadius, r["rs_stars"]!),
                (g.model.stars!.kappa0, r["sigma0"]!), (g.criticalSurfaceDensity, r["sigma_crit"]!),
                (g.timeDelayDistance, r["d_dt"]!), (g.daysPerArcsec2, r["days_per_arcsec2"]!),
            ]
            for (a, b) in pairs { worst = max(worst, relativeError(a, b)) }
        }
        print("physical -> angular vs lenstronomy LensCosmo (CODATA constants), worst relative error:", worst)
        XCTAssertLessThan(worst, 1e-6)
    }

    func testBadInputIsAClearError() throws {
        let cosmo = try Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05)
        func name(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch let e as StrongLensingError {
                if case let .invalidParameter(n, _, _) = e { return n }
                return "\(e)"
            } catch { return "\(error)" }
        }
        func galaxy(zl: Double = 0.5, zs: Double = 2, msps: Double = 2e11, alpha: Double = 1, re: Double = 5,
                    mh: Double = 1e13, c: Double? = nil, g1: Double = 0) throws {
            _ = try LensGalaxy(lensRedshift: zl, sourceRedshift: zs, stellarMassSPS: msps, alphaSPS: alpha,
                               effectiveRadiusKpc: re, haloMass: mh, concentration: c, shear1: g1, cosmology: cosmo)
        }
        XCTAssertNil(name { try galaxy() })
        XCTAssertEqual(name { try galaxy(zs: 0.5) }, "sourceRedshift")
        XCTAssertEqual(name { try galaxy(zl: -1) }, "lensRedshift")
        XCTAssertEqual(name { try galaxy(msps: .nan) }, "stellarMassSPS")
        XCTAssertEqual(name { try galaxy(alpha: 0) }, "alphaSPS")
        XCTAssertEqual(name { try galaxy(re: -2) }, "effectiveRadiusKpc")
        XCTAssertEqual(name { try galaxy(mh: .infinity) }, "haloMass")
        XCTAssertEqual(name { try galaxy(c: 0) }, "concentration")
        XCTAssertEqual(name { try galaxy(g1: 1.2) }, "shear")
        XCTAssertEqual(name { _ = try AngularNFW(scaleRadius: 0, kappaS: 0.1) }, "halo.scaleRadius")
        XCTAssertEqual(name { _ = try AngularHernquist(scaleRadius: 1, kappa0: -1) }, "stars.kappa0")
        let e = StrongLensingError.invalidParameter(name: "sourceRedshift", value: 0.5, allowed: "> lensRedshift (0.5)")
        XCTAssertTrue(e.description.contains("sourceRedshift"))
    }
}
