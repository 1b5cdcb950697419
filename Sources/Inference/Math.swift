import RealModule

/// log(1 + eˣ) without overflow.
@inline(__always) func softplus(_ x: Double) -> Double {
    x > 0 ? x + Double.log(onePlus: Double.exp(-x)) : Double.log(onePlus: Double.exp(x))
}

/// 1 / (1 + e⁻ˣ), accurate in both tails.
@inline(__always) func logistic(_ x: Double) -> Double {
    if x >= 0 { return 1 / (1 + Double.exp(-x)) }
    let e = Double.exp(x)
    return e / (1 + e)
}
