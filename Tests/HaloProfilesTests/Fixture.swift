import Foundation
import XCTest
import HaloProfiles

/// Decoded `Fixtures/clmm_fixture.json` (written by `Fixtures/make_clmm_fixture.py`, CLMM + CCL backend).
struct CLMMFixture: Decodable {
    struct Cosmo: Decodable {
        let H0: Double, Omega_c: Double, Omega_b: Double, T_CMB: Double, Neff: Double
        let Omega_g: Double, Omega_nu_rel: Double, Omega_l: Double, Omega_m: Double
    }
    struct Distance: Decodable { let z: Double, da: Double, rho_c: Double, rho_m: Double, E2: Double }
    struct SigmaCrit: Decodable { let z_lens: Double, z_source: Double, da_ls: Double, sigma_crit: Double }
    struct Profile: Decodable {
        let model: String, massdef: String, delta: Double, mass: Double, concentration: Double
        let z_lens: Double, z_source: Double, radii: [Double]
        let rho: [Double], sigma: [Double], mean_sigma: [Double], delta_sigma: [Double]
        let kappa: [Double], gamma_t: [Double], g_t: [Double], mu: [Double]
        let alpha: Double?
        /// Einasto only: 30-digit mpmath references (see make_clmm_fixture.py).
        let sigma_mpmath: [Double]?
        let mean_sigma_mpmath: [Double]?
    }
    let versions: [String: String]
    let cosmology: Cosmo
    let distances: [Distance]
    let sigma_crit: [SigmaCrit]
    let profiles: [Profile]

    static func load() throws -> CLMMFixture {
        guard let url = Bundle.module.url(forResource: "clmm_fixture", withExtension: "json", subdirectory: "Fixtures")
        else { throw XCTSkip("clmm_fixture.json not found in test bundle") }
        return try JSONDecoder().decode(CLMMFixture.self, from: Data(contentsOf: url))
    }

    func makeCosmology() throws -> Cosmology {
        try Cosmology(H0: cosmology.H0, omegaCDM: cosmology.Omega_c, omegaBaryon: cosmology.Omega_b,
                      cmbTemperature: cosmology.T_CMB, nEff: cosmology.Neff)
    }
}

@inline(__always)
func relativeError(_ a: Double, _ b: Double) -> Double {
    if a == b { return 0 }
    return abs(a - b) / max(abs(b), Double.leastNormalMagnitude)
}

/// Tracks the worst relative error per label.
final class WorstError {
    var worst: [String: Double] = [:]
    func record(_ label: String, _ value: Double, _ reference: Double) {
        let e = relativeError(value, reference)
        worst[label] = max(worst[label] ?? 0, e)
    }
    func report() -> String {
        worst.keys.sorted().map { "\($0): \(String(format: "%.2e", worst[$0]!))" }.joined(separator: "\n")
    }
}
