using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.Security;

namespace WrinkleFree.Service.Tests.Security;

/// <summary>The key gate alone on a fake clock: atomic admission, sliding windows, Retry-After.</summary>
public sealed class ApiKeyGateTests
{
    [Fact]
    public void Admit_FiftyThreadsAgainstRpm20_AdmitsExactlyTwentyAndSlidesTheWindow()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var (key, record) = KeyedBalancer.NewKey(rpm: 20);
        var gate = new ApiKeyGate("svc", EndpointAuth.From([record], null), time);
        var admissions = new KeyAdmission[50];
        Parallel.For(0, 50, i => admissions[i] = gate.Admit("Bearer " + key));
        Assert.Equal(20, admissions.Count(a => a.Admitted));
        foreach (var a in admissions.Where(a => a.Admitted))
            gate.Release(a, 0);
        var refused = admissions.First(a => !a.Admitted);
        Assert.Equal(429, refused.Status);
        Assert.Equal(TimeSpan.FromSeconds(60), refused.RetryAfter);

        time.Advance(TimeSpan.FromSeconds(30));
        Assert.False(gate.Admit("Bearer " + key).Admitted);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(gate.Admit("Bearer " + key).Admitted);
    }

    [Fact]
    public void Admit_TokensOverTheMinute_RefusesUntilEnoughLeaveTheWindow()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var (key, record) = KeyedBalancer.NewKey(tpm: 100);
        var gate = new ApiKeyGate("svc", EndpointAuth.From([record], null), time);
        gate.Release(gate.Admit("Bearer " + key), 60);
        time.Advance(TimeSpan.FromSeconds(20));
        gate.Release(gate.Admit("Bearer " + key), 60);
        var refused = gate.Admit("Bearer " + key);
        Assert.Equal(429, refused.Status);
        Assert.Contains("100 tokens/min", refused.Message, StringComparison.Ordinal);
        // The first 60 leave the window 40 s from now, which brings the sum under 100.
        Assert.Equal(TimeSpan.FromSeconds(40), refused.RetryAfter);
        time.Advance(TimeSpan.FromSeconds(40));
        Assert.True(gate.Admit("Bearer " + key).Admitted);
    }

    [Fact]
    public void Secret_GeneratedKeys_AreWellFormedAndStoredOnlyAsTheirHash()
    {
        var (key, id, hash) = ApiKeySecret.Generate();
        Assert.True(ApiKeySecret.IsWellFormed(key));
        Assert.StartsWith("wf-" + id, key, StringComparison.Ordinal);
        Assert.Equal(64, hash.Length);
        Assert.DoesNotContain(key[11..], hash, StringComparison.Ordinal);
        Assert.Equal(hash, ApiKeySecret.Hash(key));
        Assert.NotEqual(key, ApiKeySecret.Generate().Key);
        Assert.False(ApiKeySecret.IsWellFormed("wf-short"));
    }
}
