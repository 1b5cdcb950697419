import Foundation
import ImageStores
import RunKit
import SceneFitting
import SceneModel
import SystemPackage
import TesseraMPI
import TesseraRun

/// `tessera demo`: the whole scene-fitting pipeline on a small bundled scene — mock-scene →
/// preprocess → optimize → sample → postprocess — each step in its own run directory under
/// `directory`, so every step's bookkeeping is the same as when run by hand. Collective: start
/// it under mpirun (e.g. `mpirun -np 4 tessera demo --out runs/demo`); steps that are serial
/// run on rank 0 while the others wait.
public enum DemoRunner {
    /// The bundled scene: 30 sources (some blended) in 2 bands × 2 dithered exposures.
    public static var mockConfiguration: MockSceneConfiguration {
        var c = MockSceneConfiguration()
        c.count = 30
        c.imageSize = 72
        c.exposuresPerBand = 2
        c.seed = 2026
        c.fluxRange = [60, 400]
        return c
    }

    public static func fitConfiguration(root: String) -> SceneFitConfiguration {
        var c = SceneFitConfiguration()
        c.catalog = FilePath(root).appending("mock/initial.fits").string
        c.pixelStore = FilePath(root).appending("pixels.h5").string
        c.psfStore = FilePath(root).appending("mock/psf.h5").string
        c.bands = mockConfiguration.bands
        // One sampling pass of 250 draws after 75 warm-up iterations (measured in issue 16: the
        // former 100 draws after 100 warm-up gave split R̂ 1.2–1.4 and ESS 5–8, mostly from pa
        // split across the ±π/2 wrap, now centred). With (q, pa) in ellipticity coordinates
        // (the default) seven of eight runs gave max R̂ 1.027–1.050 and min ESS 27–68 (one gave
        // 1.134 and 10) in 14–17 s, against 1.046–1.105 and 8–31 in (q, pa) (three runs). 400 draws gave min
        // ESS 37–59 (three runs, 17–23 s): the slowest parameters (n, r_half and flux of source
        // 21, one galaxy with 20 fixed neighbours whose n spans 0.9–4 in its posterior) mix too
        // slowly for more draws to help.
        c.targetIterations = 250
        c.drawsPerPatch = 250
        c.warmup = 75
        // ESS ≥ 100 for every parameter (issue 16's demo criterion): the few slow patches (source
        // 21's n–r_half funnel, mixing 5–10× slower than the rest) are extended and thinned
        // (`min_ess`) instead of giving every patch more draws. Measured 2026-12-07 on 2 cores,
        // `mpirun -np 4`: 750 draws everywhere gave min ESS 106 in 16.7 s of sampling; 500 draws
        // after a 200-iteration adapting warm-up gave 27–118 in 17–25 s (three runs); min_ess 100
        // with max_thinning 4 met it in three of five runs (10–13 s; two stopped at the cap); with
        // max_thinning 10, in four of four (min ESS 101–119, max R̂ 1.023–1.047, 12–14 s), 6–11
        // of 26 patches extended. 110 leaves room for ra/dec, whose ESS the patch measures in
        // tangent-plane coordinates.
        c.minESS = 110
        c.maxThinning = 10
        c.maxTreeDepth = 6
        // Keep the Laplace (optimize) covariance as the metric and adapt the step size only: a
        // 75-iteration warm-up has one window of 57 draws, too few for a dense estimate (issue 16,
        // measured 2026-12-06 at load 13–15: 7.9 gradients per iteration against 9.7 when
        // adapting, no divergences; two runs gave max R̂ 1.046 and 1.105, min ESS 31 and 8,
        // against 1.054 and 11 for one adapting run: a few hard patches still limit R̂ and ESS).
        c.adaptMetric = false
        // Two or three optimize passes (ngmixer's loop) within the demo's time.
        c.passes.min = 2
        c.passes.max = 3
        c.roi = 1.0
        c.rhalfRange = [0.03, 0.6]
        c.sersicRange = [0.8, 5]
        c.activeRadius = 0.5
        c.fixedRadius = 1.5
        c.maxActive = 4
        return c
    }

    public static func run(directory: String, communicator comm: Communicator, libraries: LibraryVersions,
                           log: @escaping (String) -> Void = { print($0); fflush(nil) }) throws {
        let root = try comm.broadcast(message: comm.isRoot ? RunPaths.absolute(directory) : nil)
        let start = Date()
        func step(_ name: String) { if comm.isRoot { log(String(format: "demo [%5.1f s]: %@", Date().timeIntervalSince(start), name)) } }
        var problem: String?
        if comm.isRoot {
            if FileManager.default.fileExists(atPath: root) {
                problem = "\(root) already exists; choose a new --out directory"
            } else {
                do { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) } catch { problem = "\(root): \(error)" }
            }
        }
        if let p = try comm.broadcast(message: comm.isRoot ? [problem].compactMap { $0 } : nil).first { throw RunStartError(message: p) }
        // Every rank must see the demo's directory (its steps' stores are read by all ranks).
        try SharedVisibility.check(directory: root, inputs: [], communicator: comm, removeDirectoryOnFailure: true)
        let sersic = try SersicMixture.bundled()

        step("mock-scene (30 sources, 2 bands x 2 exposures)")
        let mock = mockConfiguration
        let mockContext = try RunContext.start(command: "mock-scene", configuration: mock, output: FilePath(root).appending("mock").string,
                                               seed: mock.seed, libraries: libraries, communicator: comm)
        try mockContext.finishing {
            if comm.isRoot {
                let out = try MockSceneRunner.run(mock, directory: mockContext.directory, sersic: sersic)
                step("preprocess")
                _ = try PixelStore.build(images: out.images, output: FilePath(root).appending("pixels.h5").string, log: log)
            }
        }
        _ = try comm.broadcast(message: 0)  // everyone waits for the stores

        step("optimize")
        var fit = fitConfiguration(root: root)
        let optContext = try RunContext.start(command: "optimize", configuration: fit, output: FilePath(root).appending("optimize").string,
                                              seed: fit.seed, inputs: [fit.catalog, fit.pixelStore, fit.psfStore], libraries: libraries, communicator: comm,
                                              resumable: true)
        try optContext.finishing { _ = try SceneFitRunner.run(fit, mode: .optimize, context: optContext, resume: false, log: log) }

        step("sample (starting from the optimised catalog)")
        fit.catalog = optContext.file("catalog.fits")
        let sampleContext = try RunContext.start(command: "sample", configuration: fit, output: FilePath(root).appending("sample").string,
                                                 seed: fit.seed, inputs: [fit.catalog, fit.pixelStore, fit.psfStore], libraries: libraries, communicator: comm,
                                                 resumable: true)
        try sampleContext.finishing { _ = try SceneFitRunner.run(fit, mode: .sample, context: sampleContext, resume: false, log: log) }

        if comm.isRoot {
            step("postprocess")
            _ = try PostprocessRunner.run(directory: sampleContext.directory, log: log)
            step("done: results in \(FilePath(root).appending("sample").string)")
        }
        _ = try comm.broadcast(message: 0)
    }
}
