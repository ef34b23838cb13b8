namespace WrinkleFree.Service.LoadBalancing;

/// <summary>The load-balancing policy names a service spec may give (SkyServe's <c>least_load</c> included).</summary>
public static class LoadBalancingPolicyNames
{
    /// <summary>The replica with the fewest requests in flight (the default).</summary>
    public const string LeastRequests = "least_requests";

    /// <summary>SkyServe's name for <see cref="LeastRequests"/>, accepted so SkyServe specs load unchanged.</summary>
    public const string LeastLoad = "least_load";

    /// <summary>Each replica in turn.</summary>
    public const string RoundRobin = "round_robin";

    /// <summary>The less loaded of two replicas drawn at random.</summary>
    public const string PowerOfTwo = "power_of_two";

    /// <summary>Requests whose prompts start alike go to the same replica (its prefix cache), bounded by load.</summary>
    public const string PrefixAffinity = "prefix_affinity";

    /// <summary>Every accepted name, for error messages that list the choices.</summary>
    public static IReadOnlyList<string> All { get; } = [LeastRequests, LeastLoad, RoundRobin, PowerOfTwo, PrefixAffinity];

    /// <summary>Whether <paramref name="name"/> is one of the accepted policy names (case-sensitive, as the spec is).</summary>
    public static bool IsKnown(string? name) => name is LeastRequests or LeastLoad or RoundRobin or PowerOfTwo or PrefixAffinity;
}
