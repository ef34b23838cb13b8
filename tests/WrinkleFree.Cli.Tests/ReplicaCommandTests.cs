namespace WrinkleFree.Cli.Tests;

public sealed class ReplicaCommandTests
{
    [Theory]
    [InlineData("--prefix-cache", "maybe", "off")]
    [InlineData("--cache-type", "q8_0", "f32")]
    public async Task Replica_ValueNotAmongTheChoices_FailsNamingItAndTheChoices(string option, string value, string choice)
    {
        using var console = new InProcessConsole();

        var code = await console.RunAsync("replica", option, value).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(ExitCodes.Success, code);
        Assert.Contains(value, console.Stderr, StringComparison.Ordinal);
        Assert.Contains(choice, console.Stderr, StringComparison.Ordinal);
    }
}
