using System.Net;
using WrinkleFree.Providers.Cloud.Tests.Support;
using WrinkleFree.Service.Providers;
using WrinkleFree.Testing;

namespace WrinkleFree.Providers.Cloud.Tests.Service;

/// <summary>
/// The whole path of a cloud replica with nothing mocked but EC2 itself: the provider launches through the real SDK into
/// the EC2 double, whose instances boot as real `wf replica` processes started from the user-data (its environment file
/// and systemd ExecStart), each on its own 127.0.0.N as private address. A preemption is reported and the replacement
/// goes to the next zone, past one out of capacity; a restarted provider adopts the instance and launches no other.
/// </summary>
public sealed class CloudTierEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private static string TinyModel => Path.Combine(RepositoryPaths.Root, "models", "wrinklefree-tiny.gguf");
    private CloudFixture _cloud = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public async Task InitializeAsync()
    {
        _cloud = await CloudFixture.StartAsync();
        _cloud.Api.Runner = UserDataReplica.Start;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _cloud.DisposeAsync();
    }

    [Fact]
    public async Task Replica_PreemptedWithTheNextZoneFull_ReplacementServesFromTheZoneAfterAndSurvivesARestart()
    {
        var settings = CloudFixture.Settings(port: FreePort.Next());
        var envs = new Dictionary<string, string> { ["MODEL_PATH"] = TinyModel, ["NUM_THREADS"] = "1" };
        var provider = _cloud.NewProvider();

        var first = await provider.LaunchAsync(CloudFixture.Request(1, settings, envs: envs), CancellationToken.None).WaitAsync(Deadline);
        await UntilHealthyAsync(first);
        Assert.Equal("us-east-1a", first.Zone);

        _cloud.Api.FailLaunches("us-east-1b");
        await _cloud.Api.PreemptAsync(first.InstanceId!).WaitAsync(Deadline);
        var status = await provider.GetStatusAsync(first, CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal(ProviderReplicaState.Preempted, status.State);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => _http.GetAsync(new Uri(first.EndpointUrl + "/health")).WaitAsync(Deadline));

        var replacement = await provider.LaunchAsync(CloudFixture.Request(2, settings, envs: envs), CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal("us-east-1c", replacement.Zone);
        Assert.Equal(["us-east-1a", "us-east-1b", "us-east-1c"], _cloud.Api.RunRequests.Select(r => r["Placement.AvailabilityZone"]));
        await UntilHealthyAsync(replacement);

        var restarted = _cloud.NewProvider();
        Assert.True(await restarted.AdoptAsync(ReplicaHandle.FromJson(replacement.ToJson()), CancellationToken.None).WaitAsync(Deadline));
        Assert.Equal(ProviderReplicaState.Running, (await restarted.GetStatusAsync(replacement, CancellationToken.None).WaitAsync(Deadline)).State);
        Assert.Equal(replacement.InstanceId, (await restarted.LaunchAsync(CloudFixture.Request(2, settings, envs: envs), CancellationToken.None).WaitAsync(Deadline)).InstanceId);
        Assert.Equal(3, _cloud.Api.RunRequests.Count);

        await restarted.StopAsync(replacement, TimeSpan.FromSeconds(5), CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal(ProviderReplicaState.Exited, (await restarted.GetStatusAsync(replacement, CancellationToken.None).WaitAsync(Deadline)).State);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => _http.GetAsync(new Uri(replacement.EndpointUrl + "/health")).WaitAsync(Deadline));
    }

    private async Task UntilHealthyAsync(ReplicaHandle handle)
    {
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            try
            {
                using var response = await _http.GetAsync(new Uri(handle.EndpointUrl + "/health")).WaitAsync(Deadline);
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // The replica is still loading.
            }

            Assert.True(DateTime.UtcNow < until, $"replica {handle.ReplicaId} at {handle.EndpointUrl} was not healthy within {Deadline}");
            await Task.Delay(200);
        }
    }
}
