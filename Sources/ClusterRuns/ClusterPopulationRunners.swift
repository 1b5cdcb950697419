import ClusterFitting
import Foundation
import TesseraFITS
import TesseraHDF5
import TesseraRun
import TesseraSupport

/// The halo membership of the bins of a fit run: `bins.csv` (`id,bin`, grouped bin by bin) as
/// `tessera clusters bin` writes it.
public struct ClusterBins: Sendable, Equatable {
    public var labels: [String]
    public var members: [[String]]

    /// Read `bins.csv`; bins in order of first appearance.
    public static func read(_ path: String) throws -> ClusterBins {
        let table = try CSVTable.read(path)
        let ids = try table.strings("id"), bins = try table.strings("bin")
        var labels: [String] = [], members: [[String]] = [], index: [String: Int] = [:]
        for (id, bin) in zip(ids, bins) {
            if index[bin] == nil { index[bin] = labels.count; labels.append(bin); members.append([]) }
            members[index[bin]!].append(id)
        }
        return ClusterBins(labels: labels, members: members)
    }

    /// A label usable in file names and HDF5 paths.
    static func isValidLabel(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)
        }
    }
}

/// `tessera clusters bin RUN`: assign the fit run's halos to bins, by edges on a `summary.csv`
/// column or by an external command, and write the membership lists into the output directory:
/// `bins.csv` (`id,bin` for every binned halo), `bin-<label>.txt` (one id a line, per non-empty
/// bin) and `bin_summary.csv` (`bin,column,lower,upper,halos,status`).
///
/// A bin with no halos is, with `empty_bins: skip`, logged and listed in `bin_summary.csv` with
/// status `skipped-empty` and no membership list; with `empty_bins: error` the run fails naming it.
public enum ClusterBinRunner {
    public struct Summary: Sendable, Equatable {
        public var labels: [String]
        public var counts: [Int]
        public var emptyBins: [String]
        public var unbinned: [String]
    }

    public static func run(_ c: ClusterBinConfiguration, fitRun: String, output: String,
                           log: (String) -> Void = { print($0) }) throws -> Summary {
        let summaryPath = (fitRun as NSString).appendingPathComponent("summary.csv")
        guard FileManager.default.fileExists(atPath: summaryPath) else {
            throw ClusterRunError(file: summaryPath, message: "no summary table; is \(fitRun) a finished `tessera clusters fit` run?")
        }
        let table = try CSVTable.read(summaryPath)
        let ids = try table.strings("id")
        let binning: HaloBinning
        var columnName = ""
        if c.command.isEmpty {
            columnName = c.column
            let values = try table.doubles(c.column)
            do { binning = try HaloBinning(values: values, edges: c.edges, field: "edges") } catch {
                throw ClusterRunError(file: "configuration", message: "\(error)")
            }
        } else {
            columnName = "command"
            let labels = try externalLabels(command: c.command, summary: summaryPath,
                                            fits: (fitRun as NSString).appendingPathComponent("summary.fits"), ids: ids)
            binning = HaloBinning(labels: labels)
        }
        let empty = binning.emptyBins
        if !empty.isEmpty && c.emptyBins == "error" {
            throw ClusterRunError(file: summaryPath, message: "bin(s) \(empty.joined(separator: ", ")) of \(columnName) have no halos (empty_bins: error)")
        }
        var bins = [["id", "bin"]], summary = [["bin", "column", "lower", "upper", "halos", "status"]]
        for (k, label) in binning.labels.enumerated() {
            let members = binning.members[k].map { ids[$0] }
            let edge = binning.edges[k]
            let range = edge.map { "[\($0.lower), \($0.upper)\(k == binning.labels.count - 1 ? "]" : ")")" } ?? ""
            if members.isEmpty {
                log("clusters bin: bin \(label) \(range) of \(columnName) has no halos; skipped (no membership list)")
            } else {
                try ClusterTables.writeLines(members, to: (output as NSString).appendingPathComponent("bin-\(label).txt"))
                bins += members.map { [$0, label] }
            }
            summary.append([label, columnName, edge.map { "\($0.lower)" } ?? "", edge.map { "\($0.upper)" } ?? "", "\(members.count)", members.isEmpty ? "skipped-empty" : "ok"])
        }
        try ClusterTables.writeCSV(bins, to: (output as NSString).appendingPathComponent("bins.csv"))
        try ClusterTables.writeCSV(summary, to: (output as NSString).appendingPathComponent("bin_summary.csv"))
        let unbinned = binning.unbinned.map { ids[$0] }
        if !unbinned.isEmpty { log("clusters bin: \(unbinned.count) halo(s) in no bin (outside the edges, no value, or not labelled)") }
        log("clusters bin: \(ids.count) halos into \(binning.labels.count - empty.count) non-empty bin(s) of \(columnName): "
            + zip(binning.labels, binning.members).map { "\($0)=\($1.count)" }.joined(separator: " "))
        return Summary(labels: binning.labels, counts: binning.members.map(\.count), emptyBins: empty, unbinned: unbinned)
    }

    /// Run the user's command (`/bin/sh -c COMMAND tessera-bin SUMMARY`) and parse its `id,bin` lines.
    static func externalLabels(command: String, summary: String, fits: String, ids: [String]) throws -> [String?] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command, "tessera-bin", summary]
        var env = ProcessInfo.processInfo.environment
        env["TESSERA_SUMMARY_CSV"] = summary
        env["TESSERA_SUMMARY_FITS"] = fits
        process.environment = env
        // stdout through a pipe, stderr into a scratch file (read after exit), so a chatty
        // command cannot block on a full pipe.
        let errPath = NSTemporaryDirectory() + "tessera-bin-\(UUID().uuidString).err"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        let where_ = "binning command '\(command)'"
        guard process.terminationStatus == 0 else {
            throw ClusterRunError(file: where_, message: "exited with status \(process.terminationStatus): "
                                  + (String(data: errData, encoding: .utf8) ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let index = Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var labels = [String?](repeating: nil, count: ids.count)
        let lines = (String(data: outData, encoding: .utf8) ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        for (n, line) in lines.enumerated() where !line.isEmpty {
            let f = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if n == 0 && f == ["id", "bin"] { continue }
            guard f.count == 2 else { throw ClusterRunError(file: where_, message: "output line \(n + 1) '\(line)' is not `id,bin`") }
            guard let i = index[f[0]] else { throw ClusterRunError(file: where_, message: "output line \(n + 1): no halo '\(f[0])' in \(summary)") }
            guard ClusterBins.isValidLabel(f[1]) else {
                throw ClusterRunError(file: where_, message: "output line \(n + 1): bin label '\(f[1])' must be letters, digits, '.', '_' or '-'")
            }
            guard labels[i] == nil else { throw ClusterRunError(file: where_, message: "output line \(n + 1): halo '\(f[0])' given twice") }
            labels[i] = f[1]
        }
        return labels
    }
}

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
        let records = try loadRecords(fitRun: fitRun)
        let bins: ClusterBins
        if let binsPath {
            bins = try ClusterBins.read(binsPath)
            log("clusters ensemble: \(bins.labels.count) bin(s) from \(binsPath)")
        } else {
            bins = ClusterBins(labels: ["all"], members: [records.keys.sorted()])
            log("clusters ensemble: no bins.csv given or found; all \(records.count) halos form one bin 'all'")
        }
        var out: [BinResult] = []
        for (k, label) in bins.labels.enumerated() {
            let ids = bins.members[k]
            guard ids.count >= c.minHalos else {
                log("clusters ensemble: bin \(label) has \(ids.count) halo(s), fewer than min_halos = \(c.minHalos); skipped")
                continue
            }
            let model = try populationModel(ids: ids, records: records, fitRun: fitRun, configuration: c)
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

    /// Every result file of the fit run, by halo id.
    static func loadRecords(fitRun: String) throws -> [String: HaloFitRecord] {
        let results = (fitRun as NSString).appendingPathComponent("results")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: results) else {
            throw ClusterRunError(file: results, message: "no results directory; is \(fitRun) a `tessera clusters fit` run?")
        }
        var records: [String: HaloFitRecord] = [:]
        for name in names.sorted() where name.hasPrefix("halo-") && name.hasSuffix(".h5") {
            let r = try HaloFitRecord.read((results as NSString).appendingPathComponent(name))
            records[r.id] = r
        }
        if records.isEmpty { throw ClusterRunError(file: results, message: "no halo-*.h5 result files") }
        return records
    }

    /// The population model of one bin; each problem names the halo's result file.
    static func populationModel(ids: [String], records: [String: HaloFitRecord], fitRun: String,
                                configuration c: ClusterEnsembleConfiguration) throws -> PopulationModel {
        var halos: [PopulationHalo] = []
        for id in ids {
            let file = (fitRun as NSString).appendingPathComponent("results/" + HaloInput.fileName(id: id))
            guard let r = records[id] else { throw ClusterRunError(file: file, message: "halo '\(id)' is in a bin but has no result") }
            guard let trueMass = r.log10TrueMass else {
                throw ClusterRunError(file: file, message: "no log10_true_mass (the population fit needs each halo's true or proxy mass)")
            }
            do {
                let samples = r.log10MassSamples
                if samples.isEmpty {
                    halos.append(try PopulationHalo(log10TrueMass: trueMass, log10Mass: r.log10Mass, log10Error: r.log10MassError))
                } else {
                    let n = Swift.min(samples.count, c.maxSamples)
                    let thinned = (0..<n).map { samples[$0 * samples.count / n] }
                    halos.append(try PopulationHalo(log10TrueMass: trueMass, log10MassSamples: thinned))
                }
            } catch {
                throw ClusterRunError(file: file, message: "\(error)")
            }
        }
        var model = try PopulationModel(halos: halos)
        model.lnBiasPriorMean = c.lnBiasPrior[0]
        model.lnBiasPriorSigma = c.lnBiasPrior[1]
        model.lnScatterPriorMean = c.lnScatterPrior[0]
        model.lnScatterPriorSigma = c.lnScatterPrior[1]
        return model
    }

    static func write(_ bins: [BinResult], configuration c: ClusterEnsembleConfiguration, output: String) throws {
        let h5Path = (output as NSString).appendingPathComponent("ensemble.h5")
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
        try ClusterTables.writeCSV(csv, to: (output as NSString).appendingPathComponent("ensemble.csv"))
        try ClusterTables.writeCSV(samples, to: (output as NSString).appendingPathComponent("ensemble_samples.csv"))
    }
}

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
        let ensembleParams = (ensemble as NSString).appendingPathComponent("params.json")
        let ec = try ConfigLoader.load(ClusterEnsembleConfiguration.self, from: ensembleParams)
        let h5Path = (ensemble as NSString).appendingPathComponent("ensemble.h5")
        guard FileManager.default.fileExists(atPath: h5Path) else {
            throw ClusterRunError(file: h5Path, message: "no ensemble results; run `tessera clusters ensemble` first")
        }
        let h5 = try HDF5File.open(h5Path)
        defer { try? h5.close() }
        let records = try ClusterEnsembleRunner.loadRecords(fitRun: fitRun)
        var comparisons: [BinComparison] = []
        var curves: [(bin: String, parameter: String, value: Double, density: Double, atTruth: Double, atMedian: Double)] = []
        var sampleRows: [(bin: String, chain: Int, draw: Int, bias: Double, scatter: Double, logL: Double)] = []
        for label in try h5.readStrings(from: "/bin_labels") {
            let g = "/bins/\(label)"
            let ids = try h5.readStrings(from: g + "/halo_ids")
            let lnB = try h5.read(Double.self, from: g + "/ln_bias"), lnS = try h5.read(Double.self, from: g + "/ln_scatter")
            let logL = try h5.read(Double.self, from: g + "/log_likelihood").values
            let draws = lnB.shape.count == 2 ? lnB.shape[1] : lnB.values.count
            let model = try ClusterEnsembleRunner.populationModel(ids: ids, records: records, fitRun: fitRun, configuration: ec)
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
        try ClusterTables.writeCSV(csv, to: (output as NSString).appendingPathComponent("compare.csv"))
        try ClusterTables.writeCSV([["bin", "parameter", "value", "posterior_density", "log_likelihood_other_at_truth", "log_likelihood_other_at_median"]]
                                   + curves.map { [$0.bin, $0.parameter, f($0.value), f($0.density), f($0.atTruth), f($0.atMedian)] },
                                   to: (output as NSString).appendingPathComponent("compare_curves.csv"))
        try ClusterTables.writeCSV([["bin", "chain", "draw", "bias", "scatter", "log_likelihood"]]
                                   + sampleRows.map { [$0.bin, "\($0.chain)", "\($0.draw)", f($0.bias), f($0.scatter), f($0.logL)] },
                                   to: (output as NSString).appendingPathComponent("compare_samples.csv"))
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
        ], keywords: [("TRUTH", .string(String((c.truth as NSString).lastPathComponent.prefix(60))), "truth table")])
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
        try ClusterTables.writeFITS([summary, curveHDU, sampleHDU], to: (output as NSString).appendingPathComponent("compare.fits"))
        return comparisons
    }
}
