/// # Inference
///
/// The generic inference layer of Tessera. It sees only a log-density and its gradient at a point
/// (`LogDensity`), so the same code samples scene-fitting posteriors, halo mass fits and
/// hierarchical population models. Pure Swift: no MPI, no files; run one chain per rank with
/// `NUTS.sample(…, seed:, chain: rank)`.
///
/// - `LogDensity`, `ClosureDensity`: the model interface.
/// - `ParameterTransform`, `TransformedDensity`: bounded parameters to ℝⁿ with the log-Jacobian
///   (Stan reference manual, "Constraint transforms").
/// - `NUTS`, `SampleResult`, `DrawStats`: multinomial NUTS with the generalised no-U-turn criterion
///   (Hoffman & Gelman 2014; Betancourt 2017), Stan's dual-averaging step size and windowed
///   diagonal/dense metric adaptation.
/// - `Diagnostics`: split-R̂, ESS (Geyer initial monotone sequence, as in Stan), E-BFMI, MCSE.
/// - `LBFGS`, `finiteDifferenceHessian`, `laplaceCovariance`: mode finding (Nocedal & Wright 2006)
///   and a Laplace covariance to seed the sampler's metric.
///
/// Defaults follow Stan 2.3x (`adapt_delta` 0.8, `max_depth` 10, warm-up buffers 75/25/50,
/// divergence at an energy error above 1000).
public enum InferenceModule {}
