import Foundation

// Benchmarks for the performance figures the issues name. Build and run in release:
//   swift run -c release tessera-bench interpolator
//   swift run -c release tessera-bench magmap [PIXELS [SEEDS]]
//   swift run -c release tessera-bench scatter [PIXELS [SEEDS [SIZE_RE [REFERENCE_MAPS]]]]
//   swift run -c release tessera-bench margin [PIXELS [SEEDS [COMPENSATE 1|0 [FIELD_RADIUS]]]]
//   swift run -c release tessera-bench halos
//   swift run -c release tessera-bench kernel [SECONDS]
//     (SceneModel is built for AVX2 + FMA on x86-64; TESSERA_PORTABLE=1 for baseline code)
//   swift run -c release tessera-bench nuts [WARMUP [DRAWS [CHAINS]]]   (see Benchmarks/nuts_vs_numpyro.sh)
//   swift run -c release tessera-bench halofits HALO_DIR [REPEATS [OUT.csv]]
//   swift run -c release tessera-bench lens-solver [FIXTURE_DIR]   (all 1000 lenstronomy fixture lenses)
//   swift run -c release tessera-bench lens-likelihood [TABLE.h5 [QUADS]]   (per-lens likelihood speed, A(η) draw cost)
//   swift run -c release tessera-bench mof [OBJECTS [SEED [SPEED_OBJECTS [OUT.csv]]]]   (see Benchmarks/mof_tile.sh)
//   swift run -c release tessera-bench lens-score RUN_DIR [LENSES [DRAWS]]   (mean score of the lens likelihood on redrawn data)
//   swift run -c release tessera-bench lens-truth RUN_DIR [EVERY [search]]   (each mock lens's truth against its stage-1 draws)
//   swift run -c release tessera-bench lens-modes RUN_DIR INDEX   (one lens's start search, and chains from it and the truth)
//   swift run -c release tessera-bench lens-walls RUN_DIR [SCALE]   (what each lens's stage-1 chain runs into near its draws)
//   swift run -c release tessera-bench scene-sampling SCENE_DIR [CATALOG] [key=value ...]   (ms and pairs per gradient with/without footprints, NUTS evals/iteration; see SceneSamplingBenchmark)
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "interpolator":
    InterpolatorBenchmark.run()
case "magmap":
    MagMapBenchmark.run(pixels: arguments.count > 1 ? Int(arguments[1]) ?? 1000 : 1000,
                        seeds: arguments.count > 2 ? Int(arguments[2]) ?? 1 : 1)
case "halos":
    HaloBenchmark.run()
case "kernel":
    KernelBenchmark.run(seconds: arguments.count > 1 ? Double(arguments[1]) ?? 2 : 2)
case "nuts":
    func count(_ i: Int, _ fallback: Int) -> Int { arguments.count > i ? Int(arguments[i]) ?? fallback : fallback }
    NUTSBenchmark.run(warmup: count(1, 1000), draws: count(2, 1000), chains: count(3, 4))
case "halofits" where arguments.count > 1:
    HaloFitBenchmark.run(halos: arguments[1], repeats: arguments.count > 2 ? Int(arguments[2]) ?? 1 : 1,
                         output: arguments.count > 3 ? arguments[3] : nil)
case "scatter":
    ScatterBenchmark.run(pixels: arguments.count > 1 ? Int(arguments[1]) ?? 250 : 250,
                         seeds: arguments.count > 2 ? Int(arguments[2]) ?? 20 : 20,
                         size: arguments.count > 3 ? Double(arguments[3]) ?? 25 : 25,
                         referenceSeeds: arguments.count > 4 ? Int(arguments[4]) ?? 2 : 2)
case "margin":
    MarginBenchmark.run(pixels: arguments.count > 1 ? Int(arguments[1]) ?? 250 : 250,
                        seeds: arguments.count > 2 ? Int(arguments[2]) ?? 10 : 10,
                        compensate: arguments.count > 3 ? arguments[3] != "0" : true,
                        fieldRadius: arguments.count > 4 ? Double(arguments[4]) : nil)
case "lens-solver":
    LensSolverBenchmark.run(fixtures: arguments.count > 1 ? arguments[1] : "Tests/StrongLensingTests/Fixtures")
case "lens-likelihood":
    LensLikelihoodBenchmark.run(table: arguments.count > 1 ? arguments[1] : "Tests/LensInferenceTests/Fixtures/microlensing-table.h5",
                                quads: arguments.count > 2 ? Int(arguments[2]) ?? 100 : 100)
case "scene-sampling":
    SceneSamplingBenchmark.run(arguments: Array(arguments.dropFirst()))
case "lens-score":
    LensScoreBenchmark.run(arguments: Array(arguments.dropFirst()))
case "lens-truth":
    LensTruthBenchmark.run(arguments: Array(arguments.dropFirst()))
case "lens-modes":
    LensModesBenchmark.run(arguments: Array(arguments.dropFirst()))
case "lens-walls":
    LensWallsBenchmark.run(arguments: Array(arguments.dropFirst()))
case "scene-start":
    SceneStartBenchmark.run(arguments: Array(arguments.dropFirst()))
case "mof":
    func count(_ i: Int, _ fallback: Int) -> Int { arguments.count > i ? Int(arguments[i]) ?? fallback : fallback }
    MOFTileBenchmark.run(objects: count(1, 2000), seed: UInt64(count(2, 1)), speedObjects: count(3, 200),
                         output: arguments.count > 4 ? arguments[4] : nil)
default:
    print("usage: tessera-bench interpolator | magmap [PIXELS [SEEDS]] | scatter [PIXELS [SEEDS [SIZE_RE [REFERENCE_MAPS]]]] | margin [PIXELS [SEEDS [COMPENSATE [FIELD_RADIUS]]]] | halos | kernel [SECONDS] | nuts [WARMUP [DRAWS [CHAINS]]] | halofits HALO_DIR [REPEATS [OUT.csv]] | lens-solver [FIXTURE_DIR] | lens-likelihood [TABLE.h5 [QUADS]] | mof [OBJECTS [SEED [SPEED_OBJECTS [OUT.csv]]]] | lens-score RUN_DIR [LENSES [DRAWS]] | lens-truth RUN_DIR [EVERY [search]] | lens-modes RUN_DIR INDEX | lens-walls RUN_DIR [SCALE] | scene-sampling SCENE_DIR [CATALOG] [key=value ...]")
    exit(2)
}
