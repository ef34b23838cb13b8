namespace WrinkleFree.Service.Spec;

/// <summary>How the load balancer picks a replica for each request.</summary>
public enum LoadBalancingPolicy
{
    /// <summary>Fewest in-flight requests (SkyServe's <c>least_load</c>, also spelled <c>least_requests</c>); the default.</summary>
    LeastLoad,

    /// <summary>Cycle through ready replicas in order.</summary>
    RoundRobin,

    /// <summary>Pick two replicas at random and send to the less loaded one.</summary>
    PowerOfTwo,

    /// <summary>Requests whose prompts start alike go to the same replica (its prefix cache), bounded by load.</summary>
    PrefixAffinity,
}
