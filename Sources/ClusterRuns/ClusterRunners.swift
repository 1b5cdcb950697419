import ClusterFitting
import Foundation
import HaloProfiles
import RunKit
import SystemPackage
import TesseraFITS
import TesseraMPI
import TesseraRun
import TesseraSupport
import WorkQueue

/// `tessera clusters mock`: mock halo files with an injected bias and scatter, plus the truth
/// table (`truth.csv` and `truth.fits`).
public enum ClusterMockRunner {
    /// Writes `halos/halo-<id>.h5` (or `.fits`, config `format`), `truth.csv` and `truth.fits` into
    /// the run directory (rank 0 only). Each halo file holds the configured `observables`.
    ///
    /// `truth.fits` HDU 1 (EXTNAME TRUTH): columns ID, REDSHIFT, LOG10_TRUE_MASS and
    /// LOG10_LENSING_MASS (log10 M200c [M☉]; the lensing mass is b · M_true with the drawn
    /// log-normal scatter, the mass the profile was made with); header keywords BIAS, SCATTER
    /// (σ_lnM), SEED and NOISE (fractional error per bin or pixel) and OBSERV (the observables) give the injected population.
    public static func run(_ c: ClusterMockConfiguration, directory: String) throws -> [HaloInput] {
        let cosmology = try Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05)
        let generator = MockHaloGenerator(cosmology: cosmology)
        let radii = MockHaloGenerator.logSpacedRadii(from: c.radii[0], to: c.radii[1], count: c.bins)
        let halosDirectory = FilePath(directory).appending("halos").string
        let format: HaloInput.Format = c.format == "fits" ? .fits : .hdf5
        try FileManager.default.createDirectory(atPath: halosDirectory, withIntermediateDirectories: true)
        var rng = RandomSource(seed: c.seed)
        var truth = [["id", "redshift", "log10_true_mass", "log10_lensing_mass"]]
        var lensing: [Double] = []
        var halos: [HaloInput] = []
        for i in 0..<c.count {
            let id = String(format: "%05d", i)
            let log10True = c.log10MassRange[0] + (c.log10MassRange[1] - c.log10MassRange[0]) * rng.uniform()
            let z = c.redshiftRange[0] + (c.redshiftRange[1] - c.redshiftRange[0]) * rng.uniform()
            // ln M_WL = ln b + ln M_true + ε
            let lnLensing = log(c.bias) + log(10) * log10True + c.scatter * rng.normal()
            let mass = exp(lnLensing)
            let concentration = ConcentrationRelation.duffy2008.concentration(mass: mass, redshift: z, cosmology: cosmology)
            // Errors are a fraction of the profile of the nominal mass b · M_true (no scatter): they
            // must not depend on the scatter draw, or the covariance in the file would tell the fit
            // the lensing mass and the population likelihood (which treats it as given) would be biased.
            let nominalMass = c.bias * pow(10, log10True)
            let nominal = try NFW(mass: nominalMass, concentration: ConcentrationRelation.duffy2008.concentration(
                mass: nominalMass, redshift: z, cosmology: cosmology), redshift: z, cosmology: cosmology)
            let halo = HaloInput(id: id, redshift: z, log10TrueMass: log10True,
                                 observables: try observables(c, generator: generator, radii: radii, mass: mass,
                                                              concentration: concentration, nominalMass: nominalMass,
                                                              nominalConcentration: nominal.parameters.concentration,
                                                              redshift: z, seed: c.seed &+ UInt64(i) &+ 1))
            try halo.write(to: FilePath(halosDirectory).appending(HaloInput.fileName(id: id, format: format)).string)
            truth.append([id, "\(z)", "\(log10True)", "\(lnLensing / log(10))"])
            lensing.append(lnLensing / log(10))
            halos.append(halo)
        }
        try ClusterTables.writeCSV(truth, to: FilePath(directory).appending("truth.csv").string)
        let table = FITSTableHDU(
            extname: "TRUTH",
            columns: [.string("ID", halos.map(\.id)), .double("REDSHIFT", halos.map(\.redshift)),
                      .double("LOG10_TRUE_MASS", halos.map { $0.log10TrueMass ?? .nan }, unit: "log10(Msun)"),
                      .double("LOG10_LENSING_MASS", lensing, unit: "log10(Msun)")],
            keywords: [("BIAS", .double(c.bias), "injected b of M_WL = b M_true"),
                       ("SCATTER", .double(c.scatter), "injected log-normal scatter sigma_lnM"),
                       ("SEED", .int(Int(truncatingIfNeeded: c.seed)), "mock seed"),
                       ("NOISE", .double(c.noise), "fractional 1-sigma error per bin or pixel"),
                       ("OBSERV", .string(c.observables.joined(separator: ",")), "observables per halo")])
        try ClusterTables.writeFITS([table], to: FilePath(directory).appending("truth.fits").string)
        return halos
    }

    /// The configured observables of one halo. Each kind k (its index in
    /// `ClusterMockConfiguration.observableNames`) draws its noise from seed + k·2³², so ΔΣ keeps
    /// the seed it always had and adding an observable does not change the others.
    static func observables(_ c: ClusterMockConfiguration, generator: MockHaloGenerator, radii: [Double], mass: Double,
                            concentration: Double, nominalMass: Double, nominalConcentration: Double, redshift z: Double,
                            seed: UInt64) throws -> [HaloObservable] {
        let sources = SourceSample.redshift(c.sourceRedshift)
        let geometry = try MapGeometry(width: c.mapPixels, height: c.mapPixels, pixelScale: c.mapPixelScale)
        return try c.observables.map { name in
            let k = UInt64(ClusterMockConfiguration.observableNames.firstIndex(of: name)!)
            let kindSeed = seed &+ (k << 32)
            let kind: HaloObservable.Kind
            switch name {
            case "tangential_shear": kind = .tangentialShear(sources)
            case "reduced_shear": kind = .reducedShear(sources)
            case "kappa_map": kind = .convergenceMap(sources)
            case "mass_map": kind = .surfaceDensityMap
            default: kind = .excessSurfaceDensity
            }
            if kind.isMap {
                let template = try HaloObservable(kind: kind, geometry: geometry, values: [Double](repeating: 0, count: geometry.pixelCount),
                                                  errors: [Double](repeating: 1, count: geometry.pixelCount))
                let nominal = try generator.noiseless(template, mass: nominalMass, concentration: nominalConcentration, redshift: z)
                let errors = template.fullMap(nominal.map { c.noise * abs($0) })!.map { $0.isNaN ? 1 : $0 }
                return try generator.map(kind, mass: mass, concentration: concentration, redshift: z, geometry: geometry,
                                         noise: .perBin(errors), seed: kindSeed)
            }
            let template = try HaloObservable(kind: kind, radii: radii, values: radii.map { _ in 0 }, errors: radii.map { _ in 1 })
            let nominal = try generator.noiseless(template, mass: nominalMass, concentration: nominalConcentration, redshift: z)
            return try generator.profile(kind, mass: mass, concentration: concentration, redshift: z, radii: radii,
                                         noise: .perBin(nominal.map { c.noise * abs($0) }), seed: kindSeed)
        }
    }
}

/// `tessera clusters fit`: every halo file fitted on the worker ranks; rank 0 writes each
/// result the moment it arrives (`results/halo-<id>.h5`, atomically), so a crash loses at most
/// the halos in flight, and `--resume` skips halos that have a result. Ends with `summary.csv`.
public enum ClusterFitRunner {
    public struct Summary: Sendable, Equatable {
        public var halos: Int
        public var alreadyDone: Int
        public var fittedNow: Int
        public var failed: [String]
    }

    public static func run(_ c: ClusterFitConfiguration, context: RunContext,
                           log: @escaping (String) -> Void = { print($0) }) throws -> Summary {
        let comm = context.communicator
        let results = context.file("results")
        let store = HaloResultStore(directory: results)
        var inputs: [String] = []
        var problem: String?
        if comm.isRoot {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: c.halos)) ?? []).sorted()
            // One input per halo id, HDF5 or FITS; the result is results/halo-<id>.h5 either way.
            var inputByID: [String: String] = [:]
            for name in names {
                guard let (id, _) = HaloInput.parseFileName(name) else { continue }
                if let other = inputByID[id], problem == nil {
                    problem = "\(c.halos): halo \(id) has two input files, \(other) and \(name); keep one"
                }
                inputByID[id] = name
            }
            if problem != nil {
                // Reported below on every rank.
            } else if inputByID.isEmpty {
                problem = "\(c.halos): no halo-*.h5 or halo-*.fits files (config key 'halos')"
            } else {
                try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
                inputs = inputByID.keys.sorted().map { FilePath(c.halos).appending(inputByID[$0]!).string }
            }
        }
        // Every rank learns whether there is work, so none waits for a queue that never starts.
        if let problem = try comm.broadcast(message: comm.isRoot ? [problem].compactMap { $0 } : nil).first {
            throw RunStartError(message: problem)
        }
        // Rank 0 skips the halos with a result; the others get their halos from it.
        var scheduler = try ResumableListScheduler(items: inputs, store: store, maxAttempts: c.maxAttempts,
                                                   key: { HaloResultStore.haloID(ofInput: $0)! },  // inputs were listed by their ids
                                                   label: { "halo \(HaloResultStore.haloID(ofInput: $0)!)" })
        let total = inputs.count, done = scheduler.alreadyDone
        if comm.isRoot {
            log("clusters fit: \(total) halos, \(done) already done, \(scheduler.pending) to fit (\(c.method)) on \(max(comm.size - 1, 1)) worker(s)")
        }
        let cosmology = try Cosmology(H0: c.h0, omegaCDM: c.omegaCDM, omegaBaryon: c.omegaBaryon)
        let method: HaloFit.Method = c.method == "nuts" ? .nuts(warmup: c.warmup, draws: c.draws, chains: c.chains) : .optimize
        var progress = ProgressLine(label: "clusters fit: halos", total: scheduler.pending)
        let summary = try WorkQueue.run(communicator: comm, scheduler: &scheduler, progress: { p in
            progress.update(done: p.completed, elapsed: p.elapsed)
        }) { path in
            let start = Date()
            let halo = try HaloInput.read(path)
            guard HaloResultStore.haloID(ofInput: path) == halo.id else {
                throw ClusterFittingError.invalidArgument(field: "id", reason: "\(path) holds id '\(halo.id)', which does not match its file name")
            }
            let index = stableIndex(halo.id)
            let fit = try HaloFit.fit(observables: halo.observables, redshift: halo.redshift, cosmology: cosmology,
                                      fitConcentration: c.fitConcentration,
                                      massPrior: .flat(lower: c.log10MassRange[0], upper: c.log10MassRange[1]),
                                      method: method, seed: c.seed &+ index)
            return HaloFitRecord(id: halo.id, file: path, redshift: halo.redshift, log10TrueMass: halo.log10TrueMass,
                                 parameterNames: fit.parameterNames, estimate: fit.estimate, covariance: fit.covariance.values,
                                 log10MassSamples: fit.log10MassSamples, rHat: fit.rHat,
                                 effectiveSampleSize: fit.effectiveSampleSize, divergences: fit.divergences,
                                 optimizerConverged: fit.optimizerConverged, method: c.method,
                                 seconds: Date().timeIntervalSince(start), rank: comm.rank)
        }
        var failed: [String] = []
        if comm.isRoot {
            failed = scheduler.failures.map { (FilePath($0.item).lastComponent?.string ?? "") }
            for failure in scheduler.failures { log("clusters fit: \(failure.item) failed: \(failure.message)") }
            try writeSummary(results: results, to: context.file("summary.csv"), fits: context.file("summary.fits"))
            log("clusters fit: wrote \(context.file("summary.csv")) and summary.fits")
        }
        // Every rank learns which halos failed, so all end the run the same way.
        failed = try comm.broadcast(message: comm.isRoot ? failed : nil)
        return Summary(halos: total, alreadyDone: done, fittedNow: summary?.completed ?? 0, failed: failed)
    }

    /// The fit's checkpoint: `results/halo-<id>.h5`, one `HaloFitRecord` per finished halo, written
    /// atomically on rank 0 as each fit arrives (`HaloFitRecord.write` goes through
    /// `writeReplacing`, so a kill leaves no half-written result under a result's name). The
    /// result files are also the run's output (`writeSummary` reads them all), so there is no
    /// separate checkpoint directory.
    struct HaloResultStore: CheckpointStore {
        let directory: String

        /// The halo id of an input file path (`…/halo-<id>.h5` or `.fits`), nil if the name is not a halo file's.
        static func haloID(ofInput path: String) -> String? {
            HaloInput.parseFileName((FilePath(path).lastComponent?.string ?? ""))?.id
        }

        func path(for id: String) -> String { FilePath(directory).appending(HaloInput.fileName(id: id)).string }

        /// Ids of the halos with a result file (`.h5`; `.partial` files of an interrupted write are not results).
        func finishedKeys() throws -> Set<String> {
            guard FileManager.default.fileExists(atPath: directory) else { return [] }
            return Set(try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".h5") }.compactMap { HaloInput.parseFileName($0)?.id })
        }

        func save(_ record: HaloFitRecord, for id: String) throws { try record.write(to: path(for: id)) }

        func load(_ id: String) throws -> HaloFitRecord? {
            FileManager.default.fileExists(atPath: path(for: id)) ? try HaloFitRecord.read(path(for: id)) : nil
        }
    }

    /// The halo's seed stream: its numeric id, or else a hash of the id that is the same in
    /// every process (Swift's `hashValue` is not), so fits reproduce from the recorded seed.
    static func stableIndex(_ id: String) -> UInt64 {
        if let n = UInt64(id) { return n }
        return UInt64(SHA256Digest.hex(of: Array(id.utf8)).prefix(15), radix: 16)!
    }

    /// `summary.csv` and `summary.fits` (HDU 1, EXTNAME SUMMARY, the same columns in upper case
    /// plus N_SAMPLES): one row per result file, sorted by id. Masses are log10 M200c [M☉];
    /// a halo without a true mass has an empty CSV field and NaN in FITS.
    static func writeSummary(results: String, to path: String, fits: String? = nil) throws {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: results)) ?? []).filter { $0.hasSuffix(".h5") }.sorted()
        var lines = [["id", "redshift", "log10_mass", "log10_mass_error", "log10_true_mass", "method", "divergences", "optimizer_converged", "rank"]]
        var records: [HaloFitRecord] = []
        for name in names {
            let r = try HaloFitRecord.read(FilePath(results).appending(name).string)
            records.append(r)
            lines.append([r.id, "\(r.redshift)", "\(r.log10Mass)", "\(r.log10MassError)", r.log10TrueMass.map { "\($0)" } ?? "", r.method, "\(r.divergences)", "\(r.optimizerConverged)", "\(r.rank)"])
        }
        try ClusterTables.writeCSV(lines, to: path)
        guard let fits, !records.isEmpty else { return }
        let table = FITSTableHDU(extname: "SUMMARY", columns: [
            .string("ID", records.map(\.id)), .double("REDSHIFT", records.map(\.redshift)),
            .double("LOG10_MASS", records.map(\.log10Mass), unit: "log10(Msun)"),
            .double("LOG10_MASS_ERROR", records.map(\.log10MassError), unit: "dex"),
            .double("LOG10_TRUE_MASS", records.map { $0.log10TrueMass ?? .nan }, unit: "log10(Msun)"),
            .string("METHOD", records.map(\.method)), .int64("DIVERGENCES", records.map { Int64($0.divergences) }),
            .bool("OPTIMIZER_CONVERGED", records.map(\.optimizerConverged)), .int64("RANK", records.map { Int64($0.rank) }),
            .int64("N_SAMPLES", records.map { Int64($0.log10MassSamples.count) }),
        ])
        try ClusterTables.writeFITS([table], to: fits)
    }
}
