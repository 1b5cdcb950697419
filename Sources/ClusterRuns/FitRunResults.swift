import ClusterFitting
import Foundation
import SystemPackage

/// The halo results of a finished `tessera clusters fit` run (`RUN/results/halo-<id>.h5`), read
/// once, as the population fit (`clusters ensemble`) and the truth comparison (`clusters
/// compare`) both need them. Every problem names the result file.
public struct FitRunResults {
    /// The fit run's directory.
    public let fitRun: String
    /// Every result, by halo id.
    public let records: [String: HaloFitRecord]

    public init(fitRun: String) throws {
        self.fitRun = fitRun
        let results = FilePath(fitRun).appending("results").string
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: results) else {
            throw ClusterRunError(file: results, message: "no results directory; is \(fitRun) a `tessera clusters fit` run?")
        }
        var records: [String: HaloFitRecord] = [:]
        for name in names.sorted() where name.hasPrefix("halo-") && name.hasSuffix(".h5") {
            let r = try HaloFitRecord.read(FilePath(results).appending(name).string)
            records[r.id] = r
        }
        if records.isEmpty { throw ClusterRunError(file: results, message: "no halo-*.h5 result files") }
        self.records = records
    }

    /// The population model of one bin of halos: NUTS-fitted halos through their posterior
    /// samples of log10 M (thinned evenly to `max_samples`), optimiser-fitted ones through their
    /// Gaussian point; the configuration's priors on ln b and ln σ.
    public func populationModel(ids: [String], configuration c: ClusterEnsembleConfiguration) throws -> PopulationModel {
        var halos: [PopulationHalo] = []
        for id in ids {
            let file = FilePath(fitRun).appending("results/" + HaloInput.fileName(id: id)).string
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
}
