enum MagMapBenchmark { static func run(pixels: Int) { print("magmap benchmark: not yet available") } }
