using System.Globalization;
using Prometheus;

namespace WrinkleFree.Service.LoadBalancing;

/// <summary>
/// The service endpoint's own /metrics: what the load balancer sees of each request (count by status, latency, retries)
/// and what the controller last pushed (QPS, replicas by tier and status, cost, spillover, scale events). The names are
/// fixed here once; deploy/prometheus and deploy/grafana use them.
/// </summary>
public sealed class ServiceMetrics
{
    /// <summary>Every metric the service endpoint exports.</summary>
    public static readonly IReadOnlyList<string> Names =
    [
        "wf_service_requests_total", "wf_service_request_duration_seconds", "wf_service_qps", "wf_service_replicas",
        "wf_service_target_replicas", "wf_service_cost_per_hour_dollars", "wf_service_spillover_replicas",
        "wf_service_scale_events_total", "wf_service_lb_retries_total", "wf_service_controller_up", "wf_service_ttft_p50_seconds",
        "wf_service_replica_hours_total", "wf_service_spent_dollars_total", "wf_service_generated_tokens_total",
        "wf_service_prompt_tokens_total", "wf_service_dollars_per_million_tokens",
    ];

    private readonly string _service;
    private readonly TimeProvider _time;
    private readonly TimeSpan _controllerTimeout;
    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Gauge _qps;
    private readonly Gauge _replicas;
    private readonly Gauge _target;
    private readonly Gauge _cost;
    private readonly Gauge _spillover;
    private readonly Counter _scaleEvents;
    private readonly Counter _retries;
    private readonly Gauge _controllerUp;
    private readonly Gauge _ttft;
    private readonly Counter _replicaHours;
    private readonly Counter _spent;
    private readonly Counter _generated;
    private readonly Counter _prompt;
    private readonly Gauge _perMillion;
    private readonly Lock _gate = new();
    private HashSet<(string Tier, string Status)> _replicaLabels = [];
    private HashSet<string> _costLabels = [];
    private long _lastPush = long.MinValue;

    /// <param name="service">The service name, the <c>service</c> label of every series.</param>
    /// <param name="controllerTimeout">How long after the controller's last push <c>wf_service_controller_up</c> turns 0.</param>
    public ServiceMetrics(string service, TimeProvider time, TimeSpan controllerTimeout)
    {
        (_service, _time, _controllerTimeout) = (service, time, controllerTimeout);
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _requests = factory.CreateCounter("wf_service_requests_total", "Client requests answered by the service endpoint, by HTTP status.", "service", "code");
        _duration = factory.CreateHistogram("wf_service_request_duration_seconds", "Time from a request's arrival at the service endpoint to its last byte.",
            new HistogramConfiguration { LabelNames = ["service"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 16) });
        _qps = factory.CreateGauge("wf_service_qps", "Requests per second over the autoscaler's window.", "service");
        _replicas = factory.CreateGauge("wf_service_replicas", "Replicas by tier and status.", "service", "tier", "status");
        _target = factory.CreateGauge("wf_service_target_replicas", "The autoscaler's target.", "service");
        _cost = factory.CreateGauge("wf_service_cost_per_hour_dollars", "Dollars per hour of the replicas holding capacity, by tier.", "service", "tier");
        _spillover = factory.CreateGauge("wf_service_spillover_replicas", "Ready replicas outside the cheapest tier.", "service");
        _scaleEvents = factory.CreateCounter("wf_service_scale_events_total", "Autoscaler target changes, by direction and the signal that moved it.", "service", "direction", "reason");
        _retries = factory.CreateCounter("wf_service_lb_retries_total", "Requests the load balancer retried on another replica.", "service");
        _controllerUp = factory.CreateGauge("wf_service_controller_up", "1 while the controller pushes state to the endpoint, 0 once it has been silent too long.", "service");
        _ttft = factory.CreateGauge("wf_service_ttft_p50_seconds", "Median time to first token the controller reads from the replicas.", "service");
        // Totals over the service's stored history (what `wf cost NAME --since` sums), pushed as they grow.
        _replicaHours = factory.CreateCounter("wf_service_replica_hours_total", "Replica-hours spent, by tier (launch to teardown).", "service", "tier");
        _spent = factory.CreateCounter("wf_service_spent_dollars_total", "Dollars spent on replicas (replica-hours times the tier's cost per hour), by tier.", "service", "tier");
        _generated = factory.CreateCounter("wf_service_generated_tokens_total", "Tokens the replicas generated, by tier, from their counters the controller reads.", "service", "tier");
        _prompt = factory.CreateCounter("wf_service_prompt_tokens_total", "Prompt tokens the replicas processed, by tier.", "service", "tier");
        _perMillion = factory.CreateGauge("wf_service_dollars_per_million_tokens", "Dollars per million generated tokens over the service's history, by tier.", "service", "tier");
        _controllerUp.WithLabels(service).Set(0);
        _retries.WithLabels(service);
        Registry.AddBeforeCollectCallback(() =>
        {
            var last = Interlocked.Read(ref _lastPush);
            _controllerUp.WithLabels(_service).Set(last != long.MinValue && _time.GetElapsedTime(last) <= _controllerTimeout ? 1 : 0);
        });
    }

    /// <summary>The registry /metrics exports.</summary>
    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    /// <summary>Counts one answered client request.</summary>
    public void RecordRequest(int statusCode, TimeSpan duration)
    {
        _requests.WithLabels(_service, statusCode.ToString(CultureInfo.InvariantCulture)).Inc();
        _duration.WithLabels(_service).Observe(duration.TotalSeconds);
    }

    /// <summary>Counts one retry on another replica.</summary>
    public void RecordRetry() => _retries.WithLabels(_service).Inc();

    /// <summary>Applies the controller's latest state; series of tiers or statuses no longer present are removed.</summary>
    public void Publish(ServiceState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_gate)
        {
            Interlocked.Exchange(ref _lastPush, _time.GetTimestamp());
            _qps.WithLabels(_service).Set(state.Qps);
            _target.WithLabels(_service).Set(state.TargetReplicas);
            _spillover.WithLabels(_service).Set(state.SpilloverReplicas);
            if (state.TtftP50Seconds is { } ttft)
                _ttft.WithLabels(_service).Set(ttft);
            else
                _ttft.RemoveLabelled(_service);

            var replicaLabels = new HashSet<(string, string)>();
            foreach (var r in state.Replicas)
            {
                _replicas.WithLabels(_service, r.Tier, r.Status).Set(r.Count);
                replicaLabels.Add((r.Tier, r.Status));
            }
            foreach (var (tier, status) in _replicaLabels.Except(replicaLabels))
                _replicas.RemoveLabelled(_service, tier, status);
            _replicaLabels = replicaLabels;

            var costLabels = new HashSet<string>();
            foreach (var c in state.CostPerHour)
            {
                _cost.WithLabels(_service, c.Tier).Set(c.Dollars);
                costLabels.Add(c.Tier);
            }
            foreach (var tier in _costLabels.Except(costLabels))
                _cost.RemoveLabelled(_service, tier);
            _costLabels = costLabels;

            foreach (var u in state.Usage)
            {
                _replicaHours.WithLabels(_service, u.Tier).IncTo(u.ReplicaHours);
                _spent.WithLabels(_service, u.Tier).IncTo(u.Dollars);
                _generated.WithLabels(_service, u.Tier).IncTo(u.GeneratedTokens);
                _prompt.WithLabels(_service, u.Tier).IncTo(u.PromptTokens);
                if (u.GeneratedTokens > 0)
                    _perMillion.WithLabels(_service, u.Tier).Set(u.Dollars * 1_000_000 / u.GeneratedTokens);
            }

            foreach (var e in state.ScaleEvents)
                _scaleEvents.WithLabels(_service, e.Direction, e.Reason).Inc(e.Count);
        }
    }
}

/// <summary>What the controller tells the endpoint about the service, for <see cref="ServiceMetrics"/>.</summary>
public sealed record ServiceState
{
    public double Qps { get; init; }

    public int TargetReplicas { get; init; }

    public int SpilloverReplicas { get; init; }

    public double? TtftP50Seconds { get; init; }

    public IReadOnlyList<ReplicaCount> Replicas { get; init; } = [];

    public IReadOnlyList<TierCost> CostPerHour { get; init; } = [];

    /// <summary>Cost and tokens per tier over the service's stored history (empty until the controller has read them).</summary>
    public IReadOnlyList<TierUsage> Usage { get; init; } = [];

    /// <summary>Scale events since the previous push (each push carries only new ones).</summary>
    public IReadOnlyList<ScaleEventCount> ScaleEvents { get; init; } = [];
}

/// <summary>Replicas of one tier in one status.</summary>
public sealed record ReplicaCount(string Tier, string Status, int Count);

/// <summary>Dollars per hour spent on one tier.</summary>
public sealed record TierCost(string Tier, double Dollars);

/// <summary>What one tier has cost and produced over the service's history.</summary>
public sealed record TierUsage(string Tier, double ReplicaHours, double Dollars, long GeneratedTokens, long PromptTokens);

/// <summary>Target changes in one direction ("up" or "down") for one reason ("qps", "ttft", "queue", "min_replicas").</summary>
public sealed record ScaleEventCount(string Direction, string Reason, int Count);
