import ArgumentParser
import Foundation
import LensingRuns
import Microlensing
import RunKit
import TesseraMPI
import TesseraRun
import TesseraSupport

extension Tessera {
    struct MagMap: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "magmap",
            abstract: "Make one microlensing magnification map by inverse ray shooting.",
            discussion: """
            Stars of mass 1 fill a disk around the shooting region with κ* = (1 − s)κ; the rest, \
            κ_s = sκ, is smooth. By default the star mass in the map's pre-image is fixed to its \
            expectation and the stars' realised mean shear there is cancelled by an external \
            shear, so the map is a sample at exactly (κ, γ) rather than at (κ, γ) plus Poisson \
            noise; --no-mean-field-compensation turns that off. The \
            map holds the magnification itself (not divided by μ_theory = 1/|(1 − κ)² − γ²|). \
            --method ipm maps the grid's squares as polygons instead of counting rays (no \
            counting noise; --rays-per-pixel 1 is enough). \
            The run directory (--out, default runs/magmap-<UTC time>) holds params.json, \
            metadata.json and the map: with --format h5 (default) RUN_DIR/map.h5, holding \
            /magnification [pixels, pixels] (row = y, column = x, the shear axis) with κ, γ, s, \
            size, star count, seed, ray counts, method, light loss, shooting rectangle and the \
            compensation as attributes, /histogram/pdf [source size, bin] of log10(μ/μ_theory) \
            and its edges, and the star field as /stars/x, /stars/y, /stars/mass; with --format \
            fits RUN_DIR/map.fits, the map as the primary image with the same facts as header \
            keywords and the stars as a STARS table. `tessera reproduce RUN_DIR` repeats the map.

              tessera magmap --kappa 0.45 --gamma 0.45 --s 0.5 --pixels 1000 --out runs/map
            """)

        @Option(help: "Convergence κ.") var kappa: Double?
        @Option(help: "Shear γ.") var gamma: Double?
        @Option(help: "Smooth-matter fraction s in [0, 1).") var s: Double = 0
        @Option(name: .customLong("size-re"), help: "Side of the source-plane map in Einstein radii.") var sizeRE = 25.0
        @Option(help: "Pixels per side.") var pixels = 1000
        @Option(name: .customLong("rays-per-pixel"), help: "Rays (with --method ipm: grid squares) per source pixel for an unlensed source.")
        var raysPerPixel = MapSettings.defaultRaysPerPixel
        @Option(help: "Star-field seed.") var seed: UInt64 = 1
        @Option(name: .customLong("source-size"), help: "Source size in Einstein radii for a histogram (repeatable; 0 = point source).")
        var sourceSizes: [Double] = [0]
        @Option(name: .customLong("source-profile"), help: "gaussian (size = σ) or disk (size = radius).")
        var sourceProfile = SourceProfile.Shape.gaussian
        @Option(name: .customLong("log-mu-range"), help: "Histogram range in log10(μ/μ_theory), as LOW,HIGH.")
        var logMuRange = "-2,2"
        @Option(help: "Histogram bins.") var bins = 80
        @Option(name: .customLong("mass-function"), help: "Stellar masses: unit, salpeter or kroupa.")
        var massFunction = MassFunction.Family.unit
        @Option(name: .customLong("mass-min"), help: "Minimum stellar mass in M☉ (salpeter, kroupa).") var massMin = 0.08
        @Option(name: .customLong("mass-max"), help: "Maximum stellar mass in M☉ (salpeter, kroupa).") var massMax = 1.0
        @Flag(inversion: .prefixedNo,
              help: "Fix the star mass in the map's pre-image to its expectation and cancel the stars' mean shear there, so the map is a sample at exactly (κ, γ).")
        var meanFieldCompensation = true
        @Option(name: .customLong("light-loss"),
                help: "Light loss ε sizing the shooting region: rays are shot out to a source-plane margin √(κ*⟨m²⟩/(⟨m⟩ε)) around the map's macro pre-image; smaller is wider and slower.")
        var lightLoss = MapSettings.defaultLightLoss
        @Option(help: "irs (inverse ray shooting: rays counted per pixel) or ipm (inverse polygon mapping over the same grid: no counting noise; --rays-per-pixel 1 is enough).")
        var method = MapMethod.rayShooting
        @Option(help: "Threads shooting rays (bands of the map; the result does not depend on it).") var threads = 1
        @Option(help: "Map file format: h5 (RUN_DIR/map.h5, with histograms) or fits (RUN_DIR/map.fits).")
        var format = MagnificationMapFile.Format.h5
        @Option(help: "Run directory to create (default: runs/magmap-<UTC time>).") var out: String?

        // `reproduce` passes the recorded configuration as --config.
        @Option(help: .hidden)
        var config: String?

        func run() throws {
            let configuration = try failing { try makeConfiguration() }
            try MPIExecution.run { comm in
                let context = try RunContext.start(
                    command: "magmap", configuration: configuration, output: out ?? defaultRunDirectory("magmap"),
                    seed: configuration.seed, inputs: config.map { [$0] } ?? [], libraries: LibraryInfo.versions(),
                    communicator: comm)
                try context.finishing {
                    // One map, made by rank 0 (with --threads for more cores).
                    guard comm.isRoot else { return }
                    let (output, path) = try MagMapRunner.run(configuration, context: context)
                    let map = output.map
                    print(String(format: "magmap: %d×%d pixels, %d stars, %ld rays in %.2f s; mean μ = %.5g (theory %.5g, %+.3f%%) -> %@",
                                 map.width, map.height, map.starCount, map.raysShot, output.seconds, map.mean,
                                 map.theoreticalMagnification, 100 * map.relativeMeanError, path))
                }
            }
        }

        /// The run's configuration: the recorded one with --config, else the options; checked by
        /// the configuration's own `validate` (the checks a grid file's map keys get), with errors
        /// named by option.
        func makeConfiguration() throws -> MagMapConfiguration {
            if let config { return try ConfigLoader.load(MagMapConfiguration.self, from: config) }
            guard let kappa, let gamma else {
                throw ConfigError.invalidValue(file: "command line", field: kappa == nil ? "--kappa" : "--gamma",
                                               reason: "is required (or --config with a magmap params.json)")
            }
            let range = logMuRange.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard range.count == 2 else {
                throw ConfigError.invalidValue(file: "command line", field: "--log-mu-range", reason: "expected LOW,HIGH with LOW < HIGH, got '\(logMuRange)'")
            }
            var c = MagMapConfiguration()
            (c.kappa, c.gamma, c.s, c.sizeRE, c.pixels, c.raysPerPixel, c.seed) = (kappa, gamma, s, sizeRE, pixels, raysPerPixel, seed)
            (c.sourceSizes, c.sourceProfile, c.logMuRange, c.bins) = (sourceSizes, sourceProfile, range, bins)
            (c.massFunction, c.massRange, c.compensateMeanField, c.lightLoss) = (massFunction, [massMin, massMax], meanFieldCompensation, lightLoss)
            (c.method, c.threads, c.format) = (method, threads, format)
            do { try c.validate() } catch let error as InvalidConfigValue {
                let options = ["source_sizes": "--source-size", "mass_range": "--mass-min/--mass-max",
                               "compensate_mean_field": "--[no-]mean-field-compensation"]
                let option = options[error.field] ?? "--" + error.field.replacingOccurrences(of: "_", with: "-")
                throw ConfigError.invalidValue(file: "command line", field: option, reason: error.reason)
            }
            return c
        }
    }
}

// The names' spellings as command-line values (ArgumentParser lists them in --help).
extension SourceProfile.Shape: ExpressibleByArgument {}
extension MassFunction.Family: ExpressibleByArgument {}
extension MapMethod: ExpressibleByArgument {}
extension MagnificationMapFile.Format: ExpressibleByArgument {}
