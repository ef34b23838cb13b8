using WrinkleFree.Replica.Health;

namespace WrinkleFree.Replica.Tests.Health;

/// <summary>The sliding windows behind tokens/s, bandwidth utilization and TTFT p50, on a manual clock.</summary>
public sealed class ReplicaStatsTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    [Fact]
    public void Sample_SteadyLoad_GivesTokensPerSecondAndUtilization()
    {
        var clock = new ManualClock();
        var stats = new ReplicaStats(clock, Window) { PeakBytesPerSecond = 1000 };
        long bytes = 0;
        ReplicaStats.Rates rates = default;
        for (var s = 0; s < 20; s++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            stats.AddGeneratedTokens(50);
            bytes += 900;
            rates = stats.Sample(bytes);
        }

        Assert.Equal(50, rates.TokensPerSecond, 6);
        Assert.Equal(0.9, rates.BandwidthUtilization, 6);
    }

    [Fact]
    public void Sample_AfterTheLoadStops_DecaysToZeroWithinTheWindow()
    {
        var clock = new ManualClock();
        var stats = new ReplicaStats(clock, Window) { PeakBytesPerSecond = 1000 };
        for (var s = 0; s < 10; s++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            stats.AddGeneratedTokens(100);
            stats.Sample(0);
        }

        for (var s = 0; s < 11; s++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            stats.Sample(0);
        }

        Assert.Equal(0, stats.Sample(0).TokensPerSecond);
    }

    [Fact]
    public void Sample_BurstHalfTheWindowAgo_AveragesOverTheWholeWindow()
    {
        var clock = new ManualClock();
        var stats = new ReplicaStats(clock, Window);
        for (var s = 0; s < 30; s++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            stats.Sample(0);
        }

        stats.AddGeneratedTokens(1000);
        for (var s = 0; s < 5; s++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            stats.Sample(0);
        }

        Assert.Equal(100, stats.Sample(0).TokensPerSecond, 6);
    }

    [Fact]
    public void TimeToFirstTokenP50_DropsSamplesOlderThanTheWindow()
    {
        var clock = new ManualClock();
        var stats = new ReplicaStats(clock, Window);
        Assert.Null(stats.TimeToFirstTokenP50Ms());
        stats.AddTimeToFirstToken(5);
        clock.Advance(TimeSpan.FromSeconds(11));
        stats.AddTimeToFirstToken(0.010);
        stats.AddTimeToFirstToken(0.030);
        stats.AddTimeToFirstToken(0.020);

        Assert.Equal(20, stats.TimeToFirstTokenP50Ms()!.Value, 6);
    }
}
