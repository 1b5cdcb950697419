import ClusterFitting
import Foundation
import SystemPackage
import TesseraFITS
import TesseraHDF5
import TesseraRun
import TesseraSupport

/// `tessera clusters ensemble RUN`: per bin, the hierarchical population fit
/// ln M_WL = ln b + ln M_true + ε, ε ~ N(0, σ²), sampled with NUTS (`PopulationModel`).
///
/// Each halo enters through its full posterior: NUTS-fitted halos through importance weights
/// over their posterior samples of log10 M (thinned evenly to `max_samples`), optimiser-fitted
/// halos through their Gaussian ML point and error (the marginal over M_WL is then exact).
/// M_true is the halo's `log10_true_mass` (from its input file). Bins come from the bin run's
/// `bins.csv`; without one, all halos form one bin `all`. Bins with fewer than `min_halos` halos
/// are skipped and logged.
///
/// Writes into the output directory: `ensemble.h5` (`/bins/<label>/ln_bias`, `ln_scatter`,
/// `log_likelihood` [chains, draws], `halo_ids`, with the summaries as attributes; root
/// attributes `max_samples` and the priors), `ensemble.csv` (one line per bin: medians, 68% and
/// 95% intervals, R̂, ESS, divergences) and `ensemble_samples.csv` (`bin,chain,draw,bias,scatter,log_likelihood`).
public enum ClusterEnsembleRunner {
    public struct BinResult: Sendable {
        public var label: String
        public var haloIDs: [String]
        public var sampledHalos: Int
        public var gaussianHalos: Int
        public var result: PopulationModel.Result
        public var logLikelihood: [[Double]]
    }

    public static func run(_ c: ClusterEnsembleConfiguration, fitRun: String, bins binsPath: String?, output: String,
                           log: (String) -> Void = { print($0) }) throws -> [BinResult] {
        let results = try FitRunResults(fitRun: fitRun)
        let bins: ClusterBins
        if let binsPath {
            bins = try ClusterBins.read(binsPath)
            log("clusters ensemble: \(bins.labels.count) bin(s) from \(binsPath)")
        } else {
            bins = ClusterBins(labels: ["all"], members: [results.records.keys.sorted()])
            log("clusters ensemble: no bins.csv given or found; all \(results.records.count) halos form one bin 'all'")
        }
        var out: [BinResult] = []
        for (k, label) in bins.labels.enumerated() {
            let ids = bins.members[k]
            guard ids.count >= c.minHalos else {
                log("clusters ensemble: bin \(label) has \(ids.count) halo(s), fewer than min_halos = \(c.minHalos); skipped")
                continue
            }
            let model = try results.populationModel(ids: ids, configuration: c)
            let sampled = model.halos.filter { !$0.log10MassSamples.isEmpty }.count
            let fit = try model.fit(warmup: c.warmup, draws: c.draws, chains: c.chains, seed: c.seed &+ UInt64(k))
            let logL = fit.draws.map { chain in chain.map { model.logLikelihoodAndGradient(lnBias: $0[0], lnScatter: $0[1]).value } }
            log(String(format: "clusters ensemble: bin %@ (%d halos: %d sampled, %d Gaussian): b = %.4f [%.4f, %.4f], σ = %.4f [%.4f, %.4f] (68%%), R̂ max %.3f, %d divergences",
                       label, ids.count, sampled, ids.count - sampled, fit.biasMedian, fit.biasInterval68.lower, fit.biasInterval68.upper,
                       fit.scatterMedian, fit.scatterInterval68.lower, fit.scatterInterval68.upper, fit.rHat.max() ?? .nan, fit.divergences))
            out.append(BinResult(label: label, haloIDs: ids, sampledHalos: sampled, gaussianHalos: ids.count - sampled,
                                 result: fit, logLikelihood: logL))
        }
        if out.isEmpty { throw ClusterRunError(file: binsPath ?? fitRun, message: "no bin has at least min_halos = \(c.minHalos) halos") }
        try write(out, configuration: c, output: output)
        return out
    }

    static func write(_ bins: [BinResult], configuration c: ClusterEnsembleConfiguration, output: String) throws {
        let h5Path = FilePath(output).appending("ensemble.h5").string
        var csv = [("bin,halos,sampled_halos,gaussian_halos,bias_median,bias_lo68,bias_hi68,bias_lo95,bias_hi95,"
                   + "scatter_median,scatter_lo68,scatter_hi68,scatter_lo95,scatter_hi95,r_hat_ln_bias,r_hat_ln_scatter,"
                   + "ess_ln_bias,ess_ln_scatter,divergences").components(separatedBy: ",")]
        var samples = [["bin", "chain", "draw", "bias", "scatter", "log_likelihood"]]
        try writeReplacing(h5Path) { partial in
            let h5 = try HDF5File.create(partial)
            try h5.setAttribute("max_samples", .int(Int64(c.maxSamples)))
            try h5.setAttribute("ln_bias_prior_mean", .double(c.lnBiasPrior[0]))
            try h5.setAttribute("ln_bias_prior_sigma", .double(c.lnBiasPrior[1]))
            try h5.setAttribute("ln_scatter_prior_mean", .double(c.lnScatterPrior[0]))
            try h5.setAttribute("ln_scatter_prior_sigma", .double(c.lnScatterPrior[1]))
            try h5.writeStrings(bins.map(\.label), to: "/bin_labels")
            for b in bins {
                let r = b.result, g = "/bins/\(b.label)"
                let chains = r.draws.count, draws = r.draws.first?.count ?? 0
                try h5.write(r.draws.flatMap { $0.map { $0[0] } }, shape: [chains, draws], to: g + "/ln_bias")
                try h5.write(r.draws.flatMap { $0.map { $0[1] } }, shape: [chains, draws], to: g + "/ln_scatter")
                try h5.write(b.logLikelihood.flatMap { $0 }, shape: [chains, draws], to: g + "/log_likelihood")
                try h5.writeStrings(b.haloIDs, to: g + "/halo_ids")
                let attributes: [(String, HDF5AttributeValue)] = [
                    ("halos", .int(Int64(b.haloIDs.count))), ("sampled_halos", .int(Int64(b.sampledHalos))),
                    ("gaussian_halos", .int(Int64(b.gaussianHalos))), ("bias_median", .double(r.biasMedian)),
                    ("bias_lo68", .double(r.biasInterval68.lower)), ("bias_hi68", .double(r.biasInterval68.upper)),
                    ("scatter_median", .double(r.scatterMedian)), ("scatter_lo68", .double(r.scatterInterval68.lower)),
                    ("scatter_hi68", .double(r.scatterInterval68.upper)), ("divergences", .int(Int64(r.divergences))),
                    ("r_hat_max", .double(r.rHat.max() ?? .nan)),
                ]
                for (name, value) in attributes { try h5.setAttribute(name, value, on: g) }
                let f = ClusterTables.field
                csv.append([b.label, "\(b.haloIDs.count)", "\(b.sampledHalos)", "\(b.gaussianHalos)",
                            f(r.biasMedian), f(r.biasInterval68.lower), f(r.biasInterval68.upper), f(r.biasInterval95.lower), f(r.biasInterval95.upper),
                            f(r.scatterMedian), f(r.scatterInterval68.lower), f(r.scatterInterval68.upper),
                            f(r.scatterInterval95.lower), f(r.scatterInterval95.upper), f(r.rHat[0]), f(r.rHat[1]),
                            f(r.effectiveSampleSize[0]), f(r.effectiveSampleSize[1]), "\(r.divergences)"])
                for (ci, chain) in r.draws.enumerated() {
                    for (di, d) in chain.enumerated() {
                        samples.append([b.label, "\(ci)", "\(di)", "\(exp(d[0]))", "\(exp(d[1]))", "\(b.logLikelihood[ci][di])"])
                    }
                }
            }
            try h5.close()
        }
        try ClusterTables.writeCSV(csv, to: FilePath(output).appending("ensemble.csv").string)
        try ClusterTables.writeCSV(samples, to: FilePath(output).appending("ensemble_samples.csv").string)
    }
}
