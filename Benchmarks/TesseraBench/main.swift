import Foundation

// Benchmarks for the performance figures the issues name. Build and run in release:
//   swift run -c release tessera-bench interpolator
//   swift run -c release tessera-bench magmap [PIXELS [SEEDS]]
//   swift run -c release tessera-bench halos
//   swift run -c release tessera-bench halofits HALO_DIR [REPEATS [OUT.csv]]
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "interpolator":
    InterpolatorBenchmark.run()
case "magmap":
    MagMapBenchmark.run(pixels: arguments.count > 1 ? Int(arguments[1]) ?? 1000 : 1000,
                        seeds: arguments.count > 2 ? Int(arguments[2]) ?? 1 : 1)
case "halos":
    HaloBenchmark.run()
case "halofits" where arguments.count > 1:
    HaloFitBenchmark.run(halos: arguments[1], repeats: arguments.count > 2 ? Int(arguments[2]) ?? 1 : 1,
                         output: arguments.count > 3 ? arguments[3] : nil)
default:
    print("usage: tessera-bench interpolator | magmap [PIXELS [SEEDS]] | halos | halofits HALO_DIR [REPEATS [OUT.csv]]")
    exit(2)
}
