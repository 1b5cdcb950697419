import ClusterFitting
import Foundation
import SystemPackage
import TesseraFITS
import TesseraHDF5
import TesseraRun
import TesseraSupport

/// `tessera clusters compare RUN --truth truth.fits`: per bin, the ensemble posterior of bias and
/// scatter against the simulation truth.
///
/// Truth per bin: the injected b and σ (header BIAS, SCATTER of the truth table) and the values
/// realised by the bin's halos, b_real = exp(mean ln(M_WL/M_true)) and σ_real = their standard
/// deviation (columns LOG10_LENSING_MASS, LOG10_TRUE_MASS). Writes into the output directory:
/// - `compare.csv` / HDU SUMMARY: per bin the truths, posterior medians and 68%/95% intervals,
///   the posterior CDF at the injected truth, whether it lies inside the 68% and 95% intervals, and
///   the log-likelihood (no priors) at the truth, at the posterior medians and its maximum over the draws;
/// - `compare_curves.csv` / HDU CURVES (plot-ready): per bin and parameter, a grid of values with
///   the marginal posterior density (Gaussian kernel estimate from the draws) and the
///   log-likelihood with the other parameter held at its injected truth and at its posterior median;
/// - `compare_samples.csv` / HDU SAMPLES: every draw (bin, chain, draw, bias, scatter, log-likelihood).
/// `compare.fits` holds the three HDUs.
public enum ClusterCompareRunner {
    public struct BinComparison: Sendable, Equatable {
        public var label: String
        public var halos: Int
        public var trueBias: Double, trueScatter: Double
        public var realisedBias: Double, realisedScatter: Double
        public var biasMedian: Double, biasInterval68: [Double], biasInterval95: [Double]
        public var scatterMedian: Double, scatterInterval68: [Double], scatterInterval95: [Double]
        public var biasCDFAtTruth: Double, scatterCDFAtTruth: Double
        public var logLikelihoodAtTruth: Double, logLikelihoodAtMedian: Double, logLikelihoodMax: Double
        public var biasInside68: Bool { biasInterval68[0] <= trueBias && trueBias <= biasInterval68[1] }
        public var scatterInside68: Bool { scatterInterval68[0] <= trueScatter && trueScatter <= scatterInterval68[1] }
    }

    public static func run(_ c: ClusterCompareConfiguration, fitRun: String, ensemble: String, output: String,
                           log: (String) -> Void = { print($0) }) throws -> [BinComparison] {
        // The truth table.
        let truth: (ids: [String], trueMass: [Double], lensingMass: [Double], bias: Double, scatter: Double)
        do {
            let f = try FITSFile(path: c.truth)
            defer { try? f.close() }
            let header = try f.readHeader(hdu: 1)
            truth = (try f.readColumn("ID", as: String.self, hdu: 1), try f.readColumn("LOG10_TRUE_MASS", as: Double.self, hdu: 1),
                     try f.readColumn("LOG10_LENSING_MASS", as: Double.self, hdu: 1), try header.double("BIAS"), try header.double("SCATTER"))
        }
        let row = Dictionary(truth.ids.enumerated().map { ($1.trimmingCharacters(in: .whitespaces), $0) }, uniquingKeysWith: { a, _ in a })

        // The ensemble: its configuration (for the same per-halo inputs) and draws.
        let ensembleParams = FilePath(ensemble).appending("params.json").string
        let ec = try ConfigLoader.load(ClusterEnsembleConfiguration.self, from: ensembleParams)
        let h5Path = FilePath(ensemble).appending("ensemble.h5").string
        guard FileManager.default.fileExists(atPath: h5Path) else {
            throw ClusterRunError(file: h5Path, message: "no ensemble results; run `tessera clusters ensemble` first")
        }
        let h5 = try HDF5File.open(h5Path)
        defer { try? h5.close() }
        let results = try FitRunResults(fitRun: fitRun)
        var comparisons: [BinComparison] = []
        var curves: [(bin: String, parameter: String, value: Double, density: Double, atTruth: Double, atMedian: Double)] = []
        var sampleRows: [(bin: String, chain: Int, draw: Int, bias: Double, scatter: Double, logL: Double)] = []
        for label in try h5.readStrings(from: "/bin_labels") {
            let g = "/bins/\(label)"
            let ids = try h5.readStrings(from: g + "/halo_ids")
            let lnB = try h5.read(Double.self, from: g + "/ln_bias"), lnS = try h5.read(Double.self, from: g + "/ln_scatter")
            let logL = try h5.read(Double.self, from: g + "/log_likelihood").values
            let draws = lnB.shape.count == 2 ? lnB.shape[1] : lnB.values.count
            let model = try results.populationModel(ids: ids, configuration: ec)
            // Realised truth of the bin's halos.
            var offsets: [Double] = []
            for id in ids {
                guard let i = row[id] else { throw ClusterRunError(file: c.truth, message: "no truth row for halo '\(id)' of bin \(label)") }
                offsets.append((truth.lensingMass[i] - truth.trueMass[i]) * Foundation.log(10.0))
            }
            let mean = offsets.reduce(0, +) / Double(offsets.count)
            let sd = offsets.count > 1 ? (offsets.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(offsets.count - 1)).squareRoot() : .nan
            let b = lnB.values.map { exp($0) }, s = lnS.values.map { exp($0) }
            let bs = b.sorted(), ss = s.sorted()
            let q = PopulationModel.quantile
            let cmp = BinComparison(
                label: label, halos: ids.count, trueBias: truth.bias, trueScatter: truth.scatter, realisedBias: exp(mean), realisedScatter: sd,
                biasMedian: q(bs, 0.5), biasInterval68: [q(bs, 0.16), q(bs, 0.84)], biasInterval95: [q(bs, 0.025), q(bs, 0.975)],
                scatterMedian: q(ss, 0.5), scatterInterval68: [q(ss, 0.16), q(ss, 0.84)], scatterInterval95: [q(ss, 0.025), q(ss, 0.975)],
                biasCDFAtTruth: Double(bs.filter { $0 < truth.bias }.count) / Double(bs.count),
                scatterCDFAtTruth: Double(ss.filter { $0 < truth.scatter }.count) / Double(ss.count),
                logLikelihoodAtTruth: model.logLikelihood(bias: truth.bias, scatter: truth.scatter),
                logLikelihoodAtMedian: model.logLikelihood(bias: q(bs, 0.5), scatter: q(ss, 0.5)),
                logLikelihoodMax: logL.max() ?? .nan)
            comparisons.append(cmp)
            log(String(format: "clusters compare: bin %@: b = %.4f [%.4f, %.4f] vs %.4f (realised %.4f) %@; σ = %.4f [%.4f, %.4f] vs %.4f (realised %.4f) %@",
                       label, cmp.biasMedian, cmp.biasInterval68[0], cmp.biasInterval68[1], truth.bias, cmp.realisedBias,
                       cmp.biasInside68 ? "inside 68%" : "outside 68%", cmp.scatterMedian, cmp.scatterInterval68[0],
                       cmp.scatterInterval68[1], truth.scatter, cmp.realisedScatter, cmp.scatterInside68 ? "inside 68%" : "outside 68%"))
            // Plot-ready curves over a range covering the draws and both truths.
            for (name, sorted, truthValue) in [("bias", bs, truth.bias), ("scatter", ss, truth.scatter)] {
                let lo0 = Swift.min(q(sorted, 0.001), truthValue, name == "bias" ? cmp.realisedBias : cmp.realisedScatter)
                let hi0 = Swift.max(q(sorted, 0.999), truthValue, name == "bias" ? cmp.realisedBias : cmp.realisedScatter)
                let pad = 0.15 * (hi0 - lo0)
                let lo = name == "scatter" ? Swift.max(lo0 - pad, 1e-4) : lo0 - pad, hi = hi0 + pad
                let mu = sorted.reduce(0, +) / Double(sorted.count)
                let sdev = (sorted.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(sorted.count)).squareRoot()
                let bandwidth = Swift.max(1.06 * sdev * pow(Double(sorted.count), -0.2), 1e-6)
                for k in 0..<c.gridPoints {
                    let x = lo + (hi - lo) * Double(k) / Double(c.gridPoints - 1)
                    var density = 0.0
                    for v in sorted {
                        let u = (x - v) / bandwidth
                        density += exp(-0.5 * u * u)
                    }
                    density /= Double(sorted.count) * bandwidth * 2.5066282746310002
                    let atTruth = name == "bias" ? model.logLikelihood(bias: x, scatter: truth.scatter) : model.logLikelihood(bias: truth.bias, scatter: x)
                    let atMedian = name == "bias" ? model.logLikelihood(bias: x, scatter: cmp.scatterMedian)
                        : model.logLikelihood(bias: cmp.biasMedian, scatter: x)
                    curves.append((label, name, x, density, atTruth, atMedian))
                }
            }
            for i in 0..<b.count { sampleRows.append((bin: label, chain: i / draws, draw: i % draws, bias: b[i], scatter: s[i], logL: logL[i])) }
        }

        let f = ClusterTables.field
        var csv = [("bin,halos,bias_true,scatter_true,bias_realised,scatter_realised,bias_median,bias_lo68,bias_hi68,bias_lo95,bias_hi95,"
                   + "scatter_median,scatter_lo68,scatter_hi68,scatter_lo95,scatter_hi95,bias_cdf_at_truth,scatter_cdf_at_truth,"
                   + "bias_in68,scatter_in68,log_likelihood_at_truth,log_likelihood_at_median,log_likelihood_max").components(separatedBy: ",")]
        for x in comparisons {
            csv.append(([x.label, "\(x.halos)"] + [x.trueBias, x.trueScatter, x.realisedBias, x.realisedScatter, x.biasMedian]
                        .map(f) + (x.biasInterval68 + x.biasInterval95 + [x.scatterMedian] + x.scatterInterval68 + x.scatterInterval95
                                   + [x.biasCDFAtTruth, x.scatterCDFAtTruth]).map(f)
                        + ["\(x.biasInside68)", "\(x.scatterInside68)"]
                        + [x.logLikelihoodAtTruth, x.logLikelihoodAtMedian, x.logLikelihoodMax].map(f)))
        }
        try ClusterTables.writeCSV(csv, to: FilePath(output).appending("compare.csv").string)
        try ClusterTables.writeCSV([["bin", "parameter", "value", "posterior_density", "log_likelihood_other_at_truth", "log_likelihood_other_at_median"]]
                                   + curves.map { [$0.bin, $0.parameter, f($0.value), f($0.density), f($0.atTruth), f($0.atMedian)] },
                                   to: FilePath(output).appending("compare_curves.csv").string)
        try ClusterTables.writeCSV([["bin", "chain", "draw", "bias", "scatter", "log_likelihood"]]
                                   + sampleRows.map { [$0.bin, "\($0.chain)", "\($0.draw)", f($0.bias), f($0.scatter), f($0.logL)] },
                                   to: FilePath(output).appending("compare_samples.csv").string)
        let summary = FITSTableHDU(extname: "SUMMARY", columns: [
            .string("BIN", comparisons.map(\.label)), .int64("HALOS", comparisons.map { Int64($0.halos) }),
            .double("BIAS_TRUE", comparisons.map(\.trueBias)), .double("SCATTER_TRUE", comparisons.map(\.trueScatter)),
            .double("BIAS_REALISED", comparisons.map(\.realisedBias)), .double("SCATTER_REALISED", comparisons.map(\.realisedScatter)),
            .double("BIAS_MEDIAN", comparisons.map(\.biasMedian)),
            .doubleVector("BIAS_68", rows: comparisons.map(\.biasInterval68)), .doubleVector("BIAS_95", rows: comparisons.map(\.biasInterval95)),
            .double("SCATTER_MEDIAN", comparisons.map(\.scatterMedian)),
            .doubleVector("SCATTER_68", rows: comparisons.map(\.scatterInterval68)),
            .doubleVector("SCATTER_95", rows: comparisons.map(\.scatterInterval95)),
            .double("BIAS_CDF_AT_TRUTH", comparisons.map(\.biasCDFAtTruth)),
            .double("SCATTER_CDF_AT_TRUTH", comparisons.map(\.scatterCDFAtTruth)),
            .bool("BIAS_IN68", comparisons.map(\.biasInside68)), .bool("SCATTER_IN68", comparisons.map(\.scatterInside68)),
            .double("LOGL_AT_TRUTH", comparisons.map(\.logLikelihoodAtTruth)),
            .double("LOGL_AT_MEDIAN", comparisons.map(\.logLikelihoodAtMedian)), .double("LOGL_MAX", comparisons.map(\.logLikelihoodMax)),
        ], keywords: [("TRUTH", .string(String((FilePath(c.truth).lastComponent?.string ?? "").prefix(60))), "truth table")])
        let curveHDU = FITSTableHDU(extname: "CURVES", columns: [
            .string("BIN", curves.map(\.bin)), .string("PARAMETER", curves.map(\.parameter)), .double("VALUE", curves.map(\.value)),
            .double("POSTERIOR_DENSITY", curves.map(\.density)), .double("LOGL_OTHER_AT_TRUTH", curves.map(\.atTruth)),
            .double("LOGL_OTHER_AT_MEDIAN", curves.map(\.atMedian)),
        ])
        let sampleHDU = FITSTableHDU(extname: "SAMPLES", columns: [
            .string("BIN", sampleRows.map(\.bin)), .int64("CHAIN", sampleRows.map { Int64($0.chain) }),
            .int64("DRAW", sampleRows.map { Int64($0.draw) }), .double("BIAS", sampleRows.map(\.bias)),
            .double("SCATTER", sampleRows.map(\.scatter)), .double("LOG_LIKELIHOOD", sampleRows.map(\.logL)),
        ])
        try ClusterTables.writeFITS([summary, curveHDU, sampleHDU], to: FilePath(output).appending("compare.fits").string)
        return comparisons
    }
}
