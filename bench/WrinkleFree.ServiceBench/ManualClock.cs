namespace WrinkleFree.ServiceBench;

/// <summary>A clock the benchmark moves by hand, so a tick's 20 s pass instantly.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
