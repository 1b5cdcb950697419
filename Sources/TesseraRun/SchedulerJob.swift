import Foundation

/// The batch-scheduler job a run was started in, as `metadata.json` records it: a result found
/// months later names the job (and array task) whose log tells the rest of the story.
///
/// Read from SLURM's environment (`SLURM_JOB_ID`, `SLURM_ARRAY_JOB_ID`, `SLURM_ARRAY_TASK_ID`,
/// `SLURM_JOB_NAME`, `SLURM_JOB_PARTITION`, `SLURM_JOB_NODELIST`), which `sbatch` and `srun` set
/// for every process of the job, including those `mpirun` starts inside the allocation.
public struct SchedulerJob: Codable, Sendable, Equatable {
    /// "slurm" (the only scheduler read so far).
    public var scheduler: String
    public var jobID: String
    /// For a job-array task: the array's job id and this task's index.
    public var arrayJobID: String?
    public var arrayTaskID: Int?
    public var name: String?
    public var partition: String?
    public var nodeList: String?

    /// The job described by `environment`, or nil outside a scheduler job.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> SchedulerJob? {
        guard let id = environment["SLURM_JOB_ID"], !id.isEmpty else { return nil }
        return SchedulerJob(scheduler: "slurm", jobID: id, arrayJobID: environment["SLURM_ARRAY_JOB_ID"],
                            arrayTaskID: environment["SLURM_ARRAY_TASK_ID"].flatMap { Int($0) },
                            name: environment["SLURM_JOB_NAME"], partition: environment["SLURM_JOB_PARTITION"],
                            nodeList: environment["SLURM_JOB_NODELIST"])
    }

    enum CodingKeys: String, CodingKey {
        case scheduler, jobID = "job_id", arrayJobID = "array_job_id", arrayTaskID = "array_task_id", name, partition
        case nodeList = "node_list"
    }
}
