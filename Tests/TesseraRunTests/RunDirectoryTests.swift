import Foundation
import XCTest
@testable import TesseraRun

final class RunDirectoryTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("runs-\(UUID().uuidString)").path

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func metadata(inputs: [InputFileRecord] = []) -> RunMetadata {
        RunMetadata(tesseraVersion: "0.1.0", command: "selftest", arguments: ["tessera", "selftest"],
                    executable: "/opt/tessera/bin/tessera", workingDirectory: "/data", gitCommit: "abc123", gitDirty: false,
                    gitSource: "working-tree", startTime: "2026-11-24T00:00:00.000Z", endTime: nil, status: .running,
                    error: nil, mpiSize: 4, hosts: ["n1", "n1", "n2", "n2"], seed: 7, inputs: inputs, tableVersion: "v3",
                    libraries: LibraryVersions(mpi: "Open MPI v4.1.4"))
    }

    func testCreatesParamsAndMetadataAndFinishes() throws {
        let path = root + "/run1"
        var config = ExampleConfig()
        config.seed = 7
        let run = try RunDirectory(creating: path, command: "selftest", configuration: config, metadata: metadata())
        XCTAssertEqual(try ConfigLoader.load(ExampleConfig.self, from: path + "/params.json"), config)
        XCTAssertEqual(try RunDirectory.readMetadata(of: path).status, .running)
        try run.finish()
        let done = try RunDirectory.readMetadata(of: path)
        XCTAssertEqual(done.status, .finished)
        XCTAssertNotNil(done.endTime)
        XCTAssertEqual(done.hosts, ["n1", "n1", "n2", "n2"])
        // snake_case keys for Python readers
        let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + "/metadata.json"))) as! [String: Any]
        for key in ["git_commit", "start_time", "end_time", "mpi_size", "hosts", "seed", "inputs", "tessera_version", "table_version"] {
            XCTAssertNotNil(raw[key], "metadata.json lacks \(key)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "/metadata.json.tmp"))
    }

    func testRefusesToOverwriteAFinishedRun() throws {
        let path = root + "/run2"
        _ = try RunDirectory(creating: path, command: "selftest", configuration: ExampleConfig(), metadata: metadata())
        let before = try Data(contentsOf: URL(fileURLWithPath: path + "/metadata.json"))
        XCTAssertThrowsError(try RunDirectory(creating: path, command: "selftest", configuration: ExampleConfig(),
                                              metadata: metadata())) { error in
            XCTAssertEqual(error as? RunDirectoryError, .notEmpty(path: path))
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path + "/metadata.json")), before)
        var later = metadata()
        later.startTime = "2026-11-25T00:00:00.000Z"
        later.mpiSize = 8
        let resumed = try RunDirectory(creating: path, command: "selftest", configuration: ExampleConfig(),
                                       metadata: later, resume: true)
        XCTAssertEqual(resumed.metadata.startTime, "2026-11-24T00:00:00.000Z", "the original start is kept")
        XCTAssertEqual(resumed.metadata.resumed, ["2026-11-25T00:00:00.000Z"])
        XCTAssertEqual(try RunDirectory.readMetadata(of: path).mpiSize, 8)
        XCTAssertThrowsError(try RunDirectory(creating: root + "/never", command: "selftest", configuration: ExampleConfig(),
                                              metadata: metadata(), resume: true)) { error in
            XCTAssertEqual(error as? RunDirectoryError, .notARunDirectory(path: root + "/never", missing: "metadata.json"))
        }
    }

    func testFailureIsRecorded() throws {
        let run = try RunDirectory(creating: root + "/run3", command: "selftest", configuration: ExampleConfig(), metadata: metadata())
        struct Boom: Error, CustomStringConvertible { var description: String { "rank 2 died" } }
        try run.finish(error: Boom())
        let m = try RunDirectory.readMetadata(of: root + "/run3")
        XCTAssertEqual(m.status, .failed)
        XCTAssertEqual(m.error, "rank 2 died")
    }

    func testInputRecordsHashFiles() throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let file = root + "/catalog.fits"
        try Data("abc".utf8).write(to: URL(fileURLWithPath: file))
        let record = try InputFileRecord.describe(file, version: "v2")
        XCTAssertEqual(record.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(record.bytes, 3)
        XCTAssertEqual(record.version, "v2")
        XCTAssertThrowsError(try InputFileRecord.describe(root + "/missing.fits")) { error in
            XCTAssertTrue("\(error)".contains("missing.fits"), "\(error)")
        }
    }

    func testReproductionPlan() throws {
        let path = root + "/run4"
        _ = try RunDirectory(creating: path, command: "selftest", configuration: ExampleConfig(), metadata: metadata())
        let plan = try Reproduction.plan(runDirectory: path, current: SourceVersion(commit: "def456", dirty: false, source: "working-tree"))
        XCTAssertEqual(plan.fullCommand, ["mpirun", "-np", "4", "/opt/tessera/bin/tessera", "selftest",
                                          "--config", path + "/params.json", "--out", path + "-rerun"])
        XCTAssertEqual(plan.workingDirectory, "/data")
        XCTAssertTrue(plan.notes.contains { $0.contains("git checkout abc123") }, "\(plan.notes)")
        let same = try Reproduction.plan(runDirectory: path, output: root + "/again",
                                         current: SourceVersion(commit: "abc123", dirty: false, source: "working-tree"))
        XCTAssertFalse(same.notes.contains { $0.contains("git checkout") })
        XCTAssertEqual(same.command.last, root + "/again")
        XCTAssertThrowsError(try Reproduction.plan(runDirectory: root + "/nothing")) { error in
            XCTAssertTrue("\(error)".contains("not a Tessera run directory"), "\(error)")
        }
        XCTAssertEqual(Reproduction.shellQuote("a b'c"), "'a b'\\''c'")
        XCTAssertEqual(Reproduction.shellQuote("/x/params.json"), "/x/params.json")
    }

    func testMalformedMetadataNamesFileAndField() throws {
        let path = root + "/run5"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Data("{\"command\": \"selftest\"}".utf8).write(to: URL(fileURLWithPath: path + "/metadata.json"))
        XCTAssertThrowsError(try RunDirectory.readMetadata(of: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix(path + "/metadata.json: field '"), "\(error)")
        }
    }

    func testSourceVersionFromEnvironmentOrWorkingTree() {
        // The test binary lives inside this repository's .build, so the working tree is found.
        let version = SourceVersion.detect(executablePath: RunPaths.resolvedExecutable(CommandLine.arguments[0]))
        if ProcessInfo.processInfo.environment["TESSERA_GIT_COMMIT"] == nil {
            XCTAssertEqual(version.source, "working-tree")
            XCTAssertEqual(version.commit?.count, 40)
        }
        XCTAssertNil(SourceVersion.gitRoot(containing: "/"))
    }
}

/// metadata.json names the SLURM job (and array task) a run was started in.
final class SchedulerJobTests: XCTestCase {
    func testSlurmArrayTaskIsRecorded() throws {
        let env = ["SLURM_JOB_ID": "4242", "SLURM_ARRAY_JOB_ID": "4240", "SLURM_ARRAY_TASK_ID": "2",
                   "SLURM_JOB_NAME": "tessera-chunk", "SLURM_JOB_PARTITION": "debug", "SLURM_JOB_NODELIST": "node[01-02]"]
        let job = try XCTUnwrap(SchedulerJob.fromEnvironment(env))
        XCTAssertEqual(job, SchedulerJob(scheduler: "slurm", jobID: "4242", arrayJobID: "4240", arrayTaskID: 2,
                                         name: "tessera-chunk", partition: "debug", nodeList: "node[01-02]"))
        let json = String(decoding: try JSONEncoder().encode(job), as: UTF8.self)
        XCTAssertTrue(json.contains("\"array_task_id\":2") && json.contains("\"job_id\":\"4242\""), json)
        XCTAssertNil(SchedulerJob.fromEnvironment(["PATH": "/bin"]), "no job outside SLURM")
        XCTAssertNil(SchedulerJob.fromEnvironment(["SLURM_JOB_ID": ""]))
    }
}
