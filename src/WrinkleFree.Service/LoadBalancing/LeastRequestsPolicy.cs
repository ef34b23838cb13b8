namespace WrinkleFree.Service.LoadBalancing;

/// <summary>Picks the candidate with the fewest requests in flight (SkyServe's least_load).</summary>
internal sealed class LeastRequestsPolicy : ILoadBalancingPolicy
{
    // Ties start their scan at a rotating offset: with equal loads (e.g. sequential traffic) always taking the first
    // replica would leave the others cold and skew the per-replica numbers the autoscaler looks at.
    private uint _next;

    public string Name => LoadBalancingPolicyNames.LeastRequests;

    public int Pick(ReadOnlySpan<int> inFlight)
    {
        var count = inFlight.Length;
        var start = (int)(Interlocked.Increment(ref _next) % (uint)count);
        var best = start;
        for (var step = 1; step < count; step++)
        {
            var i = start + step;
            if (i >= count)
            {
                i -= count;
            }

            if (inFlight[i] < inFlight[best])
            {
                best = i;
            }
        }

        return best;
    }
}
