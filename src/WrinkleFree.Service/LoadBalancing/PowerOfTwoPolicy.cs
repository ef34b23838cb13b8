namespace WrinkleFree.Service.LoadBalancing;

/// <summary>Draws two distinct candidates at random and picks the one with fewer requests in flight.</summary>
internal sealed class PowerOfTwoPolicy(Random random) : ILoadBalancingPolicy
{
    private readonly Lock _lock = new();

    public string Name => LoadBalancingPolicyNames.PowerOfTwo;

    public int Pick(ReadOnlySpan<int> inFlight)
    {
        if (inFlight.Length == 1)
        {
            return 0;
        }

        int first, second;
        // Random is not thread-safe; the lock is held for two draws only.
        lock (_lock)
        {
            first = random.Next(inFlight.Length);
            second = random.Next(inFlight.Length - 1);
        }

        // Drawing from n-1 and skipping `first` gives a distinct second candidate without a retry loop.
        if (second >= first)
        {
            second++;
        }

        return inFlight[second] < inFlight[first] ? second : first;
    }
}
