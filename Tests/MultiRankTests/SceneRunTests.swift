import Astrometry
import Foundation
import TesseraFITS
import TesseraHDF5
import XCTest

/// End-to-end scene fitting through the `tessera` binary: mock-scene → preprocess → sample, on
/// one process and under `mpirun -np 4`, with kill/resume and reproducibility checks. Truth
/// recovery is judged as the issues ask: the fraction of true values inside the chains' 68%
/// credible intervals must lie in 0.5–0.85.
final class SceneRunTests: XCTestCase {
    struct Scene {
        let dir: String
        let config: String
        let truth: String
    }

    /// Mock scene, pixel store, an optimisation run and a sampling configuration in a fresh directory.
    func makeScene(sources: Int, imageSize: Int, exposures: Int, seed: Int, target: Int = 200, draws: Int = 100,
                   optimizeRanks: Int? = nil, extraConfig: String = "", extraMock: String = "") throws -> Scene {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scene-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try """
        count: \(sources)
        seed: \(seed)
        image_size: \(imageSize)
        exposures_per_band: \(exposures)
        \(extraMock)
        """.write(toFile: dir + "/mock.yaml", atomically: true, encoding: .utf8)
        let mock = try Launcher.run(["mock-scene", "--config", dir + "/mock.yaml", "--out", dir + "/mock"])
        XCTAssertEqual(mock.status, 0, mock.stderr)
        let images = try FileManager.default.contentsOfDirectory(atPath: dir + "/mock/images").sorted().map { dir + "/mock/images/" + $0 }
        let pre = try Launcher.run(["preprocess"] + images + ["--out", dir + "/pixels.h5"])
        XCTAssertEqual(pre.status, 0, pre.stderr)
        // Optimise from the perturbed starting catalog, then sample from the optimum (the
        // forcepho recipe: neighbours held fixed during sampling start near their best values).
        for (name, catalog) in [("optimize", dir + "/mock/initial.fits"), ("sample", dir + "/optimize/catalog.fits")] {
            try """
            catalog: \(catalog)
            pixel_store: \(dir)/pixels.h5
            psf_store: \(dir)/mock/psf.h5
            bands: [F150W, F200W]
            target_iterations: \(target)
            draws_per_patch: \(draws)
            warmup: 100
            max_tree_depth: 6
            roi: 1.0
            active_radius: 0.5
            fixed_radius: 1.5
            max_active: 4
            rhalf_range: [0.03, 0.6]
            sersic_range: [0.8, 5]
            seed: \(seed)
            passes: {min: 1, max: 1, fluxes_first: false}
            \(extraConfig)
            """.write(toFile: dir + "/\(name).yaml", atomically: true, encoding: .utf8)
        }
        let opt = try Launcher.run(["optimize", "--config", dir + "/optimize.yaml", "--out", dir + "/optimize"], ranks: optimizeRanks)
        XCTAssertEqual(opt.status, 0, opt.stderr + opt.stdout)
        return Scene(dir: dir, config: dir + "/sample.yaml", truth: dir + "/mock/truth.fits")
    }

    struct Coverage {
        var flux = (inside: 0, total: 0)
        var position = (inside: 0, total: 0)
        var fluxFraction: Double { Double(flux.inside) / Double(max(flux.total, 1)) }
        var positionFraction: Double { Double(position.inside) / Double(max(position.total, 1)) }
    }

    /// Fraction of true fluxes and positions inside the 16th–84th percentile of each source's chain.
    func coverage(run: String, truth: String, bands: [String] = ["F150W", "F200W"]) throws -> Coverage {
        let fits = try FITSFile(path: truth)
        let ids = try fits.readColumn("id", as: Int64.self, hdu: 1)
        let ra = try fits.readColumn("ra", as: Double.self, hdu: 1), dec = try fits.readColumn("dec", as: Double.self, hdu: 1)
        let fluxes = try bands.map { try fits.readColumn($0, as: Double.self, hdu: 1) }
        try fits.close()
        let h5 = try HDF5File.open(run + "/results.h5")
        defer { try? h5.close() }
        var c = Coverage()
        for (i, id) in ids.enumerated() {
            let chain = try h5.read(Double.self, from: "/chains/\(id)")
            let names = try h5.attribute("parameters", of: "/chains/\(id)").stringValue!.split(separator: ",").map(String.init)
            func inside(_ name: String, _ truth: Double) -> Bool {
                let j = names.firstIndex(of: name)!
                let v = (0..<chain.shape[0]).map { chain.values[$0 * names.count + j] }.sorted()
                return v[Int(0.16 * Double(v.count))] <= truth && truth <= v[Int(0.84 * Double(v.count))]
            }
            for (b, band) in bands.enumerated() {
                c.flux.total += 1
                if inside(band, fluxes[b][i]) { c.flux.inside += 1 }
            }
            for (name, value) in [("ra", ra[i]), ("dec", dec[i])] {
                c.position.total += 1
                if inside(name, value) { c.position.inside += 1 }
            }
        }
        return c
    }

    /// Per source and band: (posterior median − truth) / half the 16th–84th percentile range.
    func fluxPulls(run: String, truth: String, bands: [String] = ["F150W", "F200W"]) throws -> [Double] {
        let fits = try FITSFile(path: truth)
        let ids = try fits.readColumn("id", as: Int64.self, hdu: 1)
        let fluxes = try bands.map { try fits.readColumn($0, as: Double.self, hdu: 1) }
        try fits.close()
        let h5 = try HDF5File.open(run + "/results.h5")
        defer { try? h5.close() }
        var pulls: [Double] = []
        for (i, id) in ids.enumerated() {
            let chain = try h5.read(Double.self, from: "/chains/\(id)")
            let names = try h5.attribute("parameters", of: "/chains/\(id)").stringValue!.split(separator: ",").map(String.init)
            for (b, band) in bands.enumerated() {
                let j = names.firstIndex(of: band)!
                let v = (0..<chain.shape[0]).map { chain.values[$0 * names.count + j] }.sorted()
                let lo = v[Int(0.16 * Double(v.count))], hi = v[Int(0.84 * Double(v.count))], mid = v[v.count / 2]
                pulls.append((mid - fluxes[b][i]) / (0.5 * (hi - lo)))
            }
        }
        return pulls
    }

    struct LogEvent {
        var event: String
        var patch: Int
        var active: [Int64]
        var fixed: [Int64]
    }

    func events(_ run: String) throws -> [LogEvent] {
        try String(contentsOfFile: run + "/patches.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            guard let e = o["event"] as? String, e != "resume" else { return nil }
            return LogEvent(event: e, patch: o["patch"] as! Int, active: (o["active"] as? [NSNumber])?.map(\.int64Value) ?? [],
                            fixed: (o["fixed"] as? [NSNumber])?.map(\.int64Value) ?? [])
        }
    }

    func state(_ run: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/state.json"))) as! [String: Any]
    }

    /// Issue 3: one process, 20 sources, 2 bands × 3 exposures, on four mock scenes (seeds 1, 2,
    /// 3, 11: 160 flux pulls), sampled with `sample`'s default shape coordinates (ellipticity).
    func testOneProcessSampleRecoversTruth() throws {
        var pulls: [Double] = []
        var c = Coverage()
        for seed in [1, 2, 3, 11] {
            let scene = try makeScene(sources: 20, imageSize: 64, exposures: 3, seed: seed, target: 100, draws: 100)
            let run = scene.dir + "/sample"
            let result = try Launcher.run(["sample", "--config", scene.config, "--out", run], timeout: 400)
            XCTAssertEqual(result.status, 0, result.stderr + result.stdout)
            let one = try coverage(run: run, truth: scene.truth)
            c.flux.inside += one.flux.inside; c.flux.total += one.flux.total
            c.position.inside += one.position.inside; c.position.total += one.position.total
            pulls += try fluxPulls(run: run, truth: scene.truth)
        }
        print("one-process sample: flux coverage \(c.flux.inside)/\(c.flux.total), position coverage \(c.position.inside)/\(c.position.total)")
        // Fluxes: the spread of the pulls (median − truth)/σ₆₈ is checked for calibration, and their
        // median for bias. Why four scenes: even a perfect sampler gives a 40-pull median a spread of
        // 1.25 × 1.3/√40 ≈ 0.26 from the data's noise alone, so one scene's median cannot tell a
        // bias of 0.5 from noise (measured 2026-12-06, per-seed medians −0.39 to +0.37 with the same
        // code; a one-scene test with a 0.45 bound failed at +0.46). Pooled over 160 pulls the
        // spread is ≈ 0.13. Measured on these scenes (2026-12-06, 100 draws per source): median
        // +0.01, width 1.31, coverage 90/160 in ellipticity coordinates; +0.04, 1.43, 85/160 in
        // q and pa; 200 draws: −0.02, 1.33, 90/160 and −0.00, 1.30, 90/160. On seed 11, before
        // issue 16's fixes (neighbours' light left out of the model, flat r_half prior), the
        // median was +0.57, width 0.99, coverage 18/40. The width bound is 1.5 because the pulls
        // are still ~1.3× too wide (issue 16, open).
        let median = pulls.sorted()[pulls.count / 2]
        let width = 1.4826 * pulls.map { abs($0 - median) }.sorted()[pulls.count / 2]
        print("one-process sample: flux pull median \(median), robust width \(width) over \(pulls.count) pulls")
        XCTAssertEqual(pulls.count, 160)
        XCTAssertTrue((0.75...1.5).contains(width), "flux pull width \(width)")
        XCTAssertLessThan(abs(median), 0.3, "flux pull median \(median)")
        XCTAssertTrue((0.5...0.85).contains(c.fluxFraction), "flux 68% coverage \(c.fluxFraction)")
        XCTAssertTrue((0.5...0.85).contains(c.positionFraction), "position 68% coverage \(c.positionFraction)")
    }

    /// Issue 4: rank-0 scene master and three workers on 60 sources with overlapping neighbours.
    func testFourRanksSixtySources() throws {
        let scene = try makeScene(sources: 60, imageSize: 96, exposures: 2, seed: 21, target: 100, draws: 100, optimizeRanks: 4)
        let run = scene.dir + "/sample"
        let result = try Launcher.run(["sample", "--config", scene.config, "--out", run], ranks: 4, timeout: 500)
        XCTAssertEqual(result.status, 0, result.stderr + result.stdout)

        // Every source reached its target.
        let st = try state(run)
        XCTAssertEqual((st["iterations"] as! [Int]).count, 60)
        XCTAssertTrue((st["iterations"] as! [Int]).allSatisfy { $0 == 100 }, "\(st["iterations"]!)")
        XCTAssertEqual((st["flagged"] as! [Int]).count, 0)

        // Regions out at the same time never shared a source (replaying the master's log).
        var out: [Int: LogEvent] = [:]
        var ranks = Set<Int>()
        var sawConcurrent = false
        for e in try events(run) {
            switch e.event {
            case "checkout":
                for (id, other) in out {
                    let a = Set(e.active), f = Set(e.fixed), oa = Set(other.active), of = Set(other.fixed)
                    XCTAssertTrue(a.isDisjoint(with: oa) && a.isDisjoint(with: of) && f.isDisjoint(with: oa),
                                  "patch \(e.patch) overlaps patch \(id), in flight at the same time")
                }
                if !out.isEmpty { sawConcurrent = true }
                out[e.patch] = e
            default:
                out[e.patch] = nil
            }
        }
        XCTAssertTrue(sawConcurrent, "with three workers some regions must have been out together")
        let h5 = try HDF5File.open(run + "/results.h5")
        let patchRanks = try h5.read(Int64.self, from: "/patches/rank").values
        for id in st["checkedIn"] as! [Int] { ranks.insert(Int(patchRanks[id])) }
        XCTAssertEqual(ranks, [1, 2, 3], "every worker rank fitted patches; rank 0 only coordinated")

        // The chains: one [target, parameters] dataset per source, named columns.
        for id in try h5.read(Int64.self, from: "/sources/id").values {
            let names = try h5.attribute("parameters", of: "/chains/\(id)").stringValue!.split(separator: ",")
            XCTAssertTrue(names.count == 4 || names.count == 8)
            XCTAssertEqual(try h5.dataset("/chains/\(id)").shape(), [100, names.count])
            let stats = try h5.read(Double.self, from: "/sampler/\(id)")
            XCTAssertEqual(stats.shape, [100, 7])
            for d in 0..<100 {
                let accept = stats.values[d * 7], depth = stats.values[d * 7 + 1], divergent = stats.values[d * 7 + 2]
                XCTAssertTrue((0...1).contains(accept) && (0...6).contains(depth) && (divergent == 0 || divergent == 1),
                              "source \(id) draw \(d): accept \(accept), depth \(depth), divergent \(divergent)")
                XCTAssertTrue(stats.values[d * 7 + 3].isFinite)
            }
        }
        try h5.close()

        let c = try coverage(run: run, truth: scene.truth)
        print("4-rank sample: flux coverage \(c.flux.inside)/\(c.flux.total), position coverage \(c.position.inside)/\(c.position.total)")
        XCTAssertTrue((0.5...0.85).contains(c.fluxFraction), "flux 68% coverage \(c.fluxFraction)")
        XCTAssertTrue((0.5...0.85).contains(c.positionFraction), "position 68% coverage \(c.positionFraction)")
    }

    /// Kill the whole job partway (SIGKILL), resume: no check-in lost or duplicated, state complete.
    func testKillAndResumeLosesNoCheckin() throws {
        let scene = try makeScene(sources: 24, imageSize: 64, exposures: 2, seed: 5, target: 200, draws: 100)
        let run = scene.dir + "/sample"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["mpirun", "-np", "4", "--oversubscribe", Launcher.tessera, "sample", "--config", scene.config, "--out", run]
        process.environment = Launcher.environment.merging(["TESSERA_TEST_WORK_DELAY": "0.3"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        func checkedIn() -> [Int] { ((try? state(run))?["checkedIn"] as? [Int]) ?? [] }
        let deadline = Date().addingTimeInterval(200)
        while checkedIn().count < 4 && process.isRunning && Date() < deadline { usleep(20_000) }
        // Between check-ins the results file is readable by another process while the job writes it:
        // the chains of checked-in sources are complete.
        let live = try state(run)
        let liveIterations = live["iterations"] as! [Int]
        let reader = try HDF5File.open(run + "/results.h5")
        let liveIDs = try reader.read(Int64.self, from: "/sources/id").values
        for (i, id) in liveIDs.enumerated() where liveIterations[i] > 0 {
            let chain = try reader.read(Double.self, from: "/chains/\(id)")
            let rows = chain.values.count / chain.shape[0] * liveIterations[i]
            XCTAssertFalse(chain.values.prefix(rows).contains(0), "source \(id): checked-in rows not on disk")
        }
        try reader.close()
        _ = try Launcher.runProcess(["pkill", "-9", "-f", run])
        process.waitUntilExit()
        let before = checkedIn()
        XCTAssertGreaterThanOrEqual(before.count, 4)
        // The killed job's results file is still a valid HDF5 file with the checked-in chains.
        let killed = try HDF5File.open(run + "/results.h5")
        XCTAssertEqual(try killed.read(Int64.self, from: "/sources/id").values.count, 24)
        try killed.close()
        XCTAssertTrue(((try state(run))["iterations"] as! [Int]).contains { $0 < 200 }, "the run finished before it could be killed")

        let resumed = try Launcher.run(["sample", "--resume", run], ranks: 4, timeout: 500)
        XCTAssertEqual(resumed.status, 0, resumed.stderr + resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("resuming"), resumed.stdout)
        let st = try state(run)
        let after = st["checkedIn"] as! [Int]
        XCTAssertEqual(Set(after).count, after.count, "a patch was checked in twice")
        XCTAssertTrue(Set(before).isSubset(of: Set(after)), "a check-in from before the kill was lost")
        XCTAssertTrue((st["iterations"] as! [Int]).allSatisfy { $0 == 200 })
        // Every source's iterations are exactly its checked-in patches' draws: nothing counted twice or dropped.
        let checkouts = Dictionary(try events(run).filter { $0.event == "checkout" }.map { ($0.patch, $0) }) { a, _ in
            XCTFail("patch \(a.patch) was checked out twice"); return a
        }
        var received: [Int64: Int] = [:]
        for p in after { for id in checkouts[p]!.active { received[id, default: 0] += 100 } }
        XCTAssertEqual(received.count, 24)
        XCTAssertTrue(received.values.allSatisfy { $0 == 200 }, "\(received)")
        let metadata = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/metadata.json"))) as! [String: Any]
        XCTAssertEqual(metadata["status"] as? String, "finished")
        // The file is complete and readable: every chain row written.
        let h5 = try HDF5File.open(run + "/results.h5")
        for id in try h5.read(Int64.self, from: "/sources/id").values {
            let v = try h5.read(Double.self, from: "/chains/\(id)").values
            XCTAssertFalse(v.contains(0), "source \(id) has unwritten chain rows")
        }
        try h5.close()
    }

    /// One worker and a fixed seed: two runs give bit-identical chains and final state.
    func testOneWorkerRunsAreBitIdentical() throws {
        let scene = try makeScene(sources: 10, imageSize: 48, exposures: 2, seed: 8, target: 100, draws: 100)
        for name in ["a", "b"] {
            let r = try Launcher.run(["sample", "--config", scene.config, "--out", scene.dir + "/" + name], ranks: 2, timeout: 300)
            XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        }
        let a = try state(scene.dir + "/a"), b = try state(scene.dir + "/b")
        XCTAssertEqual(try JSONSerialization.data(withJSONObject: a["sources"]!, options: .sortedKeys),
                       try JSONSerialization.data(withJSONObject: b["sources"]!, options: .sortedKeys))
        let ha = try HDF5File.open(scene.dir + "/a/results.h5"), hb = try HDF5File.open(scene.dir + "/b/results.h5")
        for id in try ha.read(Int64.self, from: "/sources/id").values {
            let va = try ha.read(Double.self, from: "/chains/\(id)").values, vb = try hb.read(Double.self, from: "/chains/\(id)").values
            XCTAssertEqual(va.map(\.bitPattern), vb.map(\.bitPattern), "chain of source \(id) differs")
        }
        try ha.close(); try hb.close()
    }

    /// The output catalog flags exactly source `flagged`, which got no iteration; every other source got one.
    func assertOnlyFlagged(_ flaggedID: Int64, catalog: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try FITSFile(path: catalog)
        let ids = try result.readColumn("id", as: Int64.self, hdu: 1)
        let flagged = try result.readColumn("flagged", as: Bool.self, hdu: 1)
        let flags = try result.readColumn("flags", as: Int64.self, hdu: 1)
        let iterations = try result.readColumn("n_iter", as: Int64.self, hdu: 1)
        try result.close()
        for (i, id) in ids.enumerated() {
            XCTAssertEqual(flagged[i], id == flaggedID, "source \(id) flag", file: file, line: line)
            XCTAssertEqual(flags[i] & 1, id == flaggedID ? 1 : 0, "source \(id) flags bit 0", file: file, line: line)
            XCTAssertEqual(iterations[i], id == flaggedID ? 0 : 1, "source \(id) iterations", file: file, line: line)
        }
    }

    /// A catalog source outside every exposure is a logged skip: flagged in the output catalog, never fitted.
    func testSourceOutsideEveryImageIsFlaggedAndSkipped() throws {
        let scene = try makeScene(sources: 5, imageSize: 40, exposures: 1, seed: 3, target: 100, draws: 100)
        let input = try FITSFile(path: scene.dir + "/mock/initial.fits")
        var columns: [FITSColumn] = []
        for name in try input.columnNames(hdu: 1) {
            var c = try input.readColumn(name, hdu: 1)
            switch c.data {
            case let .int64(v): c.data = .int64(v + [99])
            case let .bool(v): c.data = .bool(v + [false])
            case let .double(v): c.data = .double(v + [name == "ra" ? v[0] + 0.5 : v[0]])
            default: XCTFail("unexpected column \(name)")
            }
            columns.append(c)
        }
        try input.close()
        let catalog = scene.dir + "/with-outsider.fits"
        let out = try FITSFile(creatingAt: catalog, overwrite: true)
        _ = try out.appendTable(columns)
        try out.close()
        let config = try String(contentsOfFile: scene.dir + "/optimize.yaml", encoding: .utf8)
            .replacingOccurrences(of: scene.dir + "/mock/initial.fits", with: catalog)
        try config.write(toFile: scene.dir + "/outsider.yaml", atomically: true, encoding: .utf8)
        let r = try Launcher.run(["optimize", "--config", scene.dir + "/outsider.yaml", "--out", scene.dir + "/outsider"])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("source 99") && r.stdout.contains("outside every exposure"), r.stdout)
        try assertOnlyFlagged(99, catalog: scene.dir + "/outsider/catalog.fits")
    }

    /// A region whose fit keeps failing (here: every pixel of its source masked) goes back to the
    /// pool, is retried up to max_attempts, then its sources are flagged — and the run goes on.
    func testFailingRegionIsRetriedThenFlaggedAndTheRunGoesOn() throws {
        let scene = try makeScene(sources: 4, imageSize: 64, exposures: 1, seed: 4, target: 100, draws: 100,
                                  extraMock: "min_separation: 2.0")
        let truth = try FITSFile(path: scene.truth)
        let ra = try truth.readColumn("ra", as: Double.self, hdu: 1)[0], dec = try truth.readColumn("dec", as: Double.self, hdu: 1)[0]
        try truth.close()
        // Mask a disc of 1.5 arcsec (15 pixels) around source 1 in every exposure.
        let images = try FileManager.default.contentsOfDirectory(atPath: scene.dir + "/mock/images").sorted().map { scene.dir + "/mock/images/" + $0 }
        for path in images {
            let f = try FITSFile(path: path, mode: .readWrite)
            let wcs = try WCS(header: try f.readHeader(hdu: 1))
            let p = wcs.skyToPixel(ra: ra, dec: dec)
            let shape = try f.imageShape(hdu: 1)
            var mask = [Float](repeating: 0, count: shape[0] * shape[1])
            for y in 0..<shape[1] { for x in 0..<shape[0] where hypot(Double(x) - p.x, Double(y) - p.y) < 15 { mask[y * shape[0] + x] = 1 } }
            try f.appendImage(FITSImage(width: shape[0], height: shape[1], pixels: mask), extname: "MASK")
            try f.close()
        }
        let pre = try Launcher.run(["preprocess"] + images + ["--mask-hdu", "3", "--out", scene.dir + "/masked.h5"])
        XCTAssertEqual(pre.status, 0, pre.stderr)
        let config = try String(contentsOfFile: scene.dir + "/optimize.yaml", encoding: .utf8)
            .replacingOccurrences(of: scene.dir + "/pixels.h5", with: scene.dir + "/masked.h5") + "max_attempts: 2\n"
        try config.write(toFile: scene.dir + "/masked.yaml", atomically: true, encoding: .utf8)
        let r = try Launcher.run(["optimize", "--config", scene.dir + "/masked.yaml", "--out", scene.dir + "/masked"], ranks: 3)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertEqual(r.stdout.components(separatedBy: "failed: ").count - 1, 2, "two attempts, then given up:\n\(r.stdout)")
        XCTAssertTrue(r.stdout.contains("returned to the pool") && r.stdout.contains("sources flagged after 2 attempts"), r.stdout)
        try assertOnlyFlagged(1, catalog: scene.dir + "/masked/catalog.fits")
    }
}
