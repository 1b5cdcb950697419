import ArgumentParser
import Foundation
import ImageStores
import RunKit
import SceneFitting
import SceneModel
import SceneRuns
import SystemPackage
import TesseraMPI
import TesseraRun

extension Tessera {
    struct MockScene: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mock-scene",
            abstract: "Render a mock scene: dithered FITS exposures in several bands, truth and starting catalogs, PSF store.",
            discussion: """
            Writes RUN/images/<band>-<k>.fits (HDU 1 science with TAN WCS, HDU 2 1σ uncertainty), \
            RUN/truth.fits, RUN/initial.fits (perturbed starting catalog) and RUN/psf.h5. \
            Keys for --config: `tessera config mock-scene`.
            """)

        @Option(help: "YAML configuration (optional: defaults make a 20-source, 2-band, 3-exposure scene).") var config: String?
        @Option(help: "Run directory to create.") var out: String

        func run() throws {
            try MPIExecution.run { comm in
                let c = try config.map { try ConfigLoader.load(MockSceneConfiguration.self, from: $0, communicator: comm) } ?? MockSceneConfiguration()
                let context = try RunContext.start(command: "mock-scene", configuration: c, output: out, seed: c.seed,
                                                   inputs: (config.map { [$0] } ?? []) + (c.catalog.map { [$0] } ?? []),
                                                   libraries: LibraryInfo.versions(), communicator: comm)
                try context.finishing {
                    if comm.isRoot {
                        let output = try MockSceneRunner.run(c, directory: context.directory, sersic: try SersicMixture.bundled())
                        print("mock-scene: \(output.truth.sources.count) sources, \(output.images.count) exposures in \(context.file("images"))")
                    }
                }
            }
        }
    }

    struct Preprocess: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert FITS exposures into the HDF5 pixel store that optimize and sample read.",
            discussion: """
            Each exposure: science image (HDU --sci-hdu) with a TAN WCS and FILTER (band); keywords \
            are read from that HDU, else from the primary. Flux calibration, first that applies: \
            CALIB (counts per catalog flux unit), ABMAG or ZP (AB zero point, fluxes in nJy), BUNIT \
            nJy/uJy/mJy/Jy/MJy per pixel or MJy/sr with PIXAR_SR (JWST), PHOTFNU or PHOTFLAM with \
            PHOTPLAM for count rates (HST), MAGZERO or MAGZP. BUNIT, PHOTFNU and PHOTFLAM convert \
            the pixels (and SKY, σ, weights) to nJy. Optional SKY. \
            Uncertainty (1σ, or inverse variance with --weights, e.g. WHT) in --unc-hdu; optional mask \
            in --mask-hdu (non-zero = bad, or with --dq-bad-bits a DQ bit mask). HDUs by number (0 = \
            primary) or EXTNAME. NaN, zero-weight and masked pixels are dropped. JWST i2d: \
            --sci-hdu SCI --unc-hdu ERR --mask-hdu DQ --dq-bad-bits 1 (DO_NOT_USE); HST drz: --sci-hdu SCI \
            --unc-hdu WHT --weights.
            """)

        @Argument(help: "FITS exposures.") var images: [String]
        @Option(help: "Pixel store to write.") var out: String
        @Option(name: .customLong("sci-hdu"), help: "HDU of the science image: number (0 = primary) or EXTNAME.") var sciHDU = "1"
        @Option(name: .customLong("unc-hdu"), help: "HDU of the uncertainty image: number or EXTNAME (ERR, or WHT with --weights).") var uncHDU = "2"
        @Option(name: .customLong("mask-hdu"), help: "HDU of a mask image (non-zero = bad): number or EXTNAME (DQ).") var maskHDU: String?
        @Option(name: .customLong("dq-bad-bits"),
                help: "Treat the mask as DQ bits: a pixel is bad if (DQ & mask) != 0. An integer (e.g. 1 or 0x5) or a comma list of bit numbers (e.g. 0,2,9).")
        var dqBadBits: String?
        @Flag(help: "The uncertainty HDU holds inverse variances (a WHT image), not 1σ.") var weights = false

        func run() throws {
            try failing {
                let bits = try dqBadBits.map { try PixelStore.parseBitMask($0) }
                if bits != nil, maskHDU == nil { throw ValidationError("--dq-bad-bits needs --mask-hdu (the DQ HDU)") }
                let ingested = try PixelStore.build(images: images, output: out, scienceHDU: HDUSelector(sciHDU), uncertaintyHDU: HDUSelector(uncHDU),
                                                    maskHDU: maskHDU.map(HDUSelector.init), weights: weights, dqBadBits: bits, log: { print($0) })
                let bands = Set(ingested.map(\.info.band)).sorted()
                print("preprocess: \(ingested.count) exposures in bands \(bands.joined(separator: ", ")), "
                      + "\(ingested.reduce(0) { $0 + $1.used }) pixels used, \(ingested.reduce(0) { $0 + $1.dropped }) dropped -> \(out)")
            }
        }
    }

    struct Optimize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Optimise every source of a catalog against the pixel store, patch by patch (L-BFGS + Laplace errors).",
            discussion: SceneCommand.discussion)
        @OptionGroup var options: ResumableRunOptions
        func run() throws { try SceneCommand.run(mode: .optimize, options: options) }
    }

    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sample the posterior of every source with NUTS, region by region, across MPI ranks.",
            discussion: SceneCommand.discussion)
        @OptionGroup var options: ResumableRunOptions
        func run() throws { try SceneCommand.run(mode: .sample, options: options) }
    }
}

enum SceneCommand {
    static let discussion = """
    Rank 0 holds the scene and checks out non-overlapping regions (active sources plus fixed \
    neighbours) to the other ranks; with one process the same loop runs serially. Writes \
    RUN/results.h5 (chains, per-patch records, final state), RUN/catalog.fits, RUN/state.json \
    (after every check-in) and RUN/patches.jsonl. --resume RUN continues a killed run. Keys for \
    --config: `tessera config scene`.
    """

    static func run(mode: FitSettings.Mode, options: ResumableRunOptions) throws {
        try MPIExecution.run { comm in
            let file = try options.configFile()
            let c = try ConfigLoader.load(SceneFitConfiguration.self, from: file, communicator: comm)
            let resume = options.resume != nil
            let context = try RunContext.start(command: mode.rawValue, configuration: c, output: options.output(command: mode.rawValue),
                                               seed: c.seed, inputs: options.inputs([file, c.catalog, c.pixelStore, c.psfStore]),
                                               sharedInputs: [c.catalog, c.pixelStore, c.psfStore],  // every rank reads them
                                               libraries: LibraryInfo.versions(), communicator: comm, resume: resume, resumable: true)
            try context.finishing {
                let summary = try SceneFitRunner.run(c, mode: mode, context: context, resume: resume)
                if comm.isRoot {
                    print(String(format: "%@: done in %.1f s: %d sources, %d patches, %d flagged",
                                 mode.rawValue, summary.seconds, summary.sources, summary.regions, summary.flagged))
                }
            }
        }
    }
}

extension Tessera {
    struct Postprocess: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summaries (medians, 68% intervals, R-hat, ESS) and residual images of an optimize or sample run.",
            discussion: "Writes RUN/postprocess/summary.{fits,csv} and RUN/postprocess/residuals/<exposure>.fits (residual, model, chi).")
        @Argument(help: "Run directory of `tessera optimize` or `tessera sample`.") var directory: String
        @Flag(help: "Skip the residual images.") var noResiduals = false
        func run() throws {
            try failing { _ = try PostprocessRunner.run(directory: directory, residuals: !noResiduals) }
            ReportHook.write(directory)
        }
    }
}

extension Tessera {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the whole scene pipeline on a small bundled scene: mock → preprocess → optimize → sample → postprocess.",
            discussion: """
            Start it under MPI to see the master/worker layer at work:

              mpirun -np 4 tessera demo --out runs/demo

            Each step writes its own run directory (mock/, optimize/, sample/ with sample/postprocess/) under --out.
            """)
        @Option(help: "Directory to create for the demo's runs.") var out = "runs/demo"
        func run() throws {
            try MPIExecution.run { comm in
                try DemoRunner.run(directory: out, communicator: comm, libraries: LibraryInfo.versions())
                // The sample run's page, its fluxes against the mock's truth.
                if comm.isRoot {
                    ReportHook.write(FilePath(out).appending("sample").string, truth: FilePath(out).appending("mock/truth.fits").string)
                }
            }
        }
    }
}
