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

    /// <summary>Why a job ends at once after <paramref name="exitCode"/>, or null when the code may be retried.</summary>
    public static string? FatalReason(int? exitCode) => exitCode switch
    {
        ConfigurationError => "configuration error (exit code 64); fix the task and launch it again",
        OutOfMemory => "out of memory (exit code 65); use a smaller batch or sequence length, or more memory",
        _ => null,
    };

    /// <summary>An exit status in words: a signal (128+N), a code, or none; failure reasons of every infra use it.</summary>
    public static string Describe(int? exitCode) => exitCode switch
    {
        > 128 and < 160 => $"killed by signal {exitCode - 128} (exit code {exitCode})",
        { } code => $"exit code {code}",
        _ => "exited",
    };
}
