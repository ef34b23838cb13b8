namespace WrinkleFree.Jobs;

/// <summary>
/// The exit codes by which a task (<c>wf train</c>) tells the job runner not to retry: the same settings would fail again.
/// <c>wf</c> returns these numbers (its ExitCodes refer here), and <see cref="JobController"/> fails such a job at once.
/// </summary>
public static class TaskExitCodes
{
    /// <summary>The configuration is wrong (bad option, missing checkpoint).</summary>
    public const int ConfigurationError = 64;

    /// <summary>Out of memory.</summary>
    public const int OutOfMemory = 65;
}
