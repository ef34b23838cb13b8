namespace WrinkleFree.Jobs;

/// <summary>A managed job's state, as SkyPilot names them (<see cref="JobStatusNames"/> gives the SCREAMING_CASE names).</summary>
public enum JobStatus
{
    /// <summary>Submitted; the controller has not started yet.</summary>
    Pending,

    /// <summary>The controller checks resources and runs setup.</summary>
    Starting,

    /// <summary>The task runs.</summary>
    Running,

    /// <summary>The task died; it is being relaunched (it resumes from its checkpoints on its own).</summary>
    Recovering,

    /// <summary>Cancel requested; the task is being stopped.</summary>
    Cancelling,

    /// <summary>The task exited 0.</summary>
    Succeeded,

    /// <summary>Cancelled by the user.</summary>
    Cancelled,

    /// <summary>The task failed: a configuration error, out of memory, or more crashes than max_restarts_on_errors allows.</summary>
    Failed,

    /// <summary>The setup commands failed.</summary>
    FailedSetup,

    /// <summary>The task could not start (its workdir is missing, its command cannot run).</summary>
    FailedPrechecks,

    /// <summary>This machine lacks the cpus, memory or accelerators the task asks for.</summary>
    FailedNoResource,

    /// <summary>The job's controller process died while the job was live.</summary>
    FailedController,
}
