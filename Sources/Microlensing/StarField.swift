import TesseraSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Point-mass stars filling a disk of radius R* (centred on the origin) uniformly, with mean
/// surface density κ*.
///
/// Number and radius (the convention of Weisenbach et al.'s `microlensing` code):
/// - In Einstein-radius units a uniform disk of radius R and convergence κ* has total mass
///   M = κ*·R² (its deflection at the rim, M/R, equals κ*·R). The number of stars is drawn
///   deterministically from that expectation, N = ⌈κ*·R²_requested/⟨m⟩⌉ (no Poisson draw of N:
///   a fixed N makes the field reproducible and its star count exact).
/// - Masses are drawn from the mass function (stream 0 of the seed), and the disk radius is then
///   set so that the *realised* mass gives exactly κ*: R* = √(Σmᵢ/κ*). For fixed masses this is
///   ≥ the requested radius; for a mass spectrum it differs from it by a relative
///   ~σ_m/(2⟨m⟩√N).
/// - Positions are uniform in the disk (stream 1): r = R*·√u, φ = 2πv.
///
/// Explicit fields (any positions, e.g. a single star for tests) can be built with
/// `init(x:y:mass:radius:)`; their κ* is Σm/R².
public struct StarField: Sendable, Equatable {
    /// Star positions in Einstein radii (of 1 M☉).
    public let x: [Double]
    public let y: [Double]
    /// Masses in M☉.
    public let mass: [Double]
    /// Disk radius R* in Einstein radii.
    public let radius: Double
    /// Convergence in stars, Σm/R*².
    public let kappaStar: Double
    /// Seed the field was drawn from (nil for explicit fields).
    public let seed: UInt64?

    /// Largest number of stars a generated field may have.
    public static let maximumCount = 100_000_000

    public var count: Int { x.count }
    public var totalMass: Double { mass.reduce(0, +) }

    /// N = ⌈κ*·R²/⟨m⟩⌉, the deterministic star count for a disk of radius R.
    public static func expectedCount(kappaStar: Double, radius: Double, meanMass: Double) -> Int {
        let n = kappaStar * radius * radius / meanMass
        // Tolerate rounding so that an exact integer expectation is not bumped up by one.
        return n <= 0 ? 0 : Int((n * (1 - 1e-12)).rounded(.up))
    }

    /// How star positions are drawn inside the disk.
    public enum Placement: Sendable, Equatable, Hashable, Codable {
        /// Independent uniform positions (a Poisson field at every scale).
        case uniform
        /// Stratified ("jittered") positions: the disk is tiled by square cells of side
        /// `cellSize` (Einstein radii); each cell receives its expected number of stars (area
        /// inside the disk × density, rounded systematically so the total is exact), placed
        /// uniformly inside it. On scales below the cell the field is Poisson as before; on
        /// larger scales the random fluctuations of the star count — which act on a finite map
        /// like a random extra convergence and shear, shifting its mean magnification away from
        /// 1/|(1−κ)²−γ²| — are removed. A variance reduction for tabulating the distribution at
        /// the given macro (κ, γ), whose infinite-field statistics have no such fluctuation.
        case stratified(cellSize: Double)
    }

    /// A random field of surface density `kappaStar` covering at least (for fixed masses) a disk
    /// of radius `radius`.
    public init(kappaStar: Double, radius: Double, massFunction: MassFunction = .unit, seed: UInt64,
                placement: Placement = .uniform) throws {
        try MicrolensingError.require(kappaStar.isFinite && kappaStar >= 0, "kappaStar", kappaStar, "must be finite and >= 0")
        try MicrolensingError.require(radius.isFinite && radius > 0, "starFieldRadius", radius, "must be finite and > 0")
        try massFunction.validate()
        let expected = kappaStar * radius * radius / massFunction.meanMass
        if expected > Double(Self.maximumCount) {
            throw MicrolensingError.tooLarge(quantity: "stars", value: expected, limit: Double(Self.maximumCount))
        }
        let n = Self.expectedCount(kappaStar: kappaStar, radius: radius, meanMass: massFunction.meanMass)
        var massRNG = RandomSource(seed: seed, stream: 0)
        var m = [Double](repeating: 0, count: n)
        for i in 0..<n { m[i] = massFunction.sample(using: &massRNG) }
        let total = m.reduce(0, +)
        let r = n > 0 ? (total / kappaStar).squareRoot() : radius
        var posRNG = RandomSource(seed: seed, stream: 1)
        var xs = [Double](repeating: 0, count: n), ys = [Double](repeating: 0, count: n)
        switch placement {
        case .uniform:
            for i in 0..<n {
                let rr = r * posRNG.uniform().squareRoot()
                let phi = 2 * Double.pi * posRNG.uniform()
                xs[i] = rr * cos(phi)
                ys[i] = rr * sin(phi)
            }
        case let .stratified(cellSize):
            try MicrolensingError.require(cellSize.isFinite && cellSize > 0, "stratumSize", cellSize, "must be finite and > 0")
            Self.placeStratified(count: n, radius: r, cellSize: cellSize, rng: &posRNG, x: &xs, y: &ys)
        }
        self.x = xs
        self.y = ys
        self.mass = m
        self.radius = r
        self.kappaStar = n > 0 ? kappaStar : 0
        self.seed = seed
    }

    /// Stratified placement (see `Placement.stratified`).
    static func placeStratified(count n: Int, radius r: Double, cellSize c: Double, rng: inout RandomSource,
                                x xs: inout [Double], y ys: inout [Double]) {
        guard n > 0 else { return }
        let k = Int((2 * r / c).rounded(.up))
        let x0 = -Double(k) * c / 2
        // Area of each cell inside the disk: exact for cells wholly inside or outside, a 32×32
        // midpoint sample for cells crossing the rim.
        var areas = [Double](repeating: 0, count: k * k)
        let sub = 32
        for j in 0..<k {
            for i in 0..<k {
                let lx = x0 + Double(i) * c, ly = x0 + Double(j) * c
                let nearX = max(lx, min(0, lx + c)), nearY = max(ly, min(0, ly + c))
                if nearX * nearX + nearY * nearY >= r * r { continue }
                let farX = max(abs(lx), abs(lx + c)), farY = max(abs(ly), abs(ly + c))
                if farX * farX + farY * farY <= r * r { areas[j * k + i] = c * c; continue }
                var inside = 0
                for b in 0..<sub {
                    for a in 0..<sub {
                        let px = lx + (Double(a) + 0.5) * c / Double(sub), py = ly + (Double(b) + 0.5) * c / Double(sub)
                        if px * px + py * py < r * r { inside += 1 }
                    }
                }
                areas[j * k + i] = c * c * Double(inside) / Double(sub * sub)
            }
        }
        let totalArea = areas.reduce(0, +)
        // Systematic rounding of the expected counts: the total is exactly n.
        let offset = rng.uniform()
        var cumulative = 0.0
        var placed = 0
        for cell in 0..<(k * k) where areas[cell] > 0 {
            let before = Int((cumulative + offset).rounded(.down))
            cumulative += Double(n) * areas[cell] / totalArea
            let stars = min(Int((cumulative + offset).rounded(.down)) - before, n - placed)
            let lx = x0 + Double(cell % k) * c, ly = x0 + Double(cell / k) * c
            for _ in 0..<stars {
                var px: Double, py: Double
                repeat {
                    px = lx + c * rng.uniform()
                    py = ly + c * rng.uniform()
                } while px * px + py * py > r * r
                xs[placed] = px
                ys[placed] = py
                placed += 1
            }
        }
        // Rounding at the very end can leave a star unplaced; put it uniformly in the disk.
        while placed < n {
            let rr = r * rng.uniform().squareRoot(), phi = 2 * Double.pi * rng.uniform()
            xs[placed] = rr * cos(phi)
            ys[placed] = rr * sin(phi)
            placed += 1
        }
    }

    /// An explicit field; `radius` is the disk the stars are meant to represent (κ* = Σm/R²).
    public init(x: [Double], y: [Double], mass: [Double], radius: Double) throws {
        try MicrolensingError.require(x.count == y.count && x.count == mass.count, "starCount", Double(x.count),
                                      "x, y and mass must have the same length")
        try MicrolensingError.require(radius.isFinite && radius > 0, "starFieldRadius", radius, "must be finite and > 0")
        for m in mass {
            try MicrolensingError.require(m.isFinite && m > 0, "mass", m, "must be finite and > 0")
        }
        for v in x + y {
            try MicrolensingError.require(v.isFinite, "starPosition", v, "must be finite")
        }
        self.x = x
        self.y = y
        self.mass = mass
        self.radius = radius
        self.kappaStar = mass.reduce(0, +) / (radius * radius)
        self.seed = nil
    }
}
