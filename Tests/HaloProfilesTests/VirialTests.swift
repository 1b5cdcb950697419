import Foundation
import XCTest
import HaloProfiles

/// The virial mass definition (Bryan & Norman 1998) against CLMM/CCL values recorded by
/// `Fixtures/make_virial_fixture.py`: Δ_vir(z), r_vir and the NFW and Hernquist Σ and ΔΣ, at 1e-6.
final class VirialTests: XCTestCase {
    struct Case: Decodable {
        let model: String, mass: Double, concentration: Double, z_lens: Double, radii: [Double]
        let delta_vir: Double, r_vir_physical: Double, sigma: [Double], delta_sigma: [Double]
    }
    struct File: Decodable { let cases: [Case] }

    func testVirialDefinitionMatchesCLMM() throws {
        let fx = try CLMMFixture.load()
        let cosmo = try fx.makeCosmology()
        let url = try XCTUnwrap(Bundle.module.url(forResource: "virial_fixture", withExtension: "json", subdirectory: "Fixtures"))
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        XCTAssertEqual(file.cases.count, 8)
        XCTAssertEqual(MassDefinition.virial.description, "vir")
        // Einstein–de Sitter limit: 18π².
        let eds = try Cosmology(H0: 70, omegaCDM: 0.95, omegaBaryon: 0.05, cmbTemperature: 0, nEff: 0)
        XCTAssertEqual(MassDefinition.virial.overdensity(eds, z: 0), 18 * Double.pi * Double.pi, accuracy: 1e-3)
        for c in file.cases {
            XCTAssertLessThan(relativeError(MassDefinition.virial.overdensity(cosmo, z: c.z_lens), c.delta_vir), 1e-6)
            XCTAssertLessThan(relativeError(MassDefinition.virial.radius(mass: c.mass, z: c.z_lens, cosmology: cosmo), c.r_vir_physical), 1e-6)
            let hp = try HaloParameters(mass: c.mass, concentration: c.concentration, redshift: c.z_lens,
                                        massDefinition: .virial, cosmology: cosmo)
            let profile: any HaloProfile = c.model == "nfw" ? NFW(hp) : Hernquist(hp)
            for (i, r) in c.radii.enumerated() {
                XCTAssertLessThan(relativeError(try profile.surfaceDensity(at: r), c.sigma[i]), 1e-6, "\(c.model) Σ(\(r))")
                XCTAssertLessThan(relativeError(try profile.excessSurfaceDensity(at: r), c.delta_sigma[i]), 1e-6, "\(c.model) ΔΣ(\(r))")
            }
        }
    }
}
