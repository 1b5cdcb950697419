import ArgumentParser
import Foundation
import SystemPackage
import MEDSIO
import Stamps
import TesseraFITS

/// `tessera meds`: MEDS tiles — mock ones with known truth, and the neighbour and group tables
/// that multi-object fitting reads.
extension Tessera {
    struct Meds: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "MEDS multi-epoch stamp files: write a mock tile, build neighbour lists and friends-of-friends groups.",
            subcommands: [Mock.self, Groups.self])

        struct Mock: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a mock MEDS tile (Gaussian-mixture galaxies, real blends, a coadd and several epochs) and its truth.",
                discussion: """
                Writes OUT/tile-meds.fits (object_data, image_info, metadata, image/weight/seg/bmask \
                cutouts and psf, in the layout of esheldon/meds) and OUT/truth.fits (per object: id, \
                number, ra, dec, u, v in arcsec, flux, half-light radius in arcsec, g1, g2, truth_group). \
                Cutout 0 of every object is the coadd. The same options and seed give the same files.
                """)

            @Option(help: "Directory to create (must not hold a tile already).") var out: String
            @Option(help: "Number of objects.") var objects = 200
            @Option(name: .customLong("blended-fraction"), help: "Fraction of objects in blended groups of 2–3.") var blendedFraction = 0.4
            @Option(help: "Single-epoch images per object (each object also gets a coadd cutout).") var epochs = 3
            @Option(name: .customLong("box-size"), help: "Stamp side, pixels.") var boxSize = 32
            @Option(help: "Noise σ per pixel of one epoch (counts).") var noise = 1.0
            @Option(help: "Random seed.") var seed: UInt64 = 1
            @Flag(help: "Tile-compress the cutout arrays (lossless GZIP).") var compress = false

            func run() throws {
                var settings = MockTileSettings()
                settings.objectCount = objects
                settings.blendedFraction = blendedFraction
                settings.epochCount = epochs
                settings.boxSize = boxSize
                settings.noiseSigma = noise
                settings.seed = seed
                guard objects >= 1, epochs >= 1, boxSize >= 4, (0...1).contains(blendedFraction) else {
                    throw ValidationError("need --objects ≥ 1, --epochs ≥ 1, --box-size ≥ 4 and --blended-fraction in [0, 1]")
                }
                try failing { try write(settings) }
            }

            private func write(_ settings: MockTileSettings) throws {
                let tile = try MockStampTile.make(settings)
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let meds = FilePath(out).appending("tile-meds.fits").string
                let truth = FilePath(out).appending("truth.fits").string
                try MEDSWriter.write(MEDSContents(mock: tile), to: meds, compression: compress ? .losslessGzip : nil)
                let o = tile.objects
                let file = try FITSFile(creatingAt: truth)
                try file.appendTable([
                    .int64("id", o.map(\.id)), .int64("number", o.map(\.number)),
                    .double("ra", o.map(\.ra), unit: "deg"), .double("dec", o.map(\.dec), unit: "deg"),
                    .double("u", o.map(\.u), unit: "arcsec"), .double("v", o.map(\.v), unit: "arcsec"),
                    .double("flux", o.map(\.flux), unit: "count"), .double("half_light_radius", o.map(\.halfLightRadius), unit: "arcsec"),
                    .double("g1", o.map(\.g1)), .double("g2", o.map(\.g2)), .int64("truth_group", o.map { Int64($0.truthGroup) }),
                ], extname: "truth")
                try file.close()
                let groups = Set(o.map(\.truthGroup)).count
                print("meds mock: \(o.count) objects in \(groups) groups, \(epochs + 1) cutouts each → \(meds), \(truth)")
            }
        }

        struct Groups: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Neighbour lists and friends-of-friends groups of a MEDS file, as FITS tables.",
                discussion: """
                Neighbours come from each object's first cutout: with --method stamps, footprints \
                (orig_start_row/col, box_size) in the same image that overlap once grown by --buffer \
                pixels; with --method seg, other objects' seg numbers inside the object's seg stamp. \
                Groups link each object to its neighbours. Writes OUT/nbrslist.fits (EXTNAME nbrs: \
                number, nbr_number) and OUT/fofs.fits (EXTNAME fofs: fofid, number); the same file and \
                options always give the same tables.
                """)

            @Argument(help: "MEDS file.") var medsFile: String
            @Option(help: "Directory for the two tables (created; existing tables are not overwritten).") var out: String
            @Option(help: "How neighbours are found: stamps or seg.") var method: MEDSGroups.Method = .stamps
            @Option(help: "Pixels added to every side of a stamp before testing overlap (stamps method).") var buffer = 0

            func run() throws {
                try failing { try build() }
            }

            private func build() throws {
                let meds = try MEDSFile(path: medsFile)
                let list = try MEDSGroups.neighbours(of: meds, method: method, buffer: buffer)
                let fof = FriendsOfFriends(list)
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                try MEDSGroups.writeNeighbourTable(list, numbers: meds.numbers, to: FilePath(out).appending("nbrslist.fits").string)
                try MEDSGroups.writeGroupTable(fof, numbers: meds.numbers, to: FilePath(out).appending("fofs.fits").string)
                let multi = fof.members.filter { $0.count > 1 }.count
                print("meds groups: \(meds.objectCount) objects, \(list.rows.count / 2) neighbour pairs, \(fof.groupCount) groups "
                      + "(\(multi) with ≥ 2 members; \(String(format: "%.1f", 100 * fof.blendedFraction))% of objects blended) → \(out)")
                try meds.close()
            }
        }
    }
}

extension MEDSGroups.Method: ExpressibleByArgument {}
