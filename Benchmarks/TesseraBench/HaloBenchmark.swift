import Foundation
import HaloProfiles

/// NFW ΔΣ evaluations per second on one core (the cluster issue's goal: ≥ 1e7/s), through the
/// checked API and the allocation-free path. Reference in the same run: one `log` + `sqrt` +
/// `atan` per evaluation, the transcendental floor of the Wright & Brainerd formula.
enum HaloBenchmark {
    static func run(evaluations n: Int = 5_000_000) {
        do {
            let cosmology = try Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05)
            let halo = try NFW(mass: 3e14, concentration: 4, redshift: 0.3, cosmology: cosmology)
            let radii = (0..<4096).map { 0.1 * pow(100, Double($0) / 4096) }  // 0.1–10 Mpc
            var checksum = 0.0
            var t0 = Date()
            for i in 0..<n { checksum += try halo.excessSurfaceDensity(at: radii[i & 4095]) }
            let checked = Double(n) / Date().timeIntervalSince(t0)
            t0 = Date()
            for i in 0..<n { checksum += halo.excessSurfaceDensityUnchecked(radii[i & 4095]) }
            let unchecked = Double(n) / Date().timeIntervalSince(t0)
            t0 = Date()
            for i in 0..<n { let r = radii[i & 4095]; checksum += log(r) + r.squareRoot() + atan(r) }
            let floor = Double(n) / Date().timeIntervalSince(t0)
            print(String(format: "NFW ΔΣ (checked API):        %.3g /s per core", checked))
            print(String(format: "NFW ΔΣ (allocation-free):    %.3g /s per core", unchecked))
            print(String(format: "reference log + sqrt + atan: %.3g /s per core", floor))
            print(String(format: "ratios: checked / reference = %.3f, allocation-free / reference = %.3f; goal >= 1e7/s (checksum %.6g)",
                         checked / floor, unchecked / floor, checksum))
        } catch {
            print("halo benchmark failed: \(error)")
            exit(1)
        }
    }
}
