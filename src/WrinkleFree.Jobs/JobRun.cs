namespace WrinkleFree.Jobs;

/// <summary>One job as handed to an <see cref="IJobInfrastructure"/>: what to run, where, and whom to tell.</summary>
public sealed record JobRun
{
    /// <summary>The job as stored when its controller started.</summary>
    public required JobRecord Job { get; init; }

    /// <summary>The parsed task.</summary>
    public required TaskSpec Spec { get; init; }

    /// <summary>Where it runs.</summary>
    public required JobPlacement Placement { get; init; }

    /// <summary>The task's command as the container runs it (<c>wf train ...</c> or a shell with the run: script).</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>The task's environment: its envs, the checkpoint variables, WF_JOB_ID and WF_JOB_NAME.</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    /// <summary>Where state changes, cancel requests and log lines go.</summary>
    public required IJobRunReporter Reporter { get; init; }
}
