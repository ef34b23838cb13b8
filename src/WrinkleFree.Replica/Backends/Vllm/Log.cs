using Microsoft.Extensions.Logging;

namespace WrinkleFree.Replica.Backends.Vllm;

/// <summary>Log messages of the vllm backend (event ids 5100-5199).</summary>
internal static partial class Log
{
    [LoggerMessage(5100, LogLevel.Information, "vllm backend: upstream state {Previous} -> {State} ({Reason})")]
    public static partial void StateChanged(ILogger logger, BackendState previous, BackendState state, string reason);

    [LoggerMessage(5101, LogLevel.Information, "Started upstream process {ProcessId} on port {Port}: {Command}")]
    public static partial void ProcessStarted(ILogger logger, int processId, int port, string command);

    [LoggerMessage(5102, LogLevel.Warning, "Upstream process {ProcessId} exited with code {ExitCode}")]
    public static partial void ProcessExited(ILogger logger, int processId, int exitCode);

    [LoggerMessage(5103, LogLevel.Information, "Stopping upstream process group {ProcessId} (SIGTERM, SIGKILL after {GracePeriod})")]
    public static partial void ProcessStopping(ILogger logger, int processId, TimeSpan gracePeriod);

    [LoggerMessage(5104, LogLevel.Warning, "Upstream process group {ProcessId} ignored SIGTERM for {GracePeriod}; sending SIGKILL")]
    public static partial void ProcessKilled(ILogger logger, int processId, TimeSpan gracePeriod);

    [LoggerMessage(5105, LogLevel.Information, "upstream[{ProcessId}]: {Line}")]
    public static partial void ProcessOutput(ILogger logger, int processId, string line);

    [LoggerMessage(5106, LogLevel.Warning, "Restarting the upstream in {Delay} (attempt {Attempt})")]
    public static partial void RestartScheduled(ILogger logger, TimeSpan delay, int attempt);

    [LoggerMessage(5107, LogLevel.Warning, "Upstream did not become healthy within {Timeout}")]
    public static partial void StartupTimedOut(ILogger logger, TimeSpan timeout);

    [LoggerMessage(5108, LogLevel.Debug, "Upstream health check failed ({Failures} in a row): {Reason}")]
    public static partial void HealthCheckFailed(ILogger logger, int failures, string reason);

    [LoggerMessage(5109, LogLevel.Information, "Upstream serves model {ModelId}")]
    public static partial void ModelDiscovered(ILogger logger, string modelId);

    [LoggerMessage(5110, LogLevel.Warning, "Could not read the upstream's model list: {Reason}")]
    public static partial void ModelDiscoveryFailed(ILogger logger, string reason);

    [LoggerMessage(5111, LogLevel.Warning, "Upstream request failed: {Status} {Message}")]
    public static partial void UpstreamError(ILogger logger, int status, string message);

    [LoggerMessage(5114, LogLevel.Debug, "Upstream rejected a request: {Status} {Message}")]
    public static partial void UpstreamRejected(ILogger logger, int status, string message);

    [LoggerMessage(5112, LogLevel.Warning, "Upstream stream ended without a usage chunk; completion tokens are counted from the chunks")]
    public static partial void MissingUsage(ILogger logger);

    [LoggerMessage(5113, LogLevel.Error, "Upstream supervision loop failed")]
    public static partial void SupervisorFailed(ILogger logger, Exception exception);
}
