namespace WrinkleFree.Jobs;

/// <summary>One managed job as stored: its task, state, timing, recoveries and processes.</summary>
public sealed record JobRecord
{
    /// <summary>Job id, from 1.</summary>
    public long Id { get; init; }

    /// <summary>Job name.</summary>
    public required string Name { get; init; }

    /// <summary>The train stage, or null for a <c>run:</c> task.</summary>
    public string? Stage { get; init; }

    /// <summary>The task YAML as submitted.</summary>
    public required string SpecYaml { get; init; }

    /// <summary>The task file it came from, when there was one.</summary>
    public string? SourcePath { get; init; }

    /// <summary>Where <c>wf jobs launch</c> ran; relative workdirs resolve against it.</summary>
    public required string LaunchDirectory { get; init; }

    /// <summary>Current state.</summary>
    public JobStatus Status { get; init; }

    /// <summary>When the job was submitted.</summary>
    public DateTimeOffset SubmittedAt { get; init; }

    /// <summary>When the first attempt started running.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the job reached a final state.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>How many times the task was relaunched after a crash or kill.</summary>
    public int Recoveries { get; init; }

    /// <summary>Newest committed checkpoint step in the task's checkpoint store, as last seen by the controller.</summary>
    public long? CheckpointStep { get; init; }

    /// <summary>Why the job failed or was cancelled.</summary>
    public string? FailureReason { get; init; }

    /// <summary>The controller's pid and its start time (clock ticks since boot), to tell it from a reused pid.</summary>
    public int? ControllerPid { get; init; }

    /// <summary>Start time of <see cref="ControllerPid"/> in clock ticks since boot.</summary>
    public long? ControllerStartTime { get; init; }

    /// <summary>The current attempt's process (and process group) id.</summary>
    public int? TaskPid { get; init; }

    /// <summary>Start time of <see cref="TaskPid"/> in clock ticks since boot.</summary>
    public long? TaskStartTime { get; init; }

    /// <summary>The job's log file (setup and task output, plus the controller's attempt lines).</summary>
    public required string LogPath { get; init; }

    /// <summary>Where the job runs, settled at launch.</summary>
    public JobPlacement Placement { get; init; } = JobPlacement.OnThisMachine;

    /// <summary>How long the job ran: from the first start to its end (or to <paramref name="now"/> while it runs).</summary>
    public TimeSpan? Duration(DateTimeOffset now) => StartedAt is { } start ? (EndedAt ?? now) - start : null;
}
