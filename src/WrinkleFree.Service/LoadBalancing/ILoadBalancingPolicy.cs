namespace WrinkleFree.Service.LoadBalancing;

/// <summary>
/// Chooses one replica among the candidates of a request, given each candidate's current in-flight request count.
/// Implementations are shared by all requests and must be thread-safe.
/// </summary>
public interface ILoadBalancingPolicy
{
    /// <summary>The policy's name as the service spec spells it (see <see cref="LoadBalancingPolicyNames"/>).</summary>
    string Name { get; }

    /// <summary>Returns the index of the chosen candidate; <paramref name="inFlight"/> is never empty.</summary>
    int Pick(ReadOnlySpan<int> inFlight);
}
