import ArgumentParser
import Foundation
import Microlensing
import TesseraFITS
import TesseraHDF5
import TesseraRun
import TesseraRunners
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
            HDF5 output: /magnification [pixels, pixels] (row = y, column = x, the shear axis) \\
            with κ, γ, s, size, star count, seed, ray counts and the compensation as attributes, \\
            plus /histogram/pdf [source size, bin] of log10(μ/μ_theory) and its edges. \\
            FITS output: the map as the primary image with the same facts as header keywords.
            """)

        @Option(help: "Convergence κ.") var kappa: Double
        @Option(help: "Shear γ.") var gamma: Double
        @Option(help: "Smooth-matter fraction s in [0, 1).") var s: Double = 0
        @Option(name: .customLong("size-re"), help: "Side of the source-plane map in Einstein radii.") var sizeRE = 25.0
        @Option(help: "Pixels per side.") var pixels = 1000
        @Option(name: .customLong("rays-per-pixel"), help: "Rays per source pixel for an unlensed source.")
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
                let masses = try TableCellComputer.massFunction(massFunction, range: [massMin, massMax])
                let settings = TableCellComputer.settings(sizeRE: sizeRE, pixels: pixels, raysPerPixel: raysPerPixel, seed: seed,
                                                          massFunction: masses, compensateMeanField: meanFieldCompensation)
                let output = try TableCellComputer.run(kappa: kappa, gamma: gamma, s: s, settings: settings, sourceSizes: sourceSizes,
                                                       profile: sourceProfile, logMuRange: range[0]...range[1], bins: bins)
                let map = output.map
                let version = SourceVersion.detect()
                let facts: [(String, HDF5AttributeValue)] = [
                    ("kappa", .double(kappa)), ("gamma", .double(gamma)), ("s", .double(s)), ("size_re", .double(sizeRE)),
                    ("pixels", .int(Int64(pixels))), ("mass_function", .string(massFunction)),
                    ("mass_range", .doubles(massFunction == "unit" ? [1, 1] : [massMin, massMax])), ("stars", .int(Int64(map.starCount))), ("seed", .int(Int64(bitPattern: seed))),
                    ("rays_shot", .int(Int64(map.raysShot))), ("rays_per_pixel_unlensed", .double(map.raysPerPixelUnlensed)),
                    ("mean_magnification", .double(map.mean)), ("theory_magnification", .double(map.theoreticalMagnification)),
                    ("seconds", .double(output.seconds)), ("tessera_version", .string(TesseraVersion.string)),
                    ("git_commit", .string(version.commit ?? "unknown")), ("created", .string(Timestamp.iso8601())),
                    ("compensate_mean_field", .int(map.compensation == nil ? 0 : 1)),
                    ("preimage_kappa_star", .double(map.compensation?.realisedKappa ?? .nan)),
                    ("cancelled_shear1", .double(map.compensation?.gamma1 ?? 0)),
                    ("cancelled_shear2", .double(map.compensation?.gamma2 ?? 0)),
                ]
                if out.hasSuffix(".fits") || out.hasSuffix(".fit") {
                    try writeFITS(map: map, facts: facts)
                } else {
                    try writeHDF5(map: map, pdf: output.pdf, range: range, facts: facts)
                }
                print(String(format: "magmap: %d×%d pixels, %d stars, %d rays in %.2f s; mean μ = %.5g (theory %.5g, %+.3f%%) -> %@",
                             pixels, pixels, map.starCount, map.raysShot, output.seconds, map.mean, map.theoreticalMagnification,
                             100 * map.relativeMeanError, out))
            }
        }

        func writeHDF5(map: MagnificationMap, pdf: [Double], range: [Double], facts: [(String, HDF5AttributeValue)]) throws {
            let file = try HDF5File.create(out)
            try file.write(map.pixels, shape: [pixels, pixels], to: "/magnification",
                           layout: DatasetLayout(chunks: [min(pixels, 256), min(pixels, 256)], compression: 4))
            for (name, value) in facts { try file.setAttribute(name, value, on: "/magnification") }
            try file.write(pdf, shape: [sourceSizes.count, bins], to: "/histogram/pdf")
            try file.write((0...bins).map { range[0] + (range[1] - range[0]) * Double($0) / Double(bins) }, to: "/histogram/log_mu_edges")
            try file.write(sourceSizes, to: "/histogram/source_sizes")
            try file.setAttribute("variable", .string("log10(mu/mu_theory)"), on: "/histogram/pdf")
            try file.setAttribute("source_profile", .string(sourceProfile), on: "/histogram/pdf")
            try file.close()
        }

        func writeFITS(map: MagnificationMap, facts: [(String, HDF5AttributeValue)]) throws {
            let file = try FITSFile(creatingAt: out, overwrite: true)
            _ = try file.appendImage(FITSImage(width: pixels, height: pixels, pixels: map.pixels), extname: nil)
            let keys = ["kappa": "KAPPA", "gamma": "GAMMA", "s": "SMOOTHF", "size_re": "SIZE_RE", "pixels": "NPIX",
                        "stars": "NSTARS", "seed": "SEED", "rays_shot": "NRAYS", "rays_per_pixel_unlensed": "RAYSPPX",
                        "mean_magnification": "MU_MEAN", "theory_magnification": "MU_TH", "seconds": "SECONDS",
                        "tessera_version": "TESSVER", "git_commit": "GITCOMM", "created": "DATE",
                        "compensate_mean_field": "MFCOMP", "preimage_kappa_star": "MFKAPPA",
                        "cancelled_shear1": "MFGAMMA1", "cancelled_shear2": "MFGAMMA2"]
            for (name, value) in facts {
                guard let key = keys[name] else { continue }
                switch value {
                case let .double(x): try file.writeKeyword(key, .double(x), comment: name, hdu: 0)
                case let .int(i): try file.writeKeyword(key, .int(Int(i)), comment: name, hdu: 0)
                case let .string(text): try file.writeKeyword(key, .string(String(text.prefix(60))), comment: name, hdu: 0)
                default: break
                }
            }
            try file.close()
        }
    }
}
