namespace WrinkleFree.Cli.Tests;

public sealed class ReplicaCommandTests
{
    [Fact]
    public async Task Replica_PrefixCacheNeitherOnNorOff_FailsNamingTheValue()
    {
        using var console = new InProcessConsole();

        var code = await console.RunAsync("replica", "--prefix-cache", "maybe").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(ExitCodes.Success, code);
        Assert.Contains("maybe", console.Stderr, StringComparison.Ordinal);
        Assert.Contains("off", console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replica_CacheTypeNotF16OrF32_FailsNamingTheValue()
    {
        using var console = new InProcessConsole();

        var code = await console.RunAsync("replica", "--cache-type", "q8_0").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(ExitCodes.Success, code);
        Assert.Contains("q8_0", console.Stderr, StringComparison.Ordinal);
        Assert.Contains("f32", console.Stderr, StringComparison.Ordinal);
    }
}
