namespace WrinkleFree.Jobs;

/// <summary>
/// A managed-job task: SkyPilot's task keys (<c>name</c>, <c>resources</c>, <c>envs</c>, <c>workdir</c>, <c>setup</c>,
/// <c>run</c>) plus our <c>train:</c>, <c>checkpoint:</c> and <c>job_recovery:</c>. Exactly one of <see cref="Run"/> and
/// <see cref="Train"/> is set.
/// </summary>
public sealed record TaskSpec
{
    /// <summary>The job's name; null lets the launcher pick one.</summary>
    public string? Name { get; init; }

    /// <summary>What the job needs; checked against this machine before the job starts.</summary>
    public TaskResources Resources { get; init; } = new();

    /// <summary>Environment variables for setup and run.</summary>
    public IReadOnlyDictionary<string, string> Envs { get; init; } = new Dictionary<string, string>();

    /// <summary>Folder the task runs in; relative paths are relative to where <c>wf jobs launch</c> ran.</summary>
    public string? Workdir { get; init; }

    /// <summary>Shell commands run once before the first attempt.</summary>
    public string? Setup { get; init; }

    /// <summary>Shell commands that are the task (SkyPilot style).</summary>
    public string? Run { get; init; }

    /// <summary>A training stage run as <c>wf train STAGE --key value ...</c>.</summary>
    public TrainSpec? Train { get; init; }

    /// <summary>Where the trainer keeps checkpoints; passed to it as options (train) or environment variables (run).</summary>
    public CheckpointSpec? Checkpoint { get; init; }

    /// <summary>How failed attempts are retried.</summary>
    public RecoverySpec Recovery { get; init; } = new();

    /// <summary>The stage name for display: the train stage, or null for a <c>run:</c> task.</summary>
    public string? Stage => Train?.Stage;
}
