using Microsoft.Extensions.Logging;

namespace WrinkleFree.Providers.Cloud.Gcp;

/// <summary>The gcp compute client's log lines; event ids 7580-7599 (the cloud provider's 7500 range, kept apart from AWS).</summary>
internal static partial class GceLog
{
    [LoggerMessage(7580, LogLevel.Information, "gcp: instance {Name} in zone {Zone} inserted ({Model}, state {State}, address {Address})")]
    public static partial void Launched(ILogger logger, string name, string zone, string model, string state, string? address);

    [LoggerMessage(7581, LogLevel.Information, "gcp: insert of {Name} in zone {Zone} met its earlier failed operation {Operation}; trying again with a new request id")]
    public static partial void SteppedPastFailedInsert(ILogger logger, string name, string zone, string operation);

    [LoggerMessage(7582, LogLevel.Warning, "gcp: {Method} {Uri} answered {Status} (attempt {Attempt} of {MaxAttempts}); retrying in {Delay}")]
    public static partial void Retrying(ILogger logger, string method, Uri uri, int status, int attempt, int maxAttempts, TimeSpan delay);

    // Debug: every describe of a preempted instance says it again; the provider logs the change of state once.
    [LoggerMessage(7583, LogLevel.Debug, "gcp: instance {Name} in zone {Zone} was preempted: {Reason}")]
    public static partial void Preempted(ILogger logger, string name, string zone, string reason);
}
