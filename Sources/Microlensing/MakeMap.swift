import Foundation

/// One magnification map for `model`: star field from `settings.seed`, shooting region from the
/// sizing conventions of `ShootingRegion`, by `settings.method`. With `threads` > 1 the cell
/// rows are split into that many bands shot concurrently, each into its own array. Ray counts
/// are integers, so a ray-shooting map is identical to the single-threaded one; a polygon map's
/// sums are added band by band, so it equals the single-threaded one to rounding.
public func makeMagnificationMap(model: MacroModel, settings: MapSettings, threads: Int = 1) throws -> MagnificationMap {
    let shooter = try RayShooter(model: model, settings: settings)
    let bands = max(1, min(threads, shooter.cellRows))
    let n = settings.pixels * settings.pixels
    switch settings.method {
    case .rayShooting:
        guard bands > 1 else { return shooter.makeMap() }
        let (counts, bound) = inBands(bands, rows: shooter.cellRows, zero: UInt32(0), count: n, work: shooter.shoot(cellRows:into:),
                                      add: RayShooter.addCounts)
        return shooter.makeMap(counts: counts, deflectionErrorBound: bound)
    case .polygonMapping:
        guard bands > 1 else { return shooter.makePolygonMap() }
        let (sums, bound) = inBands(bands, rows: shooter.cellRows, zero: 0.0, count: n, work: shooter.mapPolygons(cellRows:into:),
                                    add: RayShooter.addSums)
        return shooter.makePolygonMap(sums: sums, deflectionErrorBound: bound)
    }
}

/// Runs `work` on `bands` contiguous bands of `rows` cell rows concurrently, each into
/// its own array of `count` values, and adds the arrays in band order (`add`). Returns the total
/// and the largest error bound any band reported.
private func inBands<Value: Sendable>(_ bands: Int, rows: Int, zero: Value, count: Int,
                                      work: @Sendable (Range<Int>, inout [Value]) -> Double,
                                      add: ([Value], inout [Value]) -> Void) -> ([Value], Double) {
    let results = BandResults<Value>(count: bands)
    DispatchQueue.concurrentPerform(iterations: bands) { band in
        var values = [Value](repeating: zero, count: count)
        let bound = work((band * rows / bands)..<((band + 1) * rows / bands), &values)
        results.store(band, values: values, bound: bound)
    }
    var total = [Value](repeating: zero, count: count)
    var bound = 0.0
    for band in 0..<bands {
        let (values, b) = results.take(band)
        add(values, &total)
        bound = max(bound, b)
    }
    return (total, bound)
}

/// Per-band results of a threaded map (counts or sums), filled from `concurrentPerform`.
private final class BandResults<Value>: @unchecked Sendable {
    private var counts: [[Value]]
    private var bounds: [Double]
    private let lock = NSLock()

    init(count: Int) {
        counts = Array(repeating: [], count: count)
        bounds = Array(repeating: 0, count: count)
    }

    func store(_ band: Int, values c: [Value], bound: Double) {
        lock.lock(); defer { lock.unlock() }
        counts[band] = c
        bounds[band] = bound
    }

    func take(_ band: Int) -> ([Value], Double) {
        lock.lock(); defer { lock.unlock() }
        let c = counts[band]
        counts[band] = []
        return (c, bounds[band])
    }
}
