import Foundation
import LensingRuns
import Plotting
import SystemPackage
import TesseraHDF5

/// The strong-lens inference part of a run report (`infer` runs): the η posterior against the catalog's truth
/// (table, corner plot, traces per chain), each lens's α constraint beside the α_sps posterior, and the per-lens
/// stage-1 diagnostics, from `summary.json`, `chains.h5` and `lenses/lens-NNNNN.json`.
enum InferenceReport {
    static func build(_ page: inout HTMLPage, directory: String) throws -> [String] {
        let dir = FilePath(directory)
        let summaryPath = dir.appending("summary.json").string, chainsPath = dir.appending(InferenceChainsFile.name).string
        guard FileManager.default.fileExists(atPath: summaryPath), FileManager.default.fileExists(atPath: chainsPath) else {
            page.paragraph("No summary.json or chains.h5 (the run has not finished): no pictures.", className: "note")
            return ["no summary.json or chains.h5: the run has not finished"]
        }
        let report: InferReport
        do {
            report = try JSONDecoder().decode(InferReport.self, from: Data(contentsOf: URL(fileURLWithPath: summaryPath)))
        } catch {
            throw ReportError(file: summaryPath, message: "not an inference summary: \(error)")
        }
        var warnings = report.lines.filter { $0.hasPrefix("warning:") }.map { String($0.dropFirst("warning: ".count)) }
        for p in report.parameters where !p.covered {
            warnings.append("\(p.name): the catalog's value \(p.truth) is outside the 68% interval [\(p.lower68), \(p.upper68)]")
        }

        page.heading("Population hyperparameters η", level: 3, id: "eta")
        func f(_ x: Double?, _ digits: Int = 4) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "–" }
        page.table(header: ["parameter", "catalog value", "median", "68% interval", "in 68%", "split R̂", "ESS", "modes"],
                   rows: report.parameters.map { p in
                       [p.name, f(p.truth), f(p.median), "[\(f(p.lower68)), \(f(p.upper68))]", p.covered ? "yes" : "no",
                        f(p.rHat, 3), f(p.ess, 0), "\(p.modes.modes.count)"]
                   })
        let h5 = try HDF5File.open(chainsPath)
        let eta = try h5.read(Double.self, from: "/eta/draws")
        try h5.close()
        guard eta.shape.count == 3, eta.shape[2] == 4 else {
            throw ReportError(file: chainsPath, message: "/eta/draws has shape \(eta.shape), expected [chain, draw, 4]")
        }
        let (chains, draws) = (eta.shape[0], eta.shape[1])
        func column(_ k: Int, chain c: Int) -> [Double] { (0..<draws).map { eta.values[(c * draws + $0) * 4 + k] } }
        let names = InferStages.etaNames, truths = report.parameters.map(\.truth)
        let pooled = (0..<4).map { k in (0..<chains).flatMap { column(k, chain: $0) } }
        if pooled[0].count >= 10 {
            try page.figure(Plots.corner(pooled, names: names, truths: truths, bins: 24, cell: 130,
                                         title: "η draws (\(chains) chains × \(draws)); red: the catalog's values"), name: "eta-corner")
            for c in 0..<chains {
                try page.figure(Plots.trace((0..<4).map { column($0, chain: c) }, names: names, truths: truths,
                                            title: "Chain \(c): η against draw"), name: "eta-trace-\(c)")
            }
        }

        // Each lens's α constraint: the mean over its kept draws of p(α | r_j) (the Rao–Blackwell marginal under the
        // interim prior), or a histogram of its stage-1 α where the run used the kernel.
        let lensDirectory = dir.appending(InferRunner.lensDirectory).string
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: lensDirectory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        var series: [Series] = []
        for (i, name) in files.enumerated() {
            let path = FilePath(lensDirectory).appending(name).string
            guard let samples = try? JSONDecoder().decode(InferStages.LensSamples.self, from: Data(contentsOf: URL(fileURLWithPath: path))) else {
                warnings.append("\(path): not a stage-1 lens result")
                continue
            }
            let color = Palette.color([0, 1, 2, 4, 5, 6, 7, 8, 9][i % 9])  // not 3: red marks the catalog's value
            if let c = samples.alphaConditional {
                let density = (0..<c.gridCount).map { k in
                    c.logConditional.reduce(0.0) { $0 + ($1[k].map { Foundation.exp($0) } ?? 0) } / Double(c.logConditional.count)
                }
                series.append(.line(x: (0..<c.gridCount).map(c.alpha), y: density, label: nil, color: color, dashed: false))
            } else {
                let (edges, counts) = Plots.histogram(samples.draws.map { $0[6] }, bins: 30)
                let total = counts.reduce(0, +) * (edges[1] - edges[0])
                series.append(.line(x: zip(edges, edges.dropFirst()).map { ($0 + $1) / 2 }, y: counts.map { $0 / max(total, 1e-300) },
                                    label: nil, color: color, dashed: true))
            }
        }
        if !series.isEmpty {
            page.heading("Each lens's α against α_sps", level: 3, id: "lens-alpha")
            let alphaTruth = truths[0]
            series.append(.vLine(x: alphaTruth, label: "catalog α_sps", color: Palette.color(3)))
            if let p = report.parameters.first {
                series.append(.vLine(x: p.lower68, label: "α_sps 68% interval", color: "#000"))
                series.append(.vLine(x: p.upper68, label: nil, color: "#000"))
            }
            try page.figure(Figure.single(Panel(x: Axis("α (M* = α M_sps)"), y: Axis("p(α | lens data), interim prior"), series: series),
                                          width: 720, height: 360,
                                          title: "\(files.count) lenses' α posteriors (solid: α conditionals; dashed: stage-1 histograms)"),
                            name: "lens-alpha", caption: "The population's α_sps is where the lenses' constraints overlap; "
                                + "a lens far from the rest pulls α_sps or points at a poorly mixed stage-1 chain.")
        }

        page.heading("Lenses", level: 3, id: "lenses")
        page.table(header: ["lens", "divergences", "split R̂(α)", "ESS(α)", "importance ESS", "Monte Carlo var ln L", "α conditional width"],
                   rows: report.lenses.map { l in
                       [l.id, "\(l.divergences)", f(l.rHatAlpha, 2), f(l.essAlpha, 0), f(l.importanceESS, 1), f(l.monteCarloVariance, 3),
                        f(l.conditionalWidth, 3)]
                   })
        return warnings
    }
}
