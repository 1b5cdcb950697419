import Foundation
import XCTest
import StrongLensing

/// The lenstronomy reference tables in `Fixtures/` (written by `scripts/make_lens_fixtures.py`).
enum LensFixtures {
    /// Rows of a fixture CSV as name → value, skipping `#` comments; fails the test if the file is missing.
    static func rows(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Double]] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "csv", subdirectory: "Fixtures") else {
            XCTFail("fixture \(name).csv missing from the test bundle (run scripts/make_lens_fixtures.py)", file: file, line: line)
            return []
        }
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        guard let header = lines.first?.split(separator: ",").map(String.init) else { return [] }
        return try lines.dropFirst().map { line in
            let fields = line.split(separator: ",")
            guard fields.count == header.count else { throw CocoaError(.fileReadCorruptFile) }
            var row = [String: Double]()
            for (k, f) in zip(header, fields) {
                guard let v = Double(f) else { throw CocoaError(.fileReadCorruptFile) }
                row[k] = v
            }
            return row
        }
    }

    /// One random lens of `lens_configs.csv`: lenstronomy's NFW + HERNQUIST + SHEAR parameters and a source.
    struct Config {
        let id: Int
        let model: LensModel
        let sourceX: Double, sourceY: Double
        let einsteinRadius: Double
        /// Number of images lenstronomy's wide search alone found.
        let wideCount: Int
    }

    static func configs(alphaRsScale: Double = 1) throws -> [Config] {
        try rows("lens_configs").map { r in
            Config(id: Int(r["id"]!),
                   model: try LensModel(halo: AngularNFW(scaleRadius: r["rs_halo"]!, alphaAtScaleRadius: r["alpha_rs"]! * alphaRsScale),
                                        stars: AngularHernquist(scaleRadius: r["rs_stars"]!, kappa0: r["sigma0"]!),
                                        shear1: r["gamma1"]!, shear2: r["gamma2"]!),
                   sourceX: r["beta_x"]!, sourceY: r["beta_y"]!, einsteinRadius: r["theta_e"]!, wideCount: Int(r["n_wide"]!))
        }
    }

    /// lenstronomy's images per lens id.
    /// `mu` from lenstronomy's hessian, `muAlpha` from central differences of its deflection (step 1e-4 r).
    struct Image { let x: Double, y: Double, mu: Double, muAlpha: Double, fermat: Double, residual: Double, foundBy: Int }

    static func images() throws -> [Int: [Image]] {
        var out = [Int: [Image]]()
        for r in try rows("lens_images") {
            out[Int(r["id"]!), default: []].append(Image(x: r["x"]!, y: r["y"]!, mu: r["mu"]!, muAlpha: r["mu_alpha"]!,
                                                          fermat: r["fermat"]!, residual: r["residual"]!,
                                                          foundBy: Int(r["found_by"]!)))
        }
        return out
    }

    /// Images Tessera found that no lenstronomy search listed, with lenstronomy's residual and μ there
    /// (`lens_extra.csv`, from `make_lens_fixtures.py --verify`).
    struct ExtraImage { let id: Int, x: Double, y: Double, residual: Double, muAlpha: Double }

    static func extraImages() throws -> [ExtraImage] {
        try rows("lens_extra").map {
            ExtraImage(id: Int($0["id"]!), x: $0["x"]!, y: $0["y"]!, residual: $0["residual"]!, muAlpha: $0["mu_alpha"]!)
        }
    }
}

/// |a − b| / |b| (|a − b| if b = 0).
func relativeError(_ a: Double, _ b: Double) -> Double {
    b == 0 ? abs(a - b) : abs(a - b) / abs(b)
}

import HaloProfiles

/// The fixtures' flat ΛCDM (H0 = 70, Ω_cdm = 0.25, Ω_b = 0.05, T_CMB = 2.7255 K, N_eff = 3.046).
enum HaloProfilesCosmology {
    static func make() throws -> Cosmology { try Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05) }
}
