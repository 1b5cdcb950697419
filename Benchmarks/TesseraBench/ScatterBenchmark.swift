import Foundation
import Microlensing

/// Map-to-map scatter of the mean magnification for the reference case, with uniform and with
/// stratified star placement, over several seeds (same seeds for both).
enum ScatterBenchmark {
    static func run(pixels: Int, seeds: Int, cellSizes: [Double]) {
        let placements: [(String, StarField.Placement)] = [("uniform", .uniform)]
            + cellSizes.map { ("stratified \($0) R_E", .stratified(cellSize: $0)) }
        for (name, placement) in placements {
            var errors: [Double] = []
            var seconds = 0.0
            for seed in 1...seeds {
                guard let r = try? MagnificationMapBenchmark.run(pixels: pixels, seed: UInt64(seed), starPlacement: placement) else {
                    print("\(name): failed"); return
                }
                errors.append(r.relativeError)
                seconds += r.seconds
            }
            let mean = errors.reduce(0, +) / Double(seeds)
            let rms = (errors.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(seeds - 1, 1))).squareRoot()
            let worst = errors.map(abs).max() ?? 0
            print(String(format: "%@: mean error %+.3f%% ± %.3f%%, scatter %.3f%% rms, worst %.3f%%, %.2f s per map",
                         name, 100 * mean, 100 * rms / Double(seeds).squareRoot(), 100 * rms, 100 * worst, seconds / Double(seeds)))
        }
    }
}
