namespace WrinkleFree.Service.Spec;

/// <summary>The <c>service.load_balancer</c> section: timeouts of the service endpoint.</summary>
public sealed record LoadBalancerSpec
{
    /// <summary>Longest a streaming response may stay idle before the load balancer gives up (SkyServe default 120 s).</summary>
    public int StreamTimeoutSeconds { get; init; } = 120;

    /// <summary>How long a request waits for the first ready replica while the service scales up from zero.</summary>
    public int ScaleFromZeroWaitSeconds { get; init; } = 60;
}
