using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Providers.Cloud.Tests.Support;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;
using WrinkleFree.Service.State;
using WrinkleFree.Testing;
using Xunit.Abstractions;

namespace WrinkleFree.Providers.Cloud.Tests.Service;

/// <summary>
/// A whole service in this process (controller, real load balancer, `wf replica` with mutual TLS to every cloud replica)
/// on a free local base tier and a cloud spot tier served by the EC2 double, whose instances boot from their user-data as
/// `wf replica` processes on 127.0.0.N, each watching an instance metadata double of its own: replicas spill into spot
/// at the base tier's capacity; a spot notice under load drains the instance and its preemption costs no request, the
/// replacement going to the next zone; a restarted controller adopts its instance and launches none again.
/// </summary>
[Collection(nameof(CloudServiceTests))]
public sealed class CloudServiceTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private static string TinyModel => Path.Combine(RepositoryPaths.Root, "models", "wrinklefree-tiny.gguf");
    private readonly int _port = FreePort.Next();
    private readonly NoticedInstances _instances = new();
    private CloudFixture _cloud = null!;

    public async Task InitializeAsync()
    {
        _cloud = await CloudFixture.StartAsync();
        _cloud.Api.Runner = _instances.Start;
    }

    public async Task DisposeAsync()
    {
        await _cloud.DisposeAsync();
        await _instances.DisposeAsync();
    }

    private string Spec(int minReplicas, int baseCapacity) => $"""
        service:
          readiness_probe:
            path: /health
            initial_delay_seconds: 60
          replica_policy:
            min_replicas: {minReplicas}
        envs:
          MODEL_PATH: {TinyModel}
          NUM_THREADS: "1"
        tiers:
          - name: base
            provider: local
            capacity: {baseCapacity}
            cost_per_hour: 0
          - name: spot
            provider: cloud
            capacity: 3
            cost_per_hour: 0.3
            spot: true
            settings:
              infra: aws
              zones: [us-east-1a, us-east-1b, us-east-1c]
              instance_type: r7a.large
              image: ami-0123456789abcdef0
              port: {_port.ToString(CultureInfo.InvariantCulture)}
        """;

    [Fact]
    public async Task Service_AtTheBaseTiersCapacity_SpillsIntoASpotInstanceServedOverMutualTls()
    {
        await using var service = await RunningService.StartAsync(_cloud, Spec(minReplicas: 2, baseCapacity: 1));

        var placed = await service.WaitForAsync(s => s.ReadyCount == 2, "a local and a spot replica ready");

        Assert.Equal("base", Assert.Single(placed.Replicas, r => r.Tier == "base" && r.Status == ReplicaStatus.Ready).Tier);
        var spot = Assert.Single(placed.Replicas, r => r.Tier == "spot");
        var instance = Assert.Single(_cloud.Api.Instances);
        Assert.Equal(("us-east-1a", "running", true), (instance.Zone, instance.State, instance.Spot));
        Assert.Equal($"https://{instance.PrivateIp}:{_port}", spot.Endpoint);
        // Through the balancer, with its client certificate, the instance serves completions...
        for (var i = 0; i < 20 && await GeneratedTokensAsync(service, spot.Endpoint!) == 0; i++)
            await service.CompleteAsync();
        Assert.True(await GeneratedTokensAsync(service, spot.Endpoint!) > 0, "no completion reached the spot instance");
        // ...and it turns away a client without one.
        using var anonymous = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } }) { Timeout = TimeSpan.FromSeconds(10) };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => anonymous.GetAsync(new Uri(spot.Endpoint + "/health")).WaitAsync(Deadline));
    }

    [Fact]
    public async Task Service_SpotNoticeUnderLoad_DrainsWithNoFailedRequestAndReplacesThePreemptedInstanceInTheNextZone()
    {
        await using var service = await RunningService.StartAsync(_cloud, Spec(minReplicas: 2, baseCapacity: 1));
        var placed = await service.WaitForAsync(s => s.ReadyCount == 2, "a local and a spot replica ready");
        var victim = Assert.Single(placed.Replicas, r => r.Tier == "spot");
        var instance = Assert.Single(_cloud.Api.Instances);

        using var stopLoad = new CancellationTokenSource();
        var failures = new List<string>();
        var sent = 0;
        var load = Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                var error = await service.TryCompleteAsync();
                if (error is not null)
                {
                    lock (failures)
                        failures.Add(error);
                }

                Interlocked.Increment(ref sent);
            }
        });
        await UntilAsync(() => Volatile.Read(ref sent) >= 5, "requests flowing");
        // The instance takes its share of the load before its notice, so a lost request there would show.
        var until = DateTime.UtcNow + Deadline;
        while (await GeneratedTokensAsync(service, victim.Endpoint!) == 0)
        {
            Assert.True(DateTime.UtcNow < until, "no completion reached the spot instance");
            await Task.Delay(100);
        }

        var metadata = _instances.Metadata(instance.InstanceId);
        metadata.IssueNotice(DateTimeOffset.UtcNow.AddMinutes(2));
        await UntilAsync(() => metadata.Requests.Any(r => r.StartsWith("GET /latest/meta-data/spot/instance-action ", StringComparison.Ordinal) && r.EndsWith(" 200", StringComparison.Ordinal)), "the replica to read the notice");
        // The prober sees /health 503 draining: the balancer stops routing to the instance before it dies.
        // The replica drains once it has read the notice; its /health says so.
        var drainingBy = DateTime.UtcNow + Deadline;
        for (var health = await HealthAsync(service, victim.Endpoint!);
            health.Status != HttpStatusCode.ServiceUnavailable || !health.Body.Contains("draining", StringComparison.Ordinal);
            health = await HealthAsync(service, victim.Endpoint!))
        {
            Assert.True(DateTime.UtcNow < drainingBy, $"the noticed replica still answers /health {(int)health.Status}: {health.Body}");
            await Task.Delay(100);
        }

        await service.WaitForAsync(s => s.Replicas.Single(r => r.Id == victim.Id).Status != ReplicaStatus.Ready, "the noticed replica to leave the ready set");
        await _cloud.Api.PreemptAsync(instance.InstanceId).WaitAsync(Deadline);

        var replaced = await service.WaitForAsync(
            s => s.ReadyCount == 2 && s.Replicas.Any(r => r.Tier == "spot" && r.Id != victim.Id && r.Status == ReplicaStatus.Ready), "the preempted replica replaced");
        var during = Volatile.Read(ref sent);
        await UntilAsync(() => Volatile.Read(ref sent) >= during + 5, "requests after the replacement");
        await stopLoad.CancelAsync();
        await load.WaitAsync(Deadline);

        output.WriteLine($"{sent} requests, {failures.Count} failed; instances: {string.Join(", ", _cloud.Api.Instances.Select(i => $"{i.InstanceId}:{i.Zone}:{i.State}:{i.StateReasonCode}"))}");
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests failed: {string.Join("; ", failures.Take(5))}");
        var record = await service.Store.GetReplicaAsync("svc", victim.Id, Token());
        Assert.Equal("PREEMPTED", record?.Status);
        Assert.DoesNotContain(replaced.Replicas, r => r.Id == victim.Id && r.Status == ReplicaStatus.Ready);
        Assert.Equal(["us-east-1a", "us-east-1b"], _cloud.Api.RunRequests.Select(r => r["Placement.AvailabilityZone"]));
        var replacement = _cloud.Api.Instances[1];
        Assert.Equal(("us-east-1b", "running", true), (replacement.Zone, replacement.State, replacement.Spot));
        Assert.Equal($"https://{replacement.PrivateIp}:{_port}", replaced.Replicas.Single(r => r.Tier == "spot" && r.Status == ReplicaStatus.Ready).Endpoint);
    }

    [Fact]
    public async Task Service_ControllerRestart_AdoptsItsInstanceAndLaunchesNoneAgain()
    {
        var spec = Spec(minReplicas: 1, baseCapacity: 0);
        var before = await RunningService.StartAsync(_cloud, spec);
        var first = await before.WaitForAsync(s => s.ReadyCount == 1, "one ready spot replica");
        var spot = Assert.Single(first.Replicas);
        Assert.Equal("spot", spot.Tier);
        // The controller and its provider go away; the instance stays, as it does when the daemon restarts.
        await before.LeaveRunningAsync();

        await using var after = await RunningService.StartAsync(_cloud, spec);
        var adopted = await after.WaitForAsync(s => s.ReadyCount == 1, "the instance adopted and ready");

        Assert.Equal(spot.Id, Assert.Single(adopted.Replicas, r => !r.Status.IsTerminal()).Id);
        Assert.Equal(spot.Endpoint, adopted.Replicas.Single(r => r.Id == spot.Id).Endpoint);
        Assert.Single(_cloud.Api.RunRequests);
        Assert.Equal("running", Assert.Single(_cloud.Api.Instances).State);
        await after.CompleteAsync();
    }

    [Fact]
    public async Task Service_AllSpotZonesOutOfCapacity_OnDemandStandsInAndLeavesOnceSpotIsBack()
    {
        _cloud.Api.FailLaunches("us-east-1a");
        _cloud.Api.FailLaunches("us-east-1b");
        var spec = $"""
            service:
              readiness_probe:
                path: /health
                initial_delay_seconds: 60
              replica_policy:
                min_replicas: 1
                dynamic_ondemand_fallback: true
            envs:
              MODEL_PATH: {TinyModel}
              NUM_THREADS: "1"
            tiers:
              - name: spot
                provider: cloud
                capacity: 3
                cost_per_hour: 0.3
                spot: true
                settings: {Settings("[us-east-1a, us-east-1b]")}
              - name: ondemand
                provider: cloud
                capacity: 3
                cost_per_hour: 1.0
                settings: {Settings("[us-east-2a]")}
            """;
        await using var service = await RunningService.StartAsync(_cloud, spec);

        // Spot fails in every zone: an on-demand instance stands in and serves.
        var standIn = await service.WaitForAsync(s => s.Replicas.Any(r => r.Tier == "ondemand" && r.Status == ReplicaStatus.Ready), "an on-demand stand-in ready");
        var onDemand = Assert.Single(_cloud.Api.Instances, i => i.Zone == "us-east-2a");
        Assert.False(onDemand.Spot);
        Assert.Contains(_cloud.Api.RunRequests, r => r["Placement.AvailabilityZone"] == "us-east-1b");
        await service.CompleteAsync();

        // Spot comes back: a spot replica becomes ready and the stand-in leaves (its instance terminated).
        _cloud.Api.ClearFailure("us-east-1a");
        _cloud.Api.ClearFailure("us-east-1b");
        var back = await service.WaitForAsync(
            s => s.Replicas.Any(r => r.Tier == "spot" && r.Status == ReplicaStatus.Ready) && !s.Replicas.Any(r => r.Tier == "ondemand" && !r.Status.IsTerminal()),
            "spot ready and the stand-in gone");
        Assert.Equal(1, back.ReadyCount);
        await UntilAsync(() => _cloud.Api.Instances.Single(i => i.InstanceId == onDemand.InstanceId).State == "terminated", "the stand-in's instance terminated");
        Assert.True(_cloud.Api.Instances.Single(i => i.State == "running").Spot);
        await service.CompleteAsync();
        Assert.DoesNotContain(standIn.Replicas, r => r.Tier == "spot" && r.Status == ReplicaStatus.Ready);
        // Waiting for capacity is not a crash loop: the service never gave up launching.
        Assert.NotEqual(ServiceController.FailedStatus, (await service.Store.GetServiceAsync("svc", Token()))!.Status);
    }

    private string Settings(string zones) =>
        $"{{infra: aws, zones: {zones}, instance_type: r7a.large, image: ami-0123456789abcdef0, port: {_port.ToString(CultureInfo.InvariantCulture)}}}";

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "timed out waiting for " + what);
            await Task.Delay(50);
        }
    }

    private static CancellationToken Token(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    /// <summary>A controller on a store in the cloud fixture's home, with the local and cloud providers.</summary>
    private static class RunningService
    {
        public static Task<InProcessService> StartAsync(CloudFixture cloud, string spec) =>
            InProcessService.StartAsync(
                Directory.CreateDirectory(Path.Combine(cloud.Home.Path, "daemon")).FullName, spec,
                new Dictionary<string, IReplicaProvider> { [ProviderNames.Cloud] = cloud.NewProvider() }, Deadline,
                o => o with { SpotCapacityCooldown = TimeSpan.FromSeconds(2) });
    }

    /// <summary>wf_generated_tokens_total of the replica at <paramref name="endpoint"/>, read over mutual TLS as the balancer's client.</summary>
    private static async Task<double> GeneratedTokensAsync(InProcessService service, string endpoint)
    {
        using var http = ReplicaClient(service);
        var metrics = await http.GetStringAsync(new Uri(endpoint + "/metrics")).WaitAsync(Deadline);
        var line = metrics.Split('\n').SingleOrDefault(l => l.StartsWith("wf_generated_tokens_total ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line["wf_generated_tokens_total ".Length..], CultureInfo.InvariantCulture);
    }

    /// <summary>The replica's /health status and body, read over mutual TLS as the balancer's client.</summary>
    private static async Task<(HttpStatusCode Status, string Body)> HealthAsync(InProcessService service, string endpoint)
    {
        using var http = ReplicaClient(service);
        using var response = await http.GetAsync(new Uri(endpoint + "/health")).WaitAsync(Deadline);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static HttpClient ReplicaClient(InProcessService service)
    {
        var pki = Path.Combine(service.Home, "pki", "svc");
        var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(Path.Combine(pki, "client.crt"), Path.Combine(pki, "client.key"))];
        // The replica's certificate names its instance, not the address dialled; these reads only look, they send nothing.
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
    }
}
