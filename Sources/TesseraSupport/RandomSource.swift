import RealModule

/// Reproducible random numbers for everything Tessera draws at random (mock noise, star fields,
/// sampler momenta, region seeds).
///
/// Why our own generator: Swift's `SystemRandomNumberGenerator` cannot be seeded, and a run must be
/// bit-reproducible from the `seed` recorded in its `metadata.json`. The generator is
/// xoshiro256** (Blackman & Vigna 2018), seeded through SplitMix64 as its authors recommend.
/// Independent streams for MPI ranks or work items come from `RandomSource(seed:stream:)`,
/// which hashes (seed, stream) so that streams do not overlap in practice and do not depend on
/// how many ranks a job uses.
public struct RandomSource: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// A generator determined entirely by `seed` (and optionally a stream number, e.g. a work-item id).
    public init(seed: UInt64, stream: UInt64 = 0) {
        var sm = SplitMix64(state: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        // Mix the stream number in a second time so that (seed, stream) pairs that collide in the
        // XOR above still diverge.
        _ = sm.next()
        sm.state ^= stream
        s = (sm.next(), sm.next(), sm.next(), sm.next())
        if s == (0, 0, 0, 0) { s.0 = 1 }  // the all-zero state is the one forbidden state
    }

    /// Set the raw xoshiro state; only for checking the core against published outputs.
    mutating func setStateForTesting(_ state: (UInt64, UInt64, UInt64, UInt64)) { s = state }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Self.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = Self.rotl(s.3, 45)
        return result
    }

    /// Uniform double in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Standard normal deviate (Box–Muller, both halves not cached so the stream is stateless
    /// beyond the generator itself).
    public mutating func normal() -> Double {
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014); used only to expand a seed into xoshiro state.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
