import Foundation
import StrongLensing

/// The lens solver against lenstronomy on all fixture lenses (the unit test runs every 10th): image counts,
/// position/magnification/Fermat-potential agreement, which images lenstronomy's own solver missed, and the
/// solver's time per lens. Reads `Tests/StrongLensingTests/Fixtures` (from `scripts/make_lens_fixtures.py`).
enum LensSolverBenchmark {
    static func rows(_ path: String) throws -> [[String: Double]] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        let header = lines[0].split(separator: ",").map(String.init)
        return lines.dropFirst().map { l in
            var row = [String: Double]()
            for (k, f) in zip(header, l.split(separator: ",")) { row[k] = Double(f) ?? .nan }
            return row
        }
    }

    static func run(fixtures dir: String) {
        do {
            let configs = try rows(dir + "/lens_configs.csv")
            var reference = [Int: [[String: Double]]]()
            for r in try rows(dir + "/lens_images.csv") { reference[Int(r["id"]!), default: []].append(r) }
            let solver = LensSolver()
            var elapsed = 0.0
            var multiplicity = [Int: Int](), mismatches = [Int]()
            var maxPos = 0.0, maxMu = 0.0, maxFermat = 0.0, maxResidual = 0.0, maxLensResidual = 0.0
            var onlyNewton = 0, onlyNewtonCentral = 0, notWide = 0, lensImages = 0, maxMuCentral = 0.0, maxMuHessian = 0.0
            var extra = [String]()
            for r in configs {
                let id = Int(r["id"]!)
                let model = try LensModel(halo: AngularNFW(scaleRadius: r["rs_halo"]!, alphaAtScaleRadius: r["alpha_rs"]!),
                                          stars: AngularHernquist(scaleRadius: r["rs_stars"]!, kappa0: r["sigma0"]!),
                                          shear1: r["gamma1"]!, shear2: r["gamma2"]!)
                let t0 = Date()
                let mine = try solver.images(of: model, sourceX: r["beta_x"]!, sourceY: r["beta_y"]!)
                elapsed += Date().timeIntervalSince(t0)
                multiplicity[mine.count, default: 0] += 1
                let theirs = reference[id] ?? []
                if theirs.count != mine.count {
                    mismatches.append(id)
                    // Tessera's images not in lenstronomy's list, for `make_lens_fixtures.py --verify`.
                    for m in mine where !theirs.contains(where: { hypot($0["x"]! - m.x, $0["y"]! - m.y) < 1e-6 }) {
                        extra.append(String(format: "%d,%.17g,%.17g,%@,%.6g", id, m.x, m.y, m.kind.rawValue, m.magnification))
                    }
                }
                let te2 = r["theta_e"]! * r["theta_e"]!
                for m in mine { maxResidual = max(maxResidual, m.sourcePlaneResidual) }
                for t in theirs {
                    lensImages += 1
                    let by = Int(t["found_by"]!)
                    maxLensResidual = max(maxLensResidual, t["residual"]!)
                    guard let m = mine.min(by: { hypot($0.x - t["x"]!, $0.y - t["y"]!) < hypot($1.x - t["x"]!, $1.y - t["y"]!) })
                    else { continue }
                    if by & 1 == 0 { notWide += 1 }
                    if by & 3 == 0 { onlyNewton += 1; if m.kind == .maximum { onlyNewtonCentral += 1 } }
                    maxPos = max(maxPos, hypot(m.x - t["x"]!, m.y - t["y"]!))
                    // μ against lenstronomy's deflection differentiated with a step ∝ r (`mu_alpha`), and against
                    // its HERNQUIST hessian (fixed 1e-5″ step), which is off by ~1e-4 at the central images.
                    maxMu = max(maxMu, abs(m.magnification - t["mu_alpha"]!) / abs(t["mu_alpha"]!))
                    if m.kind == .maximum {
                        maxMuCentral = max(maxMuCentral, abs(m.magnification - t["mu"]!) / abs(t["mu"]!))
                    } else {
                        maxMuHessian = max(maxMuHessian, abs(m.magnification - t["mu"]!) / abs(t["mu"]!))
                    }
                    maxFermat = max(maxFermat, abs(m.fermatPotential - t["fermat"]!) / te2)
                }
            }
            print("lenses: \(configs.count); Tessera image counts (images: lenses): \(multiplicity.sorted { $0.key < $1.key })")
            print("image-count mismatches with lenstronomy (wide + central + Newton): \(mismatches.count) \(mismatches.prefix(20))")
            print(String(format: "matched images: %d; max |Δθ| = %.3g arcsec, max |Δτ|/θ_E² = %.3g", lensImages, maxPos, maxFermat))
            print(String(format: "max |Δμ|/|μ|: %.3g against mu_alpha; against lenstronomy's hessian %.3g (central images %.3g)",
                         maxMu, maxMuHessian, maxMuCentral))
            if !extra.isEmpty {
                // lens_extra.csv (make_lens_fixtures.py --verify) holds lenstronomy's residual at such images.
                let checked = (try? rows(dir + "/lens_extra.csv")) ?? []
                print("Tessera images lenstronomy did not list (id,x,y,kind,mu; lenstronomy's residual there if checked):")
                for e in extra {
                    let f = e.split(separator: ",")
                    let r = checked.first { Int($0["id"]!) == Int(f[0]) && hypot($0["x"]! - Double(f[1])!, $0["y"]! - Double(f[2])!) < 1e-9 }
                    print(e + (r.map { String(format: ", lenstronomy residual %.3g arcsec", $0["residual"]!) } ?? ", not checked"))
                }
            }
            print(String(format: "max source-plane residual: Tessera %.3g, lenstronomy %.3g arcsec", maxResidual, maxLensResidual))
            print("images missed by lenstronomy's wide search: \(notWide); missed by both its searches (found only by Newton on its lens equation): \(onlyNewton), of which central: \(onlyNewtonCentral)")
            print(String(format: "Tessera solver: %.3f ms per lens (release, one core)", 1000 * elapsed / Double(configs.count)))
        } catch {
            print("lens solver benchmark failed: \(error)")
            exit(1)
        }
    }
}
