using WrinkleFree.Platform.Processes;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Observability;

/// <summary>
/// A real `wf replica` child process restarts itself once (same pid, same command line) with the runtime's tiering delay
/// at zero, so its first requests run optimized code; a value the user set is kept as it is.
/// </summary>
public sealed class ReplicaTieringTests : IDisposable
{
    private readonly TempHome _home = new();

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task Replica_NoDelaySet_ServesFromTheSamePidWithTheDelayAtZero()
    {
        await using var replica = await ReplicaProcess.StartAsync(Path.Combine(_home.Path, "replica.log"));

        Assert.Equal("0", Variable(replica.Pid));
        var cmdline = EagerTiering.ParseCommandLine(await File.ReadAllBytesAsync($"/proc/{replica.Pid}/cmdline"));
        Assert.Contains("replica", cmdline);
        using var client = new HttpClient();
        using var response = await ReplicaProcess.CompleteAsync(client, replica.Address);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        // Printed once: the first image was replaced before it wrote anything.
        Assert.Single(await replica.ReadLogAsync(), l => l.StartsWith("listening on ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Replica_UserSetTheDelay_KeepsTheUsersValue()
    {
        await using var replica = await ReplicaProcess.StartAsync(
            Path.Combine(_home.Path, "replica.log"), environment: new Dictionary<string, string> { [EagerTiering.Variable] = "100" });

        Assert.Equal("100", Variable(replica.Pid));
    }

    private static string? Variable(int pid) =>
        EagerTiering.ParseCommandLine(File.ReadAllBytes($"/proc/{pid}/environ"))
            .Where(e => e.StartsWith(EagerTiering.Variable + "=", StringComparison.Ordinal))
            .Select(e => e[(EagerTiering.Variable.Length + 1)..])
            .SingleOrDefault();
}
