using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using WrinkleFree.Service.LoadBalancing;
using WrinkleFree.Service.Tests.Observability;
using WrinkleFree.Service.Tests.State;
using WrinkleFree.Testing.Cloud;

namespace WrinkleFree.Service.Tests.LoadBalancing;

/// <summary>
/// A spot interruption notice under load: two real `wf replica` processes watching EC2 instance metadata (each its own
/// test double) behind a real balancer, continuous non-streaming completions, and a notice to one of them. No request
/// fails, and once the balancer has seen the replica's "draining" refusal it sends that replica nothing more.
/// </summary>
public sealed partial class ServiceLoadBalancerInterruptionTests : IAsyncLifetime
{
    private const int Workers = 4;
    private readonly TempHome _home = new();
    private readonly InstanceMetadataTestDouble?[] _metadata = new InstanceMetadataTestDouble?[2];
    private readonly ReplicaProcess?[] _replicas = new ReplicaProcess?[2];

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 2; i++)
        {
            _metadata[i] = await InstanceMetadataTestDouble.StartAsync().WaitAsync(TestWait.Timeout);
            _replicas[i] = await ReplicaProcess.StartAsync(
                Path.Combine(_home.Path, $"r{i}.log"),
                ["--interruption-notice", "aws"],
                new Dictionary<string, string> { ["WF_INSTANCE_METADATA_URL"] = _metadata[i]!.Url.ToString() });
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            if (replica is not null)
            {
                await replica.DisposeAsync();
            }
        }

        foreach (var metadata in _metadata)
        {
            if (metadata is not null)
            {
                await metadata.DisposeAsync();
            }
        }

        _home.Dispose();
    }

    [Fact]
    public async Task Proxy_SpotNoticeToOneReplicaUnderLoad_NoRequestFailsAndTheDrainedReplicaGetsNoNewRequests()
    {
        var (noticed, survivor) = (_replicas[0]!, _replicas[1]!);
        await using var balancer = await ServiceLoadBalancer.StartAsync(new ServiceLoadBalancerOptions(), new FakeTimeProvider(DateTimeOffset.UnixEpoch), random: new Random(7))
            .WaitAsync(TestWait.Timeout);
        balancer.UpdateReplicas([new ReplicaEndpoint("r0", noticed.Address, Ready: true), new ReplicaEndpoint("r1", survivor.Address, Ready: true)]);
        using var client = new HttpClient { BaseAddress = balancer.BaseUrl, Timeout = TestWait.Timeout };
        using var direct = new HttpClient { Timeout = TestWait.Timeout };
        var load = new Load(client);
        var workers = Enumerable.Range(0, Workers).Select(_ => load.RunAsync()).ToArray();
        try
        {
            await TestWait.UntilAsync(() => load.Succeeded >= 20, "20 completions before the notice", ReplicaProcess.Deadline);
            Assert.True(await CompletionsAsync(direct, noticed, "200") > 0, "both replicas served before the notice");

            _metadata[0]!.IssueNotice(DateTimeOffset.UtcNow.AddMinutes(2));
            await WaitForDrainingAsync(direct, noticed);
            // The balancer learns from the replica's own refusal, the first request it sends there after the notice.
            await WaitForAsync(async () => await CompletionsAsync(direct, noticed, "503") >= 1, "the replica's first draining refusal");
            var afterRefusal = load.Succeeded;
            await TestWait.UntilAsync(() => load.Succeeded >= afterRefusal + 20, "20 completions after the balancer saw the refusal", ReplicaProcess.Deadline);
            var seen = await AllCompletionsAsync(direct, noticed);
            var mark = load.Succeeded;
            await TestWait.UntilAsync(() => load.Succeeded >= mark + 40, "40 more completions", ReplicaProcess.Deadline);

            Assert.Equal(seen, await AllCompletionsAsync(direct, noticed));
        }
        finally
        {
            load.Stop();
            await Task.WhenAll(workers).WaitAsync(ReplicaProcess.Deadline);
        }

        Assert.Empty(load.Failures);
        // At least 60 completions came after the refusal; only the few in flight on the drained replica were not the survivor's.
        Assert.True(await CompletionsAsync(direct, survivor, "200") >= 60 - Workers, "the survivor took the load");
    }

    private static async Task WaitForDrainingAsync(HttpClient direct, ReplicaProcess replica)
    {
        await WaitForAsync(async () =>
        {
            using var response = await direct.GetAsync(new Uri(replica.Address, "health")).WaitAsync(TestWait.Timeout);
            var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(TestWait.Timeout)).RootElement;
            return health.GetProperty("status").GetString() == "draining"
                && health.GetProperty("reason").GetString()!.StartsWith("spot interruption notice (aws)", StringComparison.Ordinal);
        }, "/health draining with the notice as its reason");
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        using var deadline = new CancellationTokenSource(ReplicaProcess.Deadline);
        while (!await condition())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }
        }
    }

    /// <summary>The replica's own count of /v1/completions requests answered with <paramref name="status"/>.</summary>
    private static async Task<long> CompletionsAsync(HttpClient direct, ReplicaProcess replica, string status) =>
        (await CountsAsync(direct, replica)).GetValueOrDefault(status);

    private static async Task<long> AllCompletionsAsync(HttpClient direct, ReplicaProcess replica) =>
        (await CountsAsync(direct, replica)).Values.Sum();

    private static async Task<Dictionary<string, long>> CountsAsync(HttpClient direct, ReplicaProcess replica)
    {
        var text = await direct.GetStringAsync(new Uri(replica.Address, "metrics")).WaitAsync(TestWait.Timeout);
        return CompletionsLine().Matches(text).ToDictionary(m => m.Groups[1].Value, m => (long)double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex("""^wf_requests_total\{endpoint="/v1/completions",status="(\d+)"\} (\S+)$""", RegexOptions.Multiline)]
    private static partial Regex CompletionsLine();

    /// <summary>Workers sending small non-streaming completions through the balancer until stopped, counting outcomes.</summary>
    private sealed class Load(HttpClient client)
    {
        private readonly CancellationTokenSource _stop = new();
        private int _succeeded;

        public int Succeeded => Volatile.Read(ref _succeeded);

        public System.Collections.Concurrent.ConcurrentQueue<string> Failures { get; } = new();

        public void Stop() => _stop.Cancel();

        public async Task RunAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                using var content = new StringContent("""{"prompt": "Once upon a time", "max_tokens": 4}""", Encoding.UTF8, "application/json");
                try
                {
                    using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), content).WaitAsync(TestWait.Timeout);
                    var body = await response.Content.ReadAsStringAsync().WaitAsync(TestWait.Timeout);
                    if ((int)response.StatusCode == 200)
                    {
                        Interlocked.Increment(ref _succeeded);
                    }
                    else
                    {
                        Failures.Enqueue($"{(int)response.StatusCode}: {body}");
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TimeoutException or TaskCanceledException)
                {
                    Failures.Enqueue(e.Message);
                }
            }
        }
    }
}
