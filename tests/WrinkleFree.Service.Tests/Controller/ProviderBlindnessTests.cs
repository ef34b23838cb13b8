using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Providers;
using static WrinkleFree.Service.Tests.Controller.ControllerHarness;

namespace WrinkleFree.Service.Tests.Controller;

/// <summary>
/// A replica its provider can no longer see (an SSH node whose sshd died while the replica still serves) stays in service
/// while probes pass, and is failed and replaced once that has lasted the failure timeout: no one could stop, update or
/// read it any more.
/// </summary>
public sealed class ProviderBlindnessTests
{
    [Fact]
    public async Task ProviderCannotSeeAReplica_ServesOnUntilTheFailureTimeout_ThenFailedNamingWhyAndReplaced()
    {
        var spec = SpecYaml(minReplicas: 1).Replace("initial_delay_seconds: 60", "initial_delay_seconds: 60\n    consecutive_failure_threshold_timeout: 2", StringComparison.Ordinal);
        await using var h = await CreateAsync("svc", spec);
        var blind = new BlindProvider(h.Providers[ProviderNames.Local]);
        var controller = await ServiceController.StartAsync("svc", h.Store, new Dictionary<string, IReplicaProvider> { [ProviderNames.Local] = blind },
            new ServiceControllerOptions { TickInterval = TimeSpan.FromMilliseconds(200), DrainTimeout = TimeSpan.FromSeconds(5) }, TimeProvider.System, null, CancellationToken.None);
        try
        {
            var first = (await h.WaitForAsync(controller, s => s.ReadyCount == 1, "a ready replica")).Replicas.Single();
            blind.BlindTo = first.Id;
            var blindAt = DateTime.UtcNow;

            // Still serving a while later: probes pass, and the provider only lost sight of it.
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(ReplicaStatus.Ready, controller.Snapshot.Replicas.Single(r => r.Id == first.Id).Status);

            await h.WaitForAsync(controller,
                s => s.Replicas.All(r => r.Id != first.Id) && s.Replicas.Any(r => r.Id != first.Id && r.Status == ReplicaStatus.Ready),
                "the unseen replica gone and another ready");
            Assert.True(DateTime.UtcNow - blindAt >= TimeSpan.FromSeconds(2), "failed before the failure timeout");
            var failed = (await h.Store.ListReplicasAsync("svc", includeTerminated: true, CancellationToken.None)).Single(r => r.ReplicaId == first.Id);
            Assert.Equal("FAILED", failed.Status);
            Assert.Contains("its provider could not reach it for 2 s: node away", failed.FailureReason, StringComparison.Ordinal);
        }
        finally
        {
            await controller.ShutdownAsync(CancellationToken.None).WaitAsync(Deadline);
            await controller.DisposeAsync();
        }
    }

    /// <summary>The local provider, except that it reports one replica as unknown (as a provider whose node is away does).</summary>
    private sealed class BlindProvider(IReplicaProvider inner) : IReplicaProvider
    {
        public int? BlindTo { get; set; }

        public string Name => inner.Name;

        public Task<ReplicaHandle> LaunchAsync(ReplicaLaunchRequest request, CancellationToken cancellationToken) => inner.LaunchAsync(request, cancellationToken);

        public Task<ProviderReplicaStatus> GetStatusAsync(ReplicaHandle handle, CancellationToken cancellationToken) =>
            handle.ReplicaId == BlindTo ? Task.FromResult(ProviderReplicaStatus.Unknown("node away")) : inner.GetStatusAsync(handle, cancellationToken);

        public Task StopAsync(ReplicaHandle handle, TimeSpan drainTimeout, CancellationToken cancellationToken) => inner.StopAsync(handle, drainTimeout, cancellationToken);

        public IAsyncEnumerable<string> GetLogsAsync(ReplicaHandle handle, int? tail, bool follow, CancellationToken cancellationToken) => inner.GetLogsAsync(handle, tail, follow, cancellationToken);

        public Task<bool> AdoptAsync(ReplicaHandle handle, CancellationToken cancellationToken) => inner.AdoptAsync(handle, cancellationToken);
    }
}
