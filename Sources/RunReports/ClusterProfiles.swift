import ClusterFitting
import ClusterRuns
import Foundation
import HaloProfiles
import Plotting
import SystemPackage
import TesseraRun

/// ΔΣ (and other profile) data of a `clusters fit` run's first halos with the fitted model:
/// the halo file's points and 1σ errors, and the model at the fit's estimate (and at the true
/// mass, when the halo file has one), from the same `HaloLikelihood` the fit used (the run's
/// cosmology, mass prior and concentration setting from its params.json).
enum ClusterProfiles {
    static func section(_ page: inout HTMLPage, fitRun: String, maxHalos: Int) throws -> [String] {
        let run = FilePath(fitRun)
        let c = try ConfigLoader.load(ClusterFitConfiguration.self, from: run.appending(RunDirectory.paramsFile).string)
        let results = run.appending("results").string
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: results)) ?? []).filter { $0.hasPrefix("halo-") && $0.hasSuffix(".h5") }.sorted()
        page.heading("Profiles of the fitted halos", level: 3, id: "profiles")
        guard !files.isEmpty else { page.paragraph("No halo results in \(results).", className: "note"); return [] }
        let shown = files.prefix(maxHalos)
        page.paragraph("Showing the first \(shown.count) of \(files.count) halos of \(fitRun) (--max-sources): data with 1σ errors, the model at the fitted parameters (solid) and at the true mass (dashed).", className: "note")
        let cosmology = try Cosmology(H0: c.h0, omegaCDM: c.omegaCDM, omegaBaryon: c.omegaBaryon)
        var warnings: [String] = []
        for name in shown {
            let record = try HaloFitRecord.read(FilePath(results).appending(name).string)
            let halo: HaloInput
            do { halo = try HaloInput.read(record.file) } catch {
                warnings.append("halo \(record.id): input \(record.file) not readable here, no profile plot")
                continue
            }
            let likelihood = try HaloLikelihood(observables: halo.observables, redshift: halo.redshift, cosmology: cosmology,
                                                fitConcentration: c.fitConcentration,
                                                massPrior: .flat(lower: c.log10MassRange[0], upper: c.log10MassRange[1]))
            let model = try likelihood.model(record.estimate)
            var truthModel: [[Double]]?
            if let t = halo.log10TrueMass {
                var theta = [t]
                if c.fitConcentration, record.estimate.count > 1 { theta.append(record.estimate[1]) }
                truthModel = try? likelihood.model(theta)
            }
            for (k, o) in halo.observables.enumerated() where !o.kind.isMap {
                var series: [Series] = [.errorBars(x: o.radii, y: o.values, yError: o.errors, label: "data", color: Palette.color(0)),
                                        .line(x: o.radii, y: model[k], label: String(format: "fit log10 M = %.3f", record.log10Mass), color: Palette.color(3), dashed: false)]
                if let tm = truthModel, let t = halo.log10TrueMass {
                    series.append(.line(x: o.radii, y: tm[k], label: String(format: "true log10 M = %.3f", t), color: Palette.color(2), dashed: true))
                }
                let positive = o.values.allSatisfy { $0 > 0 } && model[k].allSatisfy { $0 > 0 }
                let label = o.kind.name == "delta_sigma" ? "ΔΣ (M☉/Mpc²)" : o.kind.name
                let panel = Panel(x: Axis("R (physical Mpc)", log: true), y: Axis(label, log: positive), series: series)
                try page.figure(.single(panel, width: 520, height: 320, title: "Halo \(record.id) (z = \(String(format: "%.3f", halo.redshift))): \(o.kind.name)"),
                                name: "profile-\(record.id)-\(k)")
            }
        }
        return warnings
    }
}
