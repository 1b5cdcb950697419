import ArgumentParser
import Foundation
import LensingRuns
import Microlensing
import TesseraFITS
import TesseraHDF5
import TesseraRun
import TesseraSupport

extension Tessera {
    struct MagMap: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "magmap",
            abstract: "Make one microlensing magnification map by inverse ray shooting.",
            discussion: """
            Stars of mass 1 fill a disk around the shooting region with κ* = (1 − s)κ; the rest, \\
            κ_s = sκ, is smooth. By default the star mass in the map's pre-image is fixed to its \\
            expectation and the stars' realised mean shear there is cancelled by an external \\
            shear, so the map is a sample at exactly (κ, γ) rather than at (κ, γ) plus Poisson \\
            noise; --no-mean-field-compensation turns that off. The \\
            map holds the magnification itself (not divided by μ_theory = 1/|(1 − κ)² − γ²|). \\
            --method ipm maps the grid's squares as polygons instead of counting rays (no \\
            counting noise; --rays-per-pixel 1 is enough). \\
            HDF5 output: /magnification [pixels, pixels] (row = y, column = x, the shear axis) \\
            with κ, γ, s, size, star count, seed, ray counts, method, light loss, shooting \\
            rectangle and the compensation as attributes, /histogram/pdf [source size, bin] of \\
            log10(μ/μ_theory) and its edges, and the star field as /stars/x, /stars/y, \\
            /stars/mass. FITS output: the map as the primary image with the same facts as header \\
            keywords and the stars as a STARS table.
            """)

        @Option(help: "Convergence κ.") var kappa: Double
        @Option(help: "Shear γ.") var gamma: Double
        @Option(help: "Smooth-matter fraction s in [0, 1).") var s: Double = 0
        @Option(name: .customLong("size-re"), help: "Side of the source-plane map in Einstein radii.") var sizeRE = 25.0
        @Option(help: "Pixels per side.") var pixels = 1000
        @Option(name: .customLong("rays-per-pixel"), help: "Rays (with --method ipm: grid squares) per source pixel for an unlensed source.")
        var raysPerPixel = MapSettings.defaultRaysPerPixel
        @Option(help: "Star-field seed.") var seed: UInt64 = 1
        @Option(name: .customLong("source-size"), help: "Source size in Einstein radii for a histogram (repeatable; 0 = point source).")
        var sourceSizes: [Double] = [0]
        @Option(name: .customLong("source-profile"), help: "gaussian (size = σ) or disk (size = radius).")
        var sourceProfile = "gaussian"
        @Option(name: .customLong("log-mu-range"), help: "Histogram range in log10(μ/μ_theory), as LOW,HIGH.")
        var logMuRange = "-2,2"
        @Option(help: "Histogram bins.") var bins = 80
        @Option(name: .customLong("mass-function"), help: "Stellar masses: unit, salpeter or kroupa.") var massFunction = "unit"
        @Option(name: .customLong("mass-min"), help: "Minimum stellar mass in M☉ (salpeter, kroupa).") var massMin = 0.08
        @Option(name: .customLong("mass-max"), help: "Maximum stellar mass in M☉ (salpeter, kroupa).") var massMax = 1.0
        @Flag(inversion: .prefixedNo,
              help: "Fix the star mass in the map's pre-image to its expectation and cancel the stars' mean shear there, so the map is a sample at exactly (κ, γ).")
        var meanFieldCompensation = true
        @Option(name: .customLong("light-loss"),
                help: "Light loss ε sizing the shooting region: rays are shot out to a source-plane margin √(κ*⟨m²⟩/(⟨m⟩ε)) around the map's macro pre-image; smaller is wider and slower.")
        var lightLoss = MapSettings.defaultLightLoss
        @Option(help: "irs (inverse ray shooting: rays counted per pixel) or ipm (inverse polygon mapping over the same grid: no counting noise; --rays-per-pixel 1 is enough).")
        var method = "irs"
        @Option(help: "Threads shooting rays (bands of the map; the result does not depend on it).") var threads = 1
        @Option(help: "Output file: .h5 (HDF5) or .fits.") var out: String

        func run() throws {
            try failing {
                let range = logMuRange.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard range.count == 2, range[0] < range[1] else {
                    throw ConfigError.invalidValue(file: "command line", field: "--log-mu-range", reason: "expected LOW,HIGH with LOW < HIGH, got '\(logMuRange)'")
                }
                guard ["gaussian", "disk"].contains(sourceProfile) else {
                    throw ConfigError.invalidValue(file: "command line", field: "--source-profile", reason: "must be gaussian or disk")
                }
                guard lightLoss > 0 && lightLoss < 1 else {
                    throw ConfigError.invalidValue(file: "command line", field: "--light-loss", reason: "must lie in (0, 1), got \(lightLoss)")
                }
                guard let mapMethod = MapMethod(rawValue: method) else {
                    throw ConfigError.invalidValue(file: "command line", field: "--method", reason: "must be irs or ipm, got '\(method)'")
                }
                guard threads >= 1 else {
                    throw ConfigError.invalidValue(file: "command line", field: "--threads", reason: "must be >= 1, got \(threads)")
                }
                let masses = try TableCellComputer.massFunction(massFunction, range: [massMin, massMax])
                let settings = TableCellComputer.settings(sizeRE: sizeRE, pixels: pixels, raysPerPixel: raysPerPixel, seed: seed,
                                                          massFunction: masses, lightLoss: lightLoss,
                                                          compensateMeanField: meanFieldCompensation, method: mapMethod)
                let output = try TableCellComputer.run(kappa: kappa, gamma: gamma, s: s, settings: settings, sourceSizes: sourceSizes,
                                                       profile: sourceProfile, logMuRange: range[0]...range[1], bins: bins,
                                                       threads: threads)
                let map = output.map
                let facts = MagnificationMapFile.facts(map: map, massFunction: massFunction, massRange: [massMin, massMax],
                                                       lightLoss: lightLoss, seconds: output.seconds)
                if out.hasSuffix(".fits") || out.hasSuffix(".fit") {
                    try writeFITS(map: map, facts: facts)
                } else {
                    try MagnificationMapFile.write(map: map, pdf: output.pdf, sourceSizes: sourceSizes, sourceProfile: sourceProfile,
                                                   logMuRange: range[0]...range[1], bins: bins, facts: facts, to: out)
                }
                print(String(format: "magmap: %d×%d pixels, %d stars, %ld rays in %.2f s; mean μ = %.5g (theory %.5g, %+.3f%%) -> %@",
                             pixels, pixels, map.starCount, map.raysShot, output.seconds, map.mean, map.theoreticalMagnification,
                             100 * map.relativeMeanError, out))
            }
        }

        /// Written under a temporary name and renamed, as the HDF5 map is.
        func writeFITS(map: MagnificationMap, facts: [(String, HDF5AttributeValue)]) throws {
            try writeReplacing(out) { partial in
                let file = try FITSFile(creatingAt: partial, overwrite: true)
                _ = try file.appendImage(FITSImage(width: pixels, height: pixels, pixels: map.pixels), extname: nil)
                let keys = ["kappa": "KAPPA", "gamma": "GAMMA", "s": "SMOOTHF", "size_re": "SIZE_RE", "pixels": "NPIX",
                            "stars": "NSTARS", "seed": "SEED", "rays_shot": "NRAYS", "rays_per_pixel_unlensed": "RAYSPPX",
                            "mean_magnification": "MU_MEAN", "theory_magnification": "MU_TH", "seconds": "SECONDS",
                            "tessera_version": "TESSVER", "git_commit": "GITCOMM", "created": "DATE",
                            "compensate_mean_field": "MFCOMP", "preimage_kappa_star": "MFKAPPA",
                            "cancelled_shear1": "MFGAMMA1", "cancelled_shear2": "MFGAMMA2", "light_loss": "LIGHTLOS",
                            "source_margin": "SRCMARG", "shooting_half_width_x": "SHOOTWX", "shooting_half_width_y": "SHOOTWY",
                            "star_field_radius": "STARRAD", "method": "METHOD"]
                for (name, value) in facts {
                    guard let key = keys[name] else { continue }
                    switch value {
                    case let .double(x): try file.writeKeyword(key, .double(x), comment: name, hdu: 0)
                    case let .int(i): try file.writeKeyword(key, .int(Int(i)), comment: name, hdu: 0)
                    case let .string(text): try file.writeKeyword(key, .string(String(text.prefix(60))), comment: name, hdu: 0)
                    default: break
                    }
                }
                if let stars = map.stars, stars.count > 0 {
                    _ = try file.appendTable([FITSColumn(name: "X", data: .double(stars.x), unit: "R_E"),
                                              FITSColumn(name: "Y", data: .double(stars.y), unit: "R_E"),
                                              FITSColumn(name: "MASS", data: .double(stars.mass), unit: "M_sun")],
                                             extname: "STARS")
                }
                try file.close()
            }
        }
    }
}
