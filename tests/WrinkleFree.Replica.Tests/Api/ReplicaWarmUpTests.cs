using WrinkleFree.Replica.Api;

namespace WrinkleFree.Replica.Tests.Api;

public sealed class ReplicaWarmUpTests
{
    [Theory]
    [InlineData("http://0.0.0.0:8080/", "http://127.0.0.1:8080/")]
    [InlineData("http://[::]:8080/", "http://[::1]:8080/")]
    [InlineData("https://127.0.0.1:9443/", "https://127.0.0.1:9443/")]
    [InlineData("http://10.1.2.3:8080/", "http://10.1.2.3:8080/")]
    [InlineData("http://replica.internal:8080/", "http://replica.internal:8080/")]
    public void Loopback_WildcardListener_IsReachedThroughLoopback(string bound, string expected) =>
        Assert.Equal(new Uri(expected), ReplicaWarmUp.Loopback(new Uri(bound)));

    [Fact]
    public async Task WarmUpOff_NoWarmUpRequests()
    {
        await using var host = await TestReplica.StartAsync(o => o with { WarmUp = false });
        Assert.Null(host.WarmUpOutcome);
    }
}
