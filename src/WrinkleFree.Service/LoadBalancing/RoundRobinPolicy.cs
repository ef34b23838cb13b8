namespace WrinkleFree.Service.LoadBalancing;

/// <summary>Cycles through the candidates in the order the controller listed them.</summary>
internal sealed class RoundRobinPolicy : ILoadBalancingPolicy
{
    private uint _next = uint.MaxValue;

    public string Name => LoadBalancingPolicyNames.RoundRobin;

    // Unsigned wrap-around keeps the modulo non-negative after 2^32 requests.
    public int Pick(ReadOnlySpan<int> inFlight) => (int)(Interlocked.Increment(ref _next) % (uint)inFlight.Length);
}
