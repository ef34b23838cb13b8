using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Placement;

namespace WrinkleFree.Service.Tests.Placement;

/// <summary>Replicas carried through plans by hand: launches start, terminations leave at once.</summary>
internal sealed class TestCluster
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private int _nextId = 1;
    private int _clock;

    public List<ReplicaInfo> Replicas { get; } = [];

    public TestCluster Add(string tier, int count, ReplicaStatus status = ReplicaStatus.Ready, int version = 1)
    {
        for (var i = 0; i < count; i++)
            Replicas.Add(new ReplicaInfo(_nextId++, tier, status, version, Epoch.AddMinutes(_clock++)));
        return this;
    }

    public void Apply(PlacementPlan plan)
    {
        var gone = plan.Terminate.ToHashSet();
        Replicas.RemoveAll(r => gone.Contains(r.Id));
        foreach (var tier in plan.Launch)
            Add(tier, 1, ReplicaStatus.Starting, plan.Version);
    }

    public void PromoteStarting()
    {
        for (var i = 0; i < Replicas.Count; i++)
        {
            if (Replicas[i].Status == ReplicaStatus.Starting)
                Replicas[i] = Replicas[i] with { Status = ReplicaStatus.Ready };
        }
    }

    public int Count(string tier) => Replicas.Count(r => r.Tier == tier);

    public int Ready => Replicas.Count(r => r.Status == ReplicaStatus.Ready);

    public ReplicaInfo Get(int id) => Replicas.Single(r => r.Id == id);
}
