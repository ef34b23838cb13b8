using WrinkleFree.Jobs;

namespace WrinkleFree.Cli;

/// <summary>
/// The exit codes <c>wf</c> returns. Scripts, the job runner and the service tests rely on them, so a number never changes
/// meaning; System.CommandLine's own parse errors exit <see cref="Failure"/> (outside <c>wf train</c>).
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>
    /// The command ran and failed: no daemon, a daemon or job error, a job that did not succeed, a replica that never
    /// became ready; also System.CommandLine's parse errors.
    /// </summary>
    public const int Failure = 1;

    /// <summary>
    /// The input cannot be used: a model file that does not load, invalid replica options, a checkpoint the training
    /// commands cannot read, or a verb this build does not have.
    /// </summary>
    public const int InvalidInput = 2;

    /// <summary><c>wf train</c>: the configuration is wrong (bad option, missing checkpoint); the job runner does not retry.</summary>
    public const int ConfigurationError = TaskExitCodes.ConfigurationError;

    /// <summary><c>wf train</c>: out of memory; retrying the same settings would fail again, so the job runner does not.</summary>
    public const int OutOfMemory = TaskExitCodes.OutOfMemory;

    /// <summary>Stopped by Ctrl-C or SIGTERM before it finished (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;
}
