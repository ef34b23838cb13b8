namespace WrinkleFree.Jobs;

/// <summary>Where managed jobs keep their state and how their controller and trainer processes are started.</summary>
public sealed record ManagedJobsOptions
{
    /// <summary>WrinkleFree's home folder; jobs live in <c>jobs.db</c> and <c>jobs/ID/</c> under it.</summary>
    public required string Home { get; init; }

    /// <summary>How to run this <c>wf</c>: the executable and the arguments before the verb (<c>dotnet wf.dll</c> has one).</summary>
    public required IReadOnlyList<string> WfCommand { get; init; }

    /// <summary>How often the controller checks for a cancel request and the task for exit.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a cancelled task gets between SIGTERM and SIGKILL.</summary>
    public TimeSpan CancelGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a running job's checkpoint store is listed for the queue's checkpoint column.</summary>
    public TimeSpan CheckpointPollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Clock for timestamps and waits.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where jobs other than local ones can run (the host registers them; a job naming one not here fails its prechecks).</summary>
    public IReadOnlyList<IJobInfrastructure> Infrastructures { get; init; } = [];
}
