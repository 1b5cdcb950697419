// Microlensing: star fields, deflections, ray shooting, magnification maps and their distributions.
//
// Pure science: value types, no MPI, no files. One job per file:
//
//   MacroModel              κ, γ, smooth fraction s; κ* = (1−s)κ, κ_s = sκ; μ_th = 1/|(1−κ)²−γ²|
//   MassFunction            fixed, Salpeter, Kroupa, general power law; analytic ⟨m⟩, ⟨m²⟩; sampling
//   StarField               stars uniform in a disk with surface density κ*, from a seed
//   Geometry                the source-plane pixel grid (MapGeometry) and the ray density
//   ShootingRegion          image-plane rectangle and star-field radius (sizing conventions)
//   Settings                MapSettings and the far/near accuracy settings
//   MapRecipe               a map's and its histograms' settings by name, validated once
//   DirectDeflection        exact α* by direct summation (the reference)
//   MultipoleTree           Barnes–Hut quadtree with complex multipoles and a stated error bound
//   LocalExpansion          far field of a cell as a Taylor series (M2L/P2L from the tree)
//   RayShooter              the hierarchical inverse-ray-shooting loop (far Taylor + near direct)
//   PolygonMapping          inverse polygon mapping over the same grid (MapMethod), with
//   TriangleDeposit         the triangle-to-pixel area kernel
//   MeanFieldCompensation   the star field's realised κ and mean shear over the map's pre-image
//   MakeMap                 one map from settings, optionally in concurrent bands
//   MagnificationMap        the result: magnification per source pixel plus provenance
//   MagnificationHistogram  log10 μ distribution of a map
//   MagnificationTableInterpolator  PDFs on a (κ, γ, s, size) lattice, interpolated
//   FFT, SourceProfile, Convolution   finite-source maps by padded FFT convolution
//   Benchmark               timing of the reference 1000×1000 case
//
// Units: lengths in Einstein radii of a 1 M☉ star, masses in M☉ (a star of mass m has Einstein
// radius √m). The macro shear is along the x axis. Complex notation: z = x₁ + i x₂, and the star
// deflection is α* = Σ mᵢ/(z̄ − z̄ᵢ), i.e. conj(α*) = Σ mᵢ/(z − zᵢ), analytic in z.
