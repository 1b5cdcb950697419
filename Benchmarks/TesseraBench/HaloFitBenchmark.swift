import ClusterFitting
import ClusterRuns
import Foundation
import HaloProfiles
import SystemPackage

/// Halos fitted per second on one core with the optimiser (the `clusters fit --method optimize`
/// path: coarse grid, L-BFGS, Laplace error; NFW, c from Duffy et al. 2008, flat prior on
/// log10 M200c in [12, 16]), over the `halo-*.h5` files of a `tessera clusters mock` run.
/// Benchmarks/clmm_halo_fit_benchmark.py runs this and CLMM's fit of the same halos in one run.
/// Prints `tessera_fits_per_second <value>` and, with an output path, writes `id,log10_mass,log10_mass_error`.
enum HaloFitBenchmark {
    static func run(halos directory: String, repeats: Int, output: String?) {
        do {
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasPrefix("halo-") && $0.hasSuffix(".h5") }.sorted()
            let halos = try names.map { try HaloInput.read(FilePath(directory).appending($0).string) }
            guard !halos.isEmpty else { print("no halo-*.h5 files in \(directory)"); exit(1) }
            let cosmology = try Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05)
            var lines = ["id,log10_mass,log10_mass_error"]
            let t0 = Date()
            for r in 0..<repeats {
                for halo in halos {
                    let fit = try HaloFit.fit(observables: halo.observables, redshift: halo.redshift, cosmology: cosmology,
                                              massPrior: .flat(lower: 12, upper: 16), method: .optimize)
                    if r == 0 { lines.append("\(halo.id),\(fit.log10Mass),\(fit.log10MassError)") }
                }
            }
            let seconds = Date().timeIntervalSince(t0)
            let rate = Double(halos.count * repeats) / seconds
            print(String(format: "tessera optimiser: %d halos x %d repeats in %.3f s on one core", halos.count, repeats, seconds))
            print(String(format: "tessera_fits_per_second %.6g", rate))
            if let output { try (lines.joined(separator: "\n") + "\n").write(toFile: output, atomically: true, encoding: .utf8) }
        } catch {
            print("halo fit benchmark failed: \(error)")
            exit(1)
        }
    }
}
