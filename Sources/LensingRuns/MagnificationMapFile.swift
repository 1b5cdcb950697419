import Foundation
import Microlensing
import TesseraFITS
import TesseraHDF5
import TesseraRun
import TesseraSupport

/// The HDF5 file of one magnification map, as `tessera magmap` writes it and `tabulate` keeps
/// it with `keep_maps: true`:
///
/// - `/magnification` [pixels, pixels], float32: μ per pixel (row = y, column = x, the shear
///   axis; not divided by μ_theory), with the map's facts as attributes (`facts`);
/// - `/histogram/pdf` [source size, bin]: density per unit log10(μ/μ_theory), with
///   `/histogram/log_mu_edges` and `/histogram/source_sizes`;
/// - `/stars/x`, `/stars/y` (Einstein radii) and `/stars/mass` (M☉): the star field that made
///   the map, with its disk radius as attribute `radius` of `/stars/x`, so that any other code
///   can re-shoot or check the map (`Benchmarks/map_mean_crosscheck.py` does).
///
/// The FITS file holds the map as the primary image with the same facts as header keywords
/// (`fitsKeywords`) and the star field as a `STARS` table (no histograms).
///
/// Written to a temporary name and renamed, so a killed job never leaves a half-written map
/// under the final name.
public enum MagnificationMapFile {
    /// The file format of a map, by its file extension.
    public enum Format: String, Sendable, Codable, CaseIterable {
        case h5, fits
        /// The map's file name inside a `tessera magmap` run directory.
        public var fileName: String { "map.\(rawValue)" }
    }

    /// Writes a computed map with its histograms (HDF5 only) and facts to `path`.
    public static func write(_ output: TableCellComputer.Output, recipe: MapRecipe, format: Format = .h5,
                             to path: String) throws {
        let facts = facts(map: output.map, massFunction: recipe.massFunction, massRange: recipe.massRange,
                          lightLoss: recipe.lightLoss, seconds: output.seconds)
        switch format {
        case .h5:
            try write(map: output.map, pdf: output.pdf, sourceSizes: recipe.sourceSizes, sourceProfile: recipe.sourceProfile,
                      logMuRange: recipe.logMuInterval, bins: recipe.bins, facts: facts, to: path)
        case .fits:
            try writeFITS(map: output.map, facts: facts, to: path)
        }
    }

    /// The map's provenance: macro model, geometry, stars, seed, rays, means, the mean-field
    /// compensation (its pre-image κ* and cancelled shear only when it was applied), timing and
    /// software version.
    public static func facts(map: MagnificationMap, massFunction: MassFunction.Family, massRange: [Double], lightLoss: Double,
                             seconds: Double) -> [(String, HDF5AttributeValue)] {
        let version = SourceVersion.detect()
        var facts: [(String, HDF5AttributeValue)] = [
            ("kappa", .double(map.kappa)), ("gamma", .double(map.gamma)), ("s", .double(map.smoothFraction)),
            ("size_re", .double(map.sizeRE)), ("pixels", .int(Int64(map.width))), ("mass_function", .string(massFunction.rawValue)),
            ("mass_range", .doubles(massFunction == .unit ? [1, 1] : massRange)), ("stars", .int(Int64(map.starCount))),
            ("seed", .int(Int64(bitPattern: map.seed ?? 0))),
            ("rays_shot", .int(Int64(map.raysShot))), ("rays_per_pixel_unlensed", .double(map.raysPerPixelUnlensed)),
            ("mean_magnification", .double(map.mean)), ("theory_magnification", .double(map.theoreticalMagnification)),
            ("seconds", .double(seconds)), ("tessera_version", .string(TesseraVersion.string)),
            ("git_commit", .string(version.commit ?? "unknown")), ("created", .string(Timestamp.iso8601())),
            ("compensate_mean_field", .int(map.compensation == nil ? 0 : 1)), ("light_loss", .double(lightLoss)),
            ("method", .string(map.method.rawValue)),
        ]
        if let r = map.region {
            facts += [("source_margin", .double(r.sourceMargin)), ("shooting_half_width_x", .double(r.halfWidthX)),
                      ("shooting_half_width_y", .double(r.halfWidthY))]
        }
        if let stars = map.stars { facts.append(("star_field_radius", .double(stars.radius))) }
        if let c = map.compensation {
            facts += [("preimage_kappa_star", .double(c.realisedKappa)), ("cancelled_shear1", .double(c.gamma1)),
                      ("cancelled_shear2", .double(c.gamma2))]
        }
        return facts
    }

    /// Writes the map and its histograms (`pdf` flattened [size][bin]) to `path`.
    public static func write(map: MagnificationMap, pdf: [Double], sourceSizes: [Double], sourceProfile: SourceProfile.Shape,
                             logMuRange: ClosedRange<Double>, bins: Int, facts: [(String, HDF5AttributeValue)],
                             to path: String) throws {
        let n = map.width
        try writeReplacing(path) { partial in
            let file = try HDF5File.create(partial)
            do {
                try file.write(map.pixels, shape: [n, n], to: "/magnification",
                               layout: DatasetLayout(chunks: [min(n, 256), min(n, 256)], compression: 4))
                for (name, value) in facts { try file.setAttribute(name, value, on: "/magnification") }
                try file.write(pdf, shape: [sourceSizes.count, bins], to: "/histogram/pdf")
                let (lo, hi) = (logMuRange.lowerBound, logMuRange.upperBound)
                try file.write((0...bins).map { lo + (hi - lo) * Double($0) / Double(bins) }, to: "/histogram/log_mu_edges")
                try file.write(sourceSizes, to: "/histogram/source_sizes")
                try file.setAttribute("variable", .string("log10(mu/mu_theory)"), on: "/histogram/pdf")
                try file.setAttribute("source_profile", .string(sourceProfile.rawValue), on: "/histogram/pdf")
                if let stars = map.stars, stars.count > 0 {
                    try file.write(stars.x, to: "/stars/x")
                    try file.write(stars.y, to: "/stars/y")
                    try file.write(stars.mass, to: "/stars/mass")
                    try file.setAttribute("radius", .double(stars.radius), on: "/stars/x")
                    try file.setAttribute("units", .string("Einstein radii of 1 M_sun; mass in M_sun"), on: "/stars/x")
                }
                try file.close()
            } catch {
                try? file.close()
                throw error
            }
        }
    }

    /// FITS header keyword of each fact (facts without one are left out of the FITS header).
    public static let fitsKeywords = [
        "kappa": "KAPPA", "gamma": "GAMMA", "s": "SMOOTHF", "size_re": "SIZE_RE", "pixels": "NPIX",
        "stars": "NSTARS", "seed": "SEED", "rays_shot": "NRAYS", "rays_per_pixel_unlensed": "RAYSPPX",
        "mean_magnification": "MU_MEAN", "theory_magnification": "MU_TH", "seconds": "SECONDS",
        "tessera_version": "TESSVER", "git_commit": "GITCOMM", "created": "DATE",
        "compensate_mean_field": "MFCOMP", "preimage_kappa_star": "MFKAPPA",
        "cancelled_shear1": "MFGAMMA1", "cancelled_shear2": "MFGAMMA2", "light_loss": "LIGHTLOS",
        "source_margin": "SRCMARG", "shooting_half_width_x": "SHOOTWX", "shooting_half_width_y": "SHOOTWY",
        "star_field_radius": "STARRAD", "method": "METHOD",
    ]

    /// Writes the map as a FITS primary image with `facts` as keywords, and its stars as a
    /// `STARS` table (X, Y in Einstein radii, MASS in M☉).
    public static func writeFITS(map: MagnificationMap, facts: [(String, HDF5AttributeValue)], to path: String) throws {
        try writeReplacing(path) { partial in
            let file = try FITSFile(creatingAt: partial, overwrite: true)
            _ = try file.appendImage(FITSImage(width: map.width, height: map.height, pixels: map.pixels), extname: nil)
            for (name, value) in facts {
                guard let key = fitsKeywords[name] else { continue }
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
