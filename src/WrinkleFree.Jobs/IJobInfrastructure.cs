namespace WrinkleFree.Jobs;

/// <summary>
/// Somewhere other than this machine that runs a managed job's attempts (Kubernetes). The host registers implementations in
/// <see cref="ManagedJobsOptions.Infrastructures"/>, so the jobs core carries no cluster SDK. The job's controller keeps
/// owning the job's state: it calls <see cref="RunAsync"/> once and records what the implementation reports.
/// </summary>
public interface IJobInfrastructure
{
    /// <summary>The <see cref="JobPlacement.Infra"/> name it serves.</summary>
    string Name { get; }

    /// <summary>
    /// Runs the job to its end, recovering attempts as <see cref="RecoverySpec"/> says (preemptions always recover; task
    /// failures count against max_restarts_on_errors), and stops it when <see cref="IJobRunReporter.CancelRequestedAsync"/> says so.
    /// </summary>
    Task<JobRunResult> RunAsync(JobRun run, CancellationToken cancellationToken);

    /// <summary>
    /// Removes what <paramref name="job"/> left running on this infrastructure after its controller died (the job is being
    /// marked FAILED_CONTROLLER or cancelled with nobody to do it): unsupervised work would go on costing money and writing
    /// checkpoints. Returns one line saying what was removed, what was not there, or why it could not be removed and what to
    /// run instead; it does not throw for an unreachable cluster.
    /// </summary>
    Task<string> AbandonAsync(JobRecord job, CancellationToken cancellationToken);
}
