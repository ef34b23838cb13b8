using System.Globalization;

namespace WrinkleFree.Replica.Health;

/// <summary>A cloud's word that this spot instance is about to be taken back.</summary>
/// <param name="Cloud">aws or gcp.</param>
/// <param name="Action">What the cloud will do (EC2: terminate, stop or hibernate; Compute Engine: preempt).</param>
/// <param name="TerminatesAt">When the instance goes: EC2 says it, Compute Engine gives about 30 s from the notice.</param>
/// <param name="ReceivedAt">When the replica saw the notice.</param>
internal sealed record InterruptionNotice(string Cloud, string Action, DateTimeOffset TerminatesAt, DateTimeOffset ReceivedAt)
{
    /// <summary>Compute Engine sends no time: a preempted VM gets 30 s between the notice and the stop.</summary>
    public static readonly TimeSpan GcpGracePeriod = TimeSpan.FromSeconds(30);

    /// <summary>The line /health and the log give as the reason for draining.</summary>
    public string Reason => Cloud == "gcp"
        ? $"spot interruption notice (gcp), instance terminates at about {Format(TerminatesAt)}"
        : $"spot interruption notice (aws), instance terminates at {Format(TerminatesAt)} (action {Action})";

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
