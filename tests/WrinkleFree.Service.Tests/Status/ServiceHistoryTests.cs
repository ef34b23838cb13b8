using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Status;

namespace WrinkleFree.Service.Tests.Status;

/// <summary>The status page's in-memory history on a fake clock: one sample per slot, an hour kept, gone services dropped.</summary>
public sealed class ServiceHistoryTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 2, 3, 0, 0, TimeSpan.Zero));

    private static ServiceSnapshot Snapshot(string name, double qps, params ReplicaSnapshot[] replicas) =>
        new(name, 1, "READY", new Uri("http://127.0.0.1:1/"), replicas.Length, qps, replicas);

    private static ReplicaSnapshot Replica(int id, ReplicaStatus status, double cost, double? ttftMs) =>
        new(id, "base", status, null, cost, null, 1, default, TtftP50: ttftMs is { } t ? TimeSpan.FromMilliseconds(t) : null);

    [Fact]
    public void Record_SeventyMinutesEveryTenSeconds_KeepsTheLastHourOldestFirst()
    {
        var history = new ServiceHistory(_time);

        for (var i = 0; i < 420; i++)
        {
            history.Record([Snapshot("svc", i)]);
            _time.Advance(TimeSpan.FromSeconds(10));
        }

        var samples = history.Samples("svc");
        Assert.Equal(359, samples.Count);
        Assert.Equal(419.0, samples[^1].Qps);
        Assert.Equal(61.0, samples[0].Qps);
        Assert.True(samples.Zip(samples.Skip(1)).All(p => p.Second.At - p.First.At == TimeSpan.FromSeconds(10)));
        Assert.True(_time.GetUtcNow() - samples[0].At < TimeSpan.FromHours(1));
    }

    [Fact]
    public void Record_TwiceInOneSlot_LaterSampleReplacesEarlier()
    {
        var history = new ServiceHistory(_time);

        history.Record([Snapshot("svc", 1)]);
        _time.Advance(TimeSpan.FromSeconds(4));
        history.Record([Snapshot("svc", 2)]);
        _time.Advance(TimeSpan.FromSeconds(6));
        history.Record([Snapshot("svc", 3)]);

        Assert.Equal([2.0, 3.0], history.Samples("svc").Select(s => s.Qps));
    }

    [Fact]
    public void Record_ServiceMissing_ItsHistoryIsDropped()
    {
        var history = new ServiceHistory(_time);
        history.Record([Snapshot("a", 1), Snapshot("b", 1)]);
        _time.Advance(TimeSpan.FromSeconds(10));

        history.Record([Snapshot("b", 2)]);

        Assert.Empty(history.Samples("a"));
        Assert.Equal(2, history.Samples("b").Count);
        Assert.Empty(history.Samples("never"));
    }

    [Fact]
    public void Record_Replicas_SampleHasCostAndReadyMedianTtft()
    {
        var history = new ServiceHistory(_time);

        history.Record([Snapshot("svc", 5,
            Replica(1, ReplicaStatus.Ready, 0, 40), Replica(2, ReplicaStatus.Ready, 1, 90), Replica(3, ReplicaStatus.Starting, 1, 5000),
            Replica(4, ReplicaStatus.Failed, 2, null))]);

        var sample = Assert.Single(history.Samples("svc"));
        Assert.Equal(new HistorySample(_time.GetUtcNow(), 5, 40, 2, 2, 4), sample);
    }

    [Fact]
    public void StartSampling_ClockAdvances_SamplesEveryResolution()
    {
        var history = new ServiceHistory(_time, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5));
        var qps = 0.0;

        using (history.StartSampling(() => [Snapshot("svc", qps++)]))
        {
            for (var i = 0; i < 3; i++)
                _time.Advance(TimeSpan.FromSeconds(10));
        }
        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal([0.0, 1.0, 2.0, 3.0], history.Samples("svc").Select(s => s.Qps));
    }
}
