import BatchRuns
import Foundation
import TesseraRun
import TesseraTestSupport
import XCTest

/// Chunking, seeds, scripts and the run configuration of a batch run: pure parts, no MPI.
final class BatchPlanTests: XCTestCase {
    func testChunksHoldWholeGroupsUpToTheSize() {
        let groups = [[0], [1, 2, 3], [4], [5, 6], [7, 8, 9, 10, 11], [12]]
        let plan = ChunkPlan(groups: groups, chunkSize: 4)
        XCTAssertEqual(plan.chunks, [[[0], [1, 2, 3]], [[4], [5, 6]], [[7, 8, 9, 10, 11]], [[12]]])
        XCTAssertEqual(plan.objectCount, 13)
        // Every object exactly once, and no group split.
        XCTAssertEqual(plan.chunks.flatMap { $0 }, groups)
        XCTAssertEqual(ChunkPlan(groups: groups, chunkSize: 100).chunks.count, 1)
        XCTAssertEqual(ChunkPlan(groups: groups, chunkSize: 1).chunks.count, groups.count)
    }

    func testGroupSeedsDependOnlyOnRunSeedTileAndFirstObject() {
        let a = BatchSeeds.group(runSeed: 7, tile: "t1", first: 12)
        XCTAssertEqual(a, BatchSeeds.group(runSeed: 7, tile: "t1", first: 12))
        XCTAssertNotEqual(a, BatchSeeds.group(runSeed: 8, tile: "t1", first: 12))
        XCTAssertNotEqual(a, BatchSeeds.group(runSeed: 7, tile: "t2", first: 12))
        XCTAssertNotEqual(a, BatchSeeds.group(runSeed: 7, tile: "t1", first: 13))
        XCTAssertNotEqual(a, BatchSeeds.chunk(runSeed: 7, tile: "t1", index: 12), "group and chunk streams differ")
        // A fixed value: the derivation is part of the run's reproducibility, so it must not drift.
        XCTAssertEqual(BatchSeeds.group(runSeed: 1, tile: "tile", first: 0), BatchSeeds.group(runSeed: 1, tile: "tile", first: 0))
    }

    func testTileNames() {
        XCTAssertEqual(BatchLayout.tileName(ofMEDS: "/data/DES0123-4567_r1p01_i_meds-Y6A1.fits.fz"), "DES0123-4567_r1p01_i_meds-Y6A1")
        XCTAssertEqual(BatchLayout.tileName(ofMEDS: "tiles/tile-meds.fits"), "tile")
        XCTAssertEqual(BatchLayout.tileName(ofMEDS: "a_meds.fits.fz"), "a")
        XCTAssertEqual(BatchLayout.chunkDirectory(tile: "a", index: 7), "a/chunk-0007")
    }

    func testScriptsAreRelativeAndCarryExtraCommands() {
        var c = BatchConfiguration()
        c.ranksPerChunk = 3
        c.slurmPartition = "debug"
        c.slurmTime = "00:30:00"
        let extra = ["module load openmpi", "source ~/env/bin/activate"]
        let array = BatchScripts.array(runName: "r", chunkCount: 4, config: c, extraCommands: extra)
        for needle in ["#SBATCH --ntasks=3", "#SBATCH --time=00:30:00", "#SBATCH --partition=debug", "--array=0-3",
                       "module load openmpi", "source ~/env/bin/activate", "chunks.txt", "#SBATCH --output=logs/%A_%a.log"] {
            XCTAssertTrue(array.contains(needle), "\(needle) missing from array.sbatch:\n\(array)")
        }
        XCTAssertFalse(array.contains("#SBATCH --account"), "no account line when none is set")
        var m = ChunkManifest()
        m.tile = "t"
        m.index = 2
        m.groups = [[1, 2], [5]]
        m.fofids = [0, 3]
        m.batch = c
        let run = BatchScripts.chunk(manifest: m, tessera: "/opt/it's/tessera", extraCommands: extra)
        XCTAssertTrue(run.contains("cd \"$(dirname \"$0\")\""), run)
        XCTAssertTrue(run.contains("TESSERA=${TESSERA:-'/opt/it'\\''s/tessera'}"), run)
        XCTAssertTrue(run.contains("RANKS=${RANKS:-${SLURM_NTASKS:-3}}"), run)
        XCTAssertTrue(run.contains("module load openmpi"), run)
        XCTAssertTrue(run.contains("batch chunk ."), run)
        let job = BatchScripts.chunkJob(manifest: m, extraCommands: [])
        XCTAssertTrue(job.contains("exec bash run.sh") && job.contains("#SBATCH --ntasks=3"), job)
        XCTAssertFalse(job.contains("extra_commands"))
    }

    func testConfigurationRejectsUnknownFitterAndKeys() throws {
        XCTAssertThrowsError(try ConfigLoader.parse(BatchConfiguration.self, yaml: "fitter: bdf\n", file: "run.yaml")) { e in
            XCTAssertTrue("\(e)".contains("fitter") && "\(e)".contains("max_likelihood, mof, nuts"), "\(e)")
        }
        XCTAssertThrowsError(try ConfigLoader.parse(BatchConfiguration.self, yaml: "chunksize: 10\n", file: "run.yaml")) { e in
            XCTAssertTrue("\(e)".contains("chunksize"), "\(e)")
        }
        XCTAssertThrowsError(try ConfigLoader.parse(BatchConfiguration.self, yaml: "fit: {max_pases: 3}\n", file: "run.yaml"))
        let c = try ConfigLoader.parse(BatchConfiguration.self, yaml: "fitter: nuts\nfit: {draws: 50, max_passes: 4, joint_start_max_members: 0, marginal_errors: false}\n", file: "run.yaml")
        XCTAssertEqual(c.fit.settings.jointStartMaxMembers, 0)
        XCTAssertFalse(c.fit.settings.marginalErrors)
        XCTAssertEqual(c.fitter, "nuts")
        XCTAssertEqual(c.fit.settings.draws, 50)
        XCTAssertEqual(c.fit.settings.maxPasses, 4)
        XCTAssertEqual(c.chunkSize, BatchConfiguration().chunkSize)
        // The resolved configuration round-trips through params.json.
        let json = try JSONEncoder().encode(c)
        XCTAssertEqual(try ConfigLoader.parse(BatchConfiguration.self, yaml: String(decoding: json, as: UTF8.self), file: "params.json"), c)
    }

    func testSetupRefusesAMissingTileBeforeWritingAnything() throws {
        let c = BatchConfiguration()
        XCTAssertThrowsError(try BatchSetup.plan(c, tiles: ["/nonexistent/tile-meds.fits"])) { e in
            XCTAssertEqual("\(e)", "/nonexistent/tile-meds.fits: tile MEDS file does not exist")
        }
        XCTAssertThrowsError(try BatchSetup.extraCommands("/nonexistent/extra.sh")) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/extra.sh") && "\(e)".contains("extra_commands"), "\(e)")
        }
    }
}

/// Joining chunk outputs: catalogs and sample files in MEDS row order, whatever the chunk order.
final class BatchJoinTests: XCTestCase {
    func testSampleFilesJoinInRowOrderAndRoundTrip() throws {
        let a = SampleFile(rows: [4, 9], columns: ["flux", "q"], drawCount: 2, draws: [40, 0.4, 41, 0.41, 90, 0.9, 91, 0.91])
        let b = SampleFile(rows: [1], columns: ["flux", "q"], drawCount: 2, draws: [10, 0.1, 11, 0.11])
        let joined = try SampleFile.joined([a, b], file: "t")
        XCTAssertEqual(joined.rows, [1, 4, 9])
        XCTAssertEqual(joined.draws, [10, 0.1, 11, 0.11, 40, 0.4, 41, 0.41, 90, 0.9, 91, 0.91])
        let dir = try makeTemporaryDirectory(prefix: "samples")
        let path = dir.path("s.h5")
        try joined.write(to: path)
        XCTAssertEqual(try SampleFile.read(path), joined)
        let c = SampleFile(rows: [2], columns: ["flux"], drawCount: 2, draws: [1, 2])
        XCTAssertThrowsError(try SampleFile.joined([a, c], file: "t")) { e in XCTAssertTrue("\(e)".contains("differ"), "\(e)") }
    }
}
