namespace WrinkleFree.Jobs;

/// <summary>The controller's side of an <see cref="IJobInfrastructure"/> run: the job's state and log.</summary>
public interface IJobRunReporter
{
    /// <summary>Whether <c>wf jobs cancel</c> asked the job to stop.</summary>
    Task<bool> CancelRequestedAsync(CancellationToken cancellationToken);

    /// <summary>An attempt runs (<paramref name="what"/> names it, e.g. the pod).</summary>
    Task RunningAsync(string what, CancellationToken cancellationToken);

    /// <summary>An attempt ended and another follows; <paramref name="recoveries"/> counts every relaunch so far.</summary>
    Task RecoveringAsync(int recoveries, string why, CancellationToken cancellationToken);

    /// <summary>Appends lines (the task's output or a banner) to the job's log.</summary>
    Task AppendLogAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken);

    /// <summary>Lists the job's checkpoint store for the queue's checkpoint column (throttled by the controller).</summary>
    Task RefreshCheckpointAsync(CancellationToken cancellationToken);
}
