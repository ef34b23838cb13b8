namespace WrinkleFree.Service.LoadBalancing;

/// <summary>Builds the policy a name stands for.</summary>
internal static class LoadBalancingPolicyFactory
{
    public static ILoadBalancingPolicy Create(string name, Random random) => name switch
    {
        LoadBalancingPolicyNames.LeastRequests or LoadBalancingPolicyNames.LeastLoad => new LeastRequestsPolicy(),
        LoadBalancingPolicyNames.RoundRobin => new RoundRobinPolicy(),
        LoadBalancingPolicyNames.PowerOfTwo => new PowerOfTwoPolicy(random),
        LoadBalancingPolicyNames.PrefixAffinity => new PrefixAffinityPolicy(),
        _ => throw new ArgumentException(
            $"unknown load_balancing_policy '{name}'; expected one of {string.Join(", ", LoadBalancingPolicyNames.All)}", nameof(name)),
    };
}
