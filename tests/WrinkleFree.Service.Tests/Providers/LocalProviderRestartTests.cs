using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Tests.State;
using static WrinkleFree.Service.Tests.Providers.ProviderTestSupport;

namespace WrinkleFree.Service.Tests.Providers;

/// <summary>A controller process SIGKILLed after launching a replica: the replica lives on and a new provider adopts it.</summary>
public sealed class LocalProviderRestartTests : IDisposable
{
    private readonly TempHome _home = new();

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task AdoptAsync_AfterControllerSigkill_ReplicaSurvivedAndIsAdopted()
    {
        ReplicaHandle handle;
        using (var controller = ChildProcessEntry.Start("local-controller", _home.Path))
        {
            try
            {
                var line = await controller.StandardOutput.ReadLineAsync().WaitAsync(Deadline)
                    ?? throw new InvalidOperationException("controller exited early: " + await controller.StandardError.ReadToEndAsync());
                handle = ReplicaHandle.FromJson(line);
                await WaitHealthyAsync(handle.EndpointUrl).WaitAsync(Deadline);
            }
            finally
            {
                controller.Kill();
                await controller.WaitForExitAsync().WaitAsync(Deadline);
            }
        }

        var restarted = Create(_home.Path);
        try
        {
            Assert.Equal(handle.Pid, await WaitHealthyAsync(handle.EndpointUrl).WaitAsync(Deadline));
            Assert.True(await restarted.AdoptAsync(handle, CancellationToken.None).WaitAsync(Deadline));
            Assert.Equal(ProviderReplicaState.Running, (await restarted.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline)).State);
            var log = await CollectAsync(restarted.GetLogsAsync(handle, null, false, CancellationToken.None)).WaitAsync(Deadline);
            Assert.Contains(log, l => l.StartsWith("fake upstream listening on", StringComparison.Ordinal));
        }
        finally
        {
            await restarted.StopAsync(handle, TimeSpan.FromSeconds(20), CancellationToken.None).WaitAsync(Deadline);
        }

        Assert.False(IsAlive(handle.Pid!.Value));
        Assert.Equal(ProviderReplicaState.Exited, (await restarted.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline)).State);
    }

    /// <summary>The child controller: launches one fake-upstream replica, prints its handle, then waits to be killed.</summary>
    internal static async Task RunControllerAsync(string[] args)
    {
        var provider = Create(args[0]);
        var handle = await provider.LaunchAsync(Request(FakeRun()), CancellationToken.None);
        Console.Out.WriteLine(handle.ToJson());
        Console.Out.Flush();
        await Task.Delay(Timeout.Infinite);
    }
}
