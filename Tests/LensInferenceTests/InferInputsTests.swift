import Foundation
import Inference
@testable import LensInference
@testable import LensingRuns
import XCTest

/// Inputs of `tessera infer`: a table or selection table with another version than the run recorded is refused
/// with an error naming the file and both versions; the selection version follows its recipe.
final class InferInputsTests: XCTestCase {
    /// The lens-inference tests' 408 KB table (made by scripts/make_inference_table_fixture.sh).
    static let table = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LensInferenceTests/Fixtures/microlensing-table.h5").path

    func testTableWithAnotherVersionIsRefused() throws {
        let found = try InferInputs.tableVersion(of: Self.table)
        XCTAssertFalse(found.isEmpty)
        XCTAssertNoThrow(try InferInputs.loadTable(Self.table, expectedVersion: found))
        XCTAssertNoThrow(try InferInputs.loadTable(Self.table, expectedVersion: ""))
        XCTAssertThrowsError(try InferInputs.loadTable(Self.table, expectedVersion: "v-recorded")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(Self.table + ":"), text)
            XCTAssertTrue(text.contains("'\(found)'") && text.contains("'v-recorded'"), text)
        }
    }

    func testSelectionVersionRefusalAndRecipe() throws {
        XCTAssertThrowsError(try InferInputs.checkVersion(file: "run/selection.json", what: "selection-table version",
                                                          found: "mc-a", expected: "mc-b")) { error in
            XCTAssertEqual("\(error)", "run/selection.json: selection-table version is 'mc-a', but this run recorded 'mc-b'; "
                + "use the table the run was made with (or start a new run)")
        }
        var c = InferConfiguration()
        c.table = Self.table
        c.tableVersion = "t1"
        let v1 = try InferRunner.selectionVersion(c)
        XCTAssertEqual(v1, try InferRunner.selectionVersion(c), "deterministic")
        XCTAssertTrue(v1.hasPrefix("mc-") && v1.count == 19, v1)
        c.selectionDraws += 1
        XCTAssertNotEqual(v1, try InferRunner.selectionVersion(c), "the draws are part of the recipe")
        c.selectionDraws -= 1
        c.tableVersion = "t2"
        XCTAssertNotEqual(v1, try InferRunner.selectionVersion(c), "the table version is part of the recipe")
    }

    func testConfigurationChecksTheInterimBox() throws {
        var c = InferConfiguration()
        c.table = Self.table
        XCTAssertNoThrow(try c.validate())
        c.interimAlpha = [0.8, 2.2]  // does not cover the α axis (0.8) minus 3h
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("interim_alpha"), "\($0)") }
    }

    /// The run's log names every lens whose stage-1 α chain mixed poorly (split R̂ > 1.1, ESS < 10 or not finite),
    /// and says nothing when all mixed.
    func testPoorlyMixedStageOneLensesAreReported() {
        var r = InferReport()
        r.lenses = [.init(id: "good", divergences: 0, rHatAlpha: 1.01, essAlpha: 40, importanceESS: 20),
                    .init(id: "slow", divergences: 0, rHatAlpha: 1.02, essAlpha: 3, importanceESS: 20),
                    .init(id: "split", divergences: 0, rHatAlpha: 1.4, essAlpha: 30, importanceESS: 20),
                    .init(id: "constant", divergences: 0, rHatAlpha: nil, essAlpha: nil, importanceESS: 20)]
        XCTAssertEqual(r.poorlyMixedLenses.map(\.id), ["slow", "split", "constant"])
        let warning = r.lines.first { $0.hasPrefix("warning:") } ?? ""
        XCTAssertTrue(warning.contains("3 of 4") && warning.contains("split (R̂ 1.40") && !warning.contains("good"), warning)
        r.lenses = [r.lenses[0]]
        XCTAssertFalse(r.lines.contains { $0.hasPrefix("warning:") })
    }

    /// Lenses whose α conditionals are narrower than two grid steps are named in a warning; kernel lenses never are.
    func testCoarseConditionalsAreReported() {
        var r = InferReport()
        r.lenses = [.init(id: "wide", divergences: 0, rHatAlpha: 1.01, essAlpha: 40, importanceESS: 20, conditionalWidth: 0.05, conditionalStep: 0.01),
                    .init(id: "narrow", divergences: 0, rHatAlpha: 1.01, essAlpha: 40, importanceESS: 20, conditionalWidth: 0.015, conditionalStep: 0.01),
                    .init(id: "none", divergences: 0, rHatAlpha: 1.01, essAlpha: 40, importanceESS: 20, conditionalWidth: nil, conditionalStep: 0.01),
                    .init(id: "kernel", divergences: 0, rHatAlpha: 1.01, essAlpha: 40, importanceESS: 20)]
        XCTAssertEqual(r.coarseConditionals.map(\.id), ["narrow", "none"])
        let warning = r.lines.first { $0.contains("conditional_alpha_step") } ?? ""
        XCTAssertTrue(warning.contains("2 of 4") && warning.contains("narrow (width 0.0150") && !warning.contains("wide"), warning)
    }

    /// The Monte Carlo variance of ln p(η | data) is printed with its largest lenses, and a warning names the cure
    /// when it is above 1; not when below.
    func testMonteCarloVarianceIsReportedAndWarnedAboveOne() {
        var r = InferReport()
        func lens(_ id: String, _ variance: Double?) -> InferReport.Lens {
            .init(id: id, divergences: 0, rHatAlpha: 1.01, essAlpha: 40, importanceESS: 20, monteCarloVariance: variance)
        }
        r.lenses = [lens("a", 0.2), lens("b", 0.9), lens("c", nil), lens("d", 0.05)]
        XCTAssertEqual(r.monteCarloVariance ?? 0, 1.15, accuracy: 1e-12)
        let line = r.lines.first { $0.hasPrefix("Monte Carlo variance") } ?? ""
        XCTAssertTrue(line.contains("1.15") && line.contains("b 0.900, a 0.200, d 0.050"), line)
        XCTAssertTrue(r.lines.contains { $0.hasPrefix("warning:") && $0.contains("raise refine_rounds") })
        r.lenses = [lens("a", 0.2), lens("d", 0.05)]
        XCTAssertFalse(r.lines.contains { $0.contains("raise refine_rounds") })
        r.lenses = [lens("c", nil)]
        XCTAssertNil(r.monteCarloVariance)
        XCTAssertFalse(r.lines.contains { $0.hasPrefix("Monte Carlo variance") })
    }

    /// Refinement picks poorly mixed lenses, lenses with no finite Monte Carlo variance, and the lenses with the
    /// largest variance until they hold twice the excess over the target (another chain halves a lens's variance) or
    /// 80% of the whole; nothing else at or below the target.
    func testRefinementPicksTheLensesCarryingTheExcess() {
        XCTAssertEqual(InferStages.refinementPicks(variances: [0.1, 0.2, 0.1], target: 0.5), [])
        // V = 1.2, target 0.5: 2(V − 0.5) = 1.4 is more than V, so 80% of V (0.96): the 0.6 and the 0.5, not the 0.1.
        XCTAssertEqual(InferStages.refinementPicks(variances: [0.1, 0.6, 0, 0.5], target: 0.5), [1, 3])
        // V = 1.0, target 0.8: hold 0.4: the 0.3 and then the 0.2.
        XCTAssertEqual(InferStages.refinementPicks(variances: [0.1, 0.3, 0.2, 0.15, 0.25], target: 0.8), [1, 4])
        XCTAssertEqual(InferStages.refinementPicks(variances: [0.01, .infinity, 0.02], target: 0.5), [1])
        // Poorly mixed lenses always, first; they count towards the excess.
        XCTAssertEqual(InferStages.refinementPicks(variances: [0.1, 0.2, 0.1], target: 0.5, poorlyMixed: [2]), [2])
        XCTAssertEqual(InferStages.refinementPicks(variances: [0.1, 0.3, 0.2, 0.15, 0.25], target: 0.8, poorlyMixed: [2]), [2, 1])
    }

    /// A refinement chain's samples are appended: draws and kept conditionals concatenated, divergences summed,
    /// R̂ over the two chains (two chains at different α give a large R̂).
    func testMergedLensSamplesConcatenateTheChains() {
        func samples(alpha: Double, count: Int, divergences: Int) -> InferStages.LensSamples {
            let draws = (0..<count).map { j in [13.0, 0, 0, 0, 0, 2, alpha + 0.01 * sin(Double(j))] }
            let conditional = AlphaConditional(alphaStart: 0.8, alphaStep: 0.1, gridCount: 3, draws: draws, samplingDraws: draws,
                                               slope: [Double](repeating: 0, count: 7),
                                               logConditional: draws.map { _ in [0, 0, nil] }, logHaloMass: draws.map { _ in [13, 13, nil] })
            return InferStages.LensSamples(index: 0, id: "l", logMsps: 11.4, start: draws[0], draws: draws, logInterim: -1, stepSize: 0.1,
                                           divergences: divergences, meanAcceptStat: 0.8, rHatAlpha: 1.0, rHatLogHaloMass: nil, essAlpha: 50,
                                           alphaConditional: conditional)
        }
        let m = InferStages.merged(samples(alpha: 1.0, count: 40, divergences: 3), samples(alpha: 1.3, count: 40, divergences: 4))
        XCTAssertEqual(m.draws.count, 80)
        XCTAssertEqual(m.divergences, 7)
        XCTAssertEqual(m.alphaConditional?.draws.count, 80)
        XCTAssertEqual(m.alphaConditional?.logConditional.count, 80)
        XCTAssertEqual(m.alphaConditional?.samplingDraws.count, 80)
        XCTAssertEqual(m.start, samples(alpha: 1.0, count: 1, divergences: 0).start)
        XCTAssertGreaterThan(m.rHatAlpha ?? 0, 2, "two chains apart in α")
        // A third chain (a second round) joins as a third piece, not as the tail of one long first chain: with the
        // third at the first's α, R̂ stays large (the second chain still disagrees) and the ESS counts three chains.
        let third = InferStages.merged(m, samples(alpha: 1.0, count: 40, divergences: 0))
        XCTAssertEqual(third.draws.count, 120)
        XCTAssertGreaterThan(third.rHatAlpha ?? 0, 1.5, "the middle chain still disagrees")
    }

    /// Lenses whose α slices end inside α_sps's 95% range are named (the case of recovery mock 9017: α_sps 1.144
    /// [1.099, 1.163], one lens's slices ending at 1.17); lenses reaching past both ends, and kernel lenses, are not.
    func testLensesCuttingTheAlphaPosteriorAreReported() {
        var r = InferReport()
        r.parameters = [.init(name: "alpha_sps", median: 1.144, lower68: 1.099, upper68: 1.163, rHat: 1.0, ess: 1000, truth: 1.2,
                              covered: false, modes: ModeReport.find([[1.14, 1.15]]), chainMeans: [1.144])]
        func lens(_ id: String, _ support: [Double]?) -> InferReport.Lens {
            .init(id: id, divergences: 0, rHatAlpha: 1.01, essAlpha: 40, importanceESS: 20, supportedAlpha: support)
        }
        r.lenses = [lens("wide", [0.7, 1.7]), lens("cut-above", [0.85, 1.17]), lens("cut-below", [1.1, 1.6]),
                    lens("kernel", nil), lens("edge", [0.9, 1.19])]
        XCTAssertEqual(r.alpha95?.lowerBound ?? 0, 1.054, accuracy: 1e-9)
        XCTAssertEqual(r.alpha95?.upperBound ?? 0, 1.182, accuracy: 1e-9)
        XCTAssertEqual(r.lensesCuttingAlpha.map(\.id), ["cut-above", "cut-below"])
        let warning = r.lines.first { $0.contains("95% range") } ?? ""
        XCTAssertTrue(warning.contains("2 of 5") && warning.contains("cut-above (α 0.85–1.17)") && !warning.contains("wide"), warning)
        r.lenses = [lens("wide", [0.7, 1.7])]
        XCTAssertFalse(r.lines.contains { $0.contains("95% range") })
    }

    /// A configuration with `edit` applied is refused by `validate`, naming every one of `words` (the key and value).
    func assertRefused(_ edit: (inout InferConfiguration) -> Void, naming words: [String], line: UInt = #line) {
        var c = InferConfiguration()
        c.table = Self.table
        edit(&c)
        XCTAssertThrowsError(try c.validate(), line: line) { error in
            XCTAssertTrue(words.allSatisfy { "\(error)".contains($0) }, "\(error)", line: line)
        }
    }

    /// The keys with a choice of words: `lens_coordinates` (enclosed_mass by default, halo_mass) and `alpha_marginal`
    /// (conditional by default, kernel): the other choice is accepted, anything else refused naming the key and the
    /// value; the conditional grid's step and kept draws must be positive.
    func testChoiceKeys() throws {
        let keys: [(WritableKeyPath<InferConfiguration, String>, String, String, String, InferConfiguration.Key)] = [
            (\.lensCoordinates, "enclosed_mass", "halo_mass", "lens_coordinates", .lensCoordinates),
            (\.alphaMarginal, "conditional", "kernel", "alpha_marginal", .alphaMarginal)]
        for (path, byDefault, other, name, key) in keys {
            var c = InferConfiguration()
            c.table = Self.table
            XCTAssertEqual(c[keyPath: path], byDefault)
            c[keyPath: path] = other
            XCTAssertNoThrow(try c.validate(), name)
            assertRefused({ $0[keyPath: path] = "einstein" }, naming: [name, "einstein"])
            XCTAssertTrue(InferConfiguration.describe(key).contains(byDefault) && InferConfiguration.describe(key).contains(other), name)
        }
        assertRefused({ $0.conditionalAlphaStep = 0 }, naming: ["conditional_alpha_step"])
        assertRefused({ $0.conditionalDraws = 0 }, naming: ["conditional_draws"])
        assertRefused({ $0.refineRounds = -1 }, naming: ["refine_rounds", "-1"])
        assertRefused({ $0.monteCarloTarget = 0 }, naming: ["monte_carlo_target"])
        assertRefused({ $0.monteCarloTarget = .nan }, naming: ["monte_carlo_target"])
    }

    /// The rule that makes `InferStages.sampleLens` sample a lens again: α's standard deviation over the draws under
    /// 0.5% of the interim box (the stuck recovery chain had 1.3e-4, the narrowest healthy one 0.021 of a box of 1).
    func testAChainThatNeverMovedInAlphaIsStuck() {
        func samples(_ alphas: [Double]) -> InferStages.LensSamples {
            InferStages.LensSamples(index: 0, id: "lens-11", logMsps: 11.4, start: [13.7, 0, 0, 0, 0, 2, alphas[0]],
                                    draws: alphas.map { [13.7, 0, 0, 0, 0, 2, $0] }, logInterim: 0, stepSize: 0.03, divergences: 351,
                                    meanAcceptStat: 0.8, rHatAlpha: nil, rHatLogHaloMass: nil, essAlpha: nil)
        }
        let box = 0.7...1.7
        let pinned = (0..<400).map { 0.7242 + 1e-4 * sin(Double($0)) }
        XCTAssertTrue(samples(pinned).isStuck(alphaRange: box))
        let narrow = (0..<400).map { 1.1 + 0.03 * sin(Double($0)) }  // sd 0.021
        XCTAssertFalse(samples(narrow).isStuck(alphaRange: box))
        XCTAssertTrue(samples(narrow).isStuck(alphaRange: 0.0...10.0), "the rule scales with the box")
        XCTAssertFalse(samples([1.0]).isStuck(alphaRange: box), "one draw has no spread to judge")
        // A refinement round's merge keeps the record of the replaced chain.
        var replaced = samples(narrow)
        replaced.abandonedStart = [13.7, 0, 0, 0, 0, 2, 0.7242]
        XCTAssertEqual(InferStages.merged(replaced, samples(narrow)).abandonedStart?[6], 0.7242)
        XCTAssertEqual(InferStages.merged(samples(narrow), replaced).abandonedStart?[6], 0.7242)
    }

    /// A stage-1 result saved without α conditionals (a kernel run's) is refused by a conditional stage 2, naming
    /// the lens.
    func testLensWithoutConditionalsIsRefusedByAConditionalStageTwo() throws {
        var c = InferConfiguration()
        c.table = Self.table
        let samples = InferStages.LensSamples(index: 0, id: "lens-7", logMsps: 11.3, start: [13, 0, 0, 0, 0, 1, 1.2],
                                              draws: [[13, 0, 0, 0, 0, 1, 1.2]], logInterim: 0, stepSize: 0.1, divergences: 0,
                                              meanAcceptStat: 0.8, rHatAlpha: nil, rHatLogHaloMass: nil, essAlpha: nil)
        XCTAssertThrowsError(try InferStages.population([samples], selection: nil, c: c)) { error in
            XCTAssertTrue("\(error)".contains("lens-7") && "\(error)".contains("alpha_marginal"), "\(error)")
        }
        c.alphaMarginal = "kernel"
        XCTAssertNoThrow(try InferStages.population([samples], selection: nil, c: c))
    }

    /// A selection file made for another survey, other fixed hyperparameters or another cosmology is refused by
    /// infer, naming what differs; one made with matching settings is taken.
    func testSelectionFileOfAnotherExperimentIsRefused() throws {
        let selection = try InterpolatedSelection(version: "1", nodes: [[1.0, 1.2, 12.6, 0.1], [1.4, 1.7, 13.2, 0.2],
                                                                        [1.2, 1.5, 13.0, 0.15], [1.1, 1.3, 12.8, 0.22],
                                                                        [1.3, 1.6, 12.7, 0.12], [1.45, 1.25, 13.3, 0.09]],
                                                  selected: [300, 200, 250, 260, 240, 280], draws: 400,
                                                  lower: [1.0, 1.2, 12.6, 0.08], upper: [1.5, 1.8, 13.4, 0.25], toleranceFactor: 3)
        func record(_ edit: (inout LensPopulationConfiguration) -> Void) throws -> SelectionTableFile.Record {
            var built = LensPopulationConfiguration()
            edit(&built)
            let json = String(decoding: try JSONEncoder().encode(built), as: UTF8.self)
            return SelectionTableFile.Record(selection: selection, rounds: [0], seconds: [1], ranks: [0], magnificationTableVersion: "t",
                                             magnificationTable: "table.h5", simId: "s", gitCommit: "g", seed: 1, maxPoints: 6,
                                             stopReason: "converged", configurationJSON: json)
        }
        let c = InferConfiguration()
        XCTAssertNoThrow(try InferRunner.checkSelectionRecipe(try record { _ in }, c, path: "selection.h5"))
        XCTAssertThrowsError(try InferRunner.checkSelectionRecipe(try record { $0.shearSigma = 0.07 }, c, path: "selection.h5")) {
            XCTAssertTrue("\($0)".contains("selection.h5") && "\($0)".contains("survey settings"), "\($0)")
        }
        XCTAssertThrowsError(try InferRunner.checkSelectionRecipe(try record { $0.h0 = 67 }, c, path: "selection.h5")) {
            XCTAssertTrue("\($0)".contains("cosmology"), "\($0)")
        }
        XCTAssertThrowsError(try InferRunner.checkSelectionRecipe(try record { $0.sizeSlope = 0.8 }, c, path: "selection.h5")) {
            XCTAssertTrue("\($0)".contains("fixed hyperparameters"), "\($0)")
        }
        // The inferred four may differ (they are what the file spans).
        XCTAssertNoThrow(try InferRunner.checkSelectionRecipe(try record { $0.alphaSps = 1.4 }, c, path: "selection.h5"))
        // interim_alpha is checked against the file's α range (1.0…1.5 ± 3h), not against the unused selection_axes.
        var narrow = c
        narrow.interimAlpha = [0.9, 1.6]
        XCTAssertThrowsError(try InferRunner.checkSelectionRecipe(try record { _ in }, narrow, path: "selection.h5")) {
            XCTAssertTrue("\($0)".contains("interim_alpha") && "\($0)".contains("selection.h5"), "\($0)")
        }
        var withFile = c
        withFile.table = Self.table
        withFile.selectionFile = "selection.h5"
        withFile.selectionAxes = [[0.8, 2.0], [1.0, 2.0], [12.6, 13.4], [0.05, 0.3]]
        withFile.interimAlpha = [0.7, 1.7]
        XCTAssertNoThrow(try withFile.validate(), "the unused axes' α range is not checked with a selection file")
        XCTAssertNoThrow(try InferRunner.checkSelectionRecipe(try record { _ in }, withFile, path: "selection.h5"))
        withFile.selectionFile = ""
        XCTAssertThrowsError(try withFile.validate()) { XCTAssertTrue("\($0)".contains("interim_alpha"), "\($0)") }
    }
}
