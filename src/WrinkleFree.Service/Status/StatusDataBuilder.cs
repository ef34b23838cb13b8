using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Spec;
using WrinkleFree.Service.State;

namespace WrinkleFree.Service.Status;

/// <summary>Builds <see cref="StatusData"/> from the controllers' snapshots, their tiers, the store's events and the history.</summary>
internal static class StatusDataBuilder
{
    /// <summary>Events the page lists.</summary>
    public const int RecentEvents = 50;

    /// <summary>How far back in each service's log a replica's last failure is looked for.</summary>
    private const int FailureLookback = 500;

    public static async Task<StatusData> BuildAsync(
        IEnumerable<(ServiceSnapshot Snapshot, IReadOnlyList<TierSpec> Tiers)> services, ServiceStore store, ServiceHistory history, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var list = new List<StatusServiceData>();
        foreach (var (s, tiers) in services.OrderBy(x => x.Snapshot.Name, StringComparer.Ordinal))
        {
            var failures = await LastFailuresAsync(store, s.Name, cancellationToken).ConfigureAwait(false);
            list.Add(new StatusServiceData
            {
                Name = s.Name,
                Status = s.Status,
                Version = s.Version,
                Endpoint = s.Endpoint.ToString().TrimEnd('/'),
                TargetReplicas = s.TargetReplicas,
                ReadyReplicas = s.ReadyCount,
                Qps = Math.Round(s.Qps, 3),
                CostPerHour = s.CostPerHour,
                TtftP50Ms = HistorySample.MedianTtftMs(s.Replicas),
                Tiers = Tiers(tiers, s.Replicas),
                Replicas = [.. s.Replicas.Select(r => new StatusReplicaData
                {
                    Id = r.Id,
                    Tier = r.Tier,
                    Status = r.Status.ToSkyServeName(),
                    Version = r.Version,
                    Endpoint = r.Endpoint,
                    LaunchedAt = r.LaunchedAt,
                    AgeSeconds = Math.Max(0, Math.Round((now - r.LaunchedAt).TotalSeconds)),
                    CostPerHour = r.CostPerHour,
                    Pid = r.Pid,
                    TtftP50Ms = r.TtftP50 is { } t ? Math.Round(t.TotalMilliseconds, 1) : null,
                    LastFailure = r.FailureReason ?? failures.GetValueOrDefault(r.Id),
                })],
                // The stored samples, then one of this very moment: the chart always reaches "now".
                History = [.. history.Samples(s.Name), HistorySample.Of(s, now)],
            });
        }
        var events = await store.ListLatestEventsAsync(null, RecentEvents, cancellationToken).ConfigureAwait(false);
        return new StatusData
        {
            GeneratedAt = now,
            HistorySeconds = (int)history.Span.TotalSeconds,
            Services = list,
            Events = [.. events.Reverse().Select(ServiceEventView.From)],
        };
    }

    /// <summary>
    /// The tiers in the order replicas fill them (cheapest first, ties in declared order, as the placement planner),
    /// then any tier a replica still runs on that the spec no longer names.
    /// </summary>
    internal static List<StatusTierData> Tiers(IReadOnlyList<TierSpec> tiers, IReadOnlyList<ReplicaSnapshot> replicas)
    {
        StatusTierData Band(string name, string provider, double cost, int? capacity, bool spot, bool inSpec) => new()
        {
            Name = name,
            Provider = provider,
            CostPerHour = cost,
            Capacity = capacity,
            Used = replicas.Count(r => r.Tier == name && r.Status.OccupiesCapacity()),
            Ready = replicas.Count(r => r.Tier == name && r.Status == ReplicaStatus.Ready),
            Spot = spot,
            InSpec = inSpec,
        };

        var bands = tiers.Select((t, i) => (Tier: t, Order: i)).OrderBy(x => x.Tier.CostPerHour).ThenBy(x => x.Order)
            .Select(x => Band(x.Tier.Name, SpecMapping.ProviderName(x.Tier), x.Tier.CostPerHour, x.Tier.IsUnlimited ? null : x.Tier.Capacity, x.Tier.Spot, inSpec: true))
            .ToList();
        foreach (var orphan in replicas.Where(r => tiers.All(t => t.Name != r.Tier)).GroupBy(r => r.Tier))
            bands.Add(Band(orphan.Key, "-", orphan.First().CostPerHour, null, false, inSpec: false));
        return bands;
    }

    private static async Task<Dictionary<int, string>> LastFailuresAsync(ServiceStore store, string service, CancellationToken cancellationToken)
    {
        var failures = new Dictionary<int, string>();
        foreach (var e in await store.ListLatestEventsAsync(service, FailureLookback, cancellationToken).ConfigureAwait(false))
        {
            // Oldest first: a later failure of the same replica overwrites an earlier one.
            if (e.Kind == ServiceEventKinds.ReplicaFailed && e.ReplicaId is { } id)
                failures[id] = e.Message;
        }
        return failures;
    }
}
