namespace WrinkleFree.Service.LoadBalancing;

/// <summary>
/// What the controller drives of a service's endpoint: the replicas to route to, whether requests wait for a replica
/// coming up, the per-request options, and the state its /metrics reports. Either the balancer in the controller's own
/// process (<see cref="ServiceLoadBalancer"/>) or one in a process of its own that outlives the controller
/// (<see cref="EndpointProcessClient"/>).
/// </summary>
public interface IServiceEndpoint : IAsyncDisposable
{
    /// <summary>The service endpoint clients call.</summary>
    Uri BaseUrl { get; }

    /// <summary>Called once per client request with its arrival time, for the autoscaler's QPS.</summary>
    Action<DateTimeOffset>? OnRequest { get; set; }

    /// <summary>While true, requests that find no ready replica wait for one (scale from zero) instead of getting 503.</summary>
    bool ScalingUp { get; set; }

    /// <summary>
    /// True while the autoscaler's target is zero: a request arriving then means a replica is coming, so it sets
    /// <see cref="ScalingUp"/> itself at once, before the controller has seen it.
    /// </summary>
    bool ColdStart { get; set; }

    /// <summary>The load-balancing policy in force.</summary>
    string Policy { get; }

    /// <summary>Replaces the replica list; see <see cref="ServiceLoadBalancer.UpdateReplicas"/>.</summary>
    void UpdateReplicas(IReadOnlyList<ReplicaEndpoint> replicas);

    /// <summary>Applies changed per-request options; see <see cref="ServiceLoadBalancer.Reconfigure"/>.</summary>
    void Reconfigure(ServiceLoadBalancerOptions options);

    /// <summary>Requests in flight per replica id.</summary>
    IReadOnlyDictionary<string, int> GetInFlight();

    /// <summary>The controller's view of the service, for the endpoint's /metrics.</summary>
    void Publish(ServiceState state);

    /// <summary>
    /// Puts a new API key set in force; the returned task completes once requests arriving afterwards are checked
    /// against it (so `wf keys revoke` returns only when the key no longer works).
    /// </summary>
    Task SetAuthAsync(Security.EndpointAuth auth, CancellationToken cancellationToken);

    /// <summary>Closes the endpoint for good (the service is being removed), unlike <see cref="IAsyncDisposable.DisposeAsync"/>,
    /// which for an endpoint process only lets go of it.</summary>
    Task CloseAsync();
}
