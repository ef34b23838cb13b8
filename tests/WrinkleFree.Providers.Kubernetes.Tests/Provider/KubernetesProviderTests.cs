using System.Diagnostics;
using WrinkleFree.Providers.Kubernetes.Tests.Support;
using WrinkleFree.Service.Providers;
using WrinkleFree.Testing.Kubernetes;

namespace WrinkleFree.Providers.Kubernetes.Tests.Provider;

/// <summary>The provider against the Kubernetes API test double: pods launched, watched, stopped, logged and adopted.</summary>
public sealed class KubernetesProviderTests
{
    [Fact]
    public async Task LaunchAsync_SameReplicaTwiceAndFromARestartedDaemon_OnePodAndTheSameUid()
    {
        await using var cluster = await TestCluster.StartAsync();
        var provider = cluster.NewProvider();

        var daemonEnvironment = new Dictionary<string, string> { ["PATH"] = "/home/wf/.wrinklefree/bin:/usr/bin", ["WF_HOME"] = "/home/wf/.wrinklefree", ["NUM_THREADS"] = "4" };
        var first = await provider.LaunchAsync(TestCluster.Request(1) with { Envs = daemonEnvironment }, Poll.Token());
        var again = await provider.LaunchAsync(TestCluster.Request(1), Poll.Token());
        var fromRestart = await cluster.NewProvider().LaunchAsync(TestCluster.Request(1), Poll.Token());

        var pod = Assert.Single(cluster.Api.Pods(TestCluster.Namespace));
        Assert.Equal("wf-svc-1", pod.Metadata.Name);
        Assert.Equal((pod.Metadata.Uid, pod.Metadata.Uid, pod.Metadata.Uid), (first.PodUid, again.PodUid, fromRestart.PodUid));
        Assert.Equal(first, again);
        Assert.Equal(("svc", "1", "1", "k8s"), (pod.Metadata.Labels["wrinklefree/service"], pod.Metadata.Labels["wrinklefree/replica"], pod.Metadata.Labels["wrinklefree/version"], pod.Metadata.Labels["wrinklefree/tier"]));
        Assert.StartsWith("http://127.0.0.1:", first.EndpointUrl, StringComparison.Ordinal);
        Assert.Equal((TestCluster.Namespace, TestCluster.Context), (first.PodNamespace, first.KubeContext));
        // The daemon's own PATH and home mean nothing in the pod: the image's hold there.
        Assert.Equal(["HOST=0.0.0.0", "NUM_THREADS=4", "PORT=8080"], pod.Spec.Containers[0].Env.Select(e => e.Name + "=" + e.Value));
    }

    [Fact]
    public async Task LaunchAsync_ThroughThePortForward_ReachesTheLiveReplica()
    {
        await using var cluster = await TestCluster.StartAsync();
        var provider = cluster.NewProvider();

        var handle = await provider.LaunchAsync(TestCluster.Request(1), Poll.Token());

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var health = await Poll.UntilAsync(async () => await TryGetAsync(http, handle.EndpointUrl + "/health"), s => s.Status == 200, "the replica's /health through the forward");
        Assert.Equal(200, health.Status);
        // Several requests on new connections: each opens its own WebSocket to the API.
        for (var i = 0; i < 3; i++)
        {
            using var fresh = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(10) };
            Assert.Equal(200, (await TryGetAsync(fresh, handle.EndpointUrl + "/health")).Status);
        }

        Assert.Contains(cluster.Api.Requests, r => r.StartsWith("GET /api/v1/namespaces/wf/pods/wf-svc-1/portforward?ports=8080", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetStatusAsync_FollowsTheWatch_PendingRunningThenEvictedIsPreempted()
    {
        await using var cluster = await TestCluster.StartAsync();
        cluster.Api.ReadyAfter = null;
        var provider = cluster.NewProvider();
        var handle = await provider.LaunchAsync(TestCluster.Request(1), Poll.Token());

        await Poll.UntilAsync(() => cluster.Api.Pods(TestCluster.Namespace)[0].Status.Phase == "Running", "the pod running");
        var running = await Poll.UntilAsync(() => provider.GetStatusAsync(handle, Poll.Token()), s => s.Detail is null, "status running");
        Assert.Equal(ProviderReplicaState.Running, running.State);
        cluster.Api.MarkReady(TestCluster.Namespace, "wf-svc-1");
        Assert.Equal(ProviderReplicaState.Running, (await provider.GetStatusAsync(handle, Poll.Token())).State);

        await cluster.Api.EvictAsync(TestCluster.Namespace, "wf-svc-1");

        var evicted = await Poll.UntilAsync(() => provider.GetStatusAsync(handle, Poll.Token()), s => s.State != ProviderReplicaState.Running, "the eviction seen");
        Assert.Equal(ProviderReplicaState.Preempted, evicted.State);
        Assert.Contains("evicted", evicted.Detail, StringComparison.Ordinal);
        // Status came from the watch: the pods were listed once and never read one by one after the launch.
        Assert.Single(cluster.Api.Requests, r => r.StartsWith("GET /api/v1/namespaces/wf/pods?", StringComparison.Ordinal) && !r.Contains("watch=true", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetStatusAsync_NodeNotReadyOrDeletedBySomeoneElse_Preempted_AndAWatchTooOldRelists()
    {
        await using var cluster = await TestCluster.StartAsync();
        var provider = cluster.NewProvider();
        var one = await provider.LaunchAsync(TestCluster.Request(1), Poll.Token());
        var two = await provider.LaunchAsync(TestCluster.Request(2), Poll.Token());
        await Poll.UntilAsync(() => cluster.Api.Pods(TestCluster.Namespace).All(p => p.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True")), "both pods ready");
        await Poll.UntilAsync(() => provider.GetStatusAsync(one, Poll.Token()), s => s.State == ProviderReplicaState.Running && s.Detail is null, "one running");

        // The history the watch would resume from is gone: it must relist, and still see what happens next.
        cluster.Api.ExpireWatchHistory();
        var node = cluster.Api.Pods(TestCluster.Namespace).Single(p => p.Metadata.Name == "wf-svc-1").Spec.NodeName;
        cluster.Api.SetNodeNotReady(node);
        var lost = await Poll.UntilAsync(() => provider.GetStatusAsync(one, Poll.Token()), s => s.State != ProviderReplicaState.Running, "node loss seen");
        Assert.Equal(ProviderReplicaState.Preempted, lost.State);
        Assert.Contains($"node {node} is not ready", lost.Detail, StringComparison.Ordinal);
        await Poll.UntilAsync(() => cluster.Api.Requests.Count(r => r.StartsWith("GET /api/v1/namespaces/wf/pods?", StringComparison.Ordinal) && !r.Contains("watch=true", StringComparison.Ordinal)) >= 2, "a relist after 410 Gone");

        await cluster.Api.DeleteAsOtherAsync(TestCluster.Namespace, "wf-svc-2");
        var deleted = await Poll.UntilAsync(() => provider.GetStatusAsync(two, Poll.Token()), s => s.State != ProviderReplicaState.Running, "the deletion seen");
        Assert.Equal(ProviderReplicaState.Preempted, deleted.State);
        Assert.Contains("deleted, not by wf", deleted.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopAsync_DeletesWithTheDrainGrace_WaitsUntilThePodIsGone_AndItsSecretGoesWithIt()
    {
        await using var cluster = await TestCluster.StartAsync();
        var provider = cluster.NewProvider();
        using var keyFile = new Testing.TempDirectory("wf-k8s-key");
        var key = Path.Combine(keyFile.Path, "api.key");
        await File.WriteAllTextAsync(key, "sk-test");
        var request = TestCluster.Request(1) with { Envs = new Dictionary<string, string> { ["WF_API_KEY_FILE"] = key } };
        var handle = await provider.LaunchAsync(request, Poll.Token());
        await Poll.UntilAsync(() => cluster.Api.Pods(TestCluster.Namespace)[0].Status.Phase == "Running", "the pod running");
        var secret = cluster.Api.Secret(TestCluster.Namespace, "wf-svc-1-files");
        Assert.NotNull(secret);
        Assert.Equal("sk-test", System.Text.Encoding.UTF8.GetString(secret.Data["wf-api-key-file"]));
        Assert.Equal(handle.PodUid, Assert.Single(secret.Metadata.OwnerReferences).Uid);

        await provider.StopAsync(handle, TimeSpan.FromSeconds(3), Poll.Token());

        Assert.Empty(cluster.Api.Pods(TestCluster.Namespace));
        Assert.Null(cluster.Api.Secret(TestCluster.Namespace, "wf-svc-1-files"));
        Assert.Contains(cluster.Api.Requests, r => r.StartsWith("DELETE /api/v1/namespaces/wf/pods/wf-svc-1", StringComparison.Ordinal));
        Assert.Equal(ProviderReplicaState.Exited, (await provider.GetStatusAsync(handle, Poll.Token())).State);
        // Stopping what is gone succeeds.
        await provider.StopAsync(handle, TimeSpan.FromSeconds(3), Poll.Token());
    }

    [Fact]
    public async Task GetLogsAsync_TailThenFollow_UntilTheContainerEnds()
    {
        await using var cluster = await TestCluster.StartAsync();
        cluster.Api.Containers = start => ProcessPodContainer.Start(
            new ProcessStartInfo("/bin/sh", ["-c", "for i in 1 2 3 4 5; do echo line $i; done; sleep 1; echo line 6; echo line 7"]), start.LoopbackPort);
        var provider = cluster.NewProvider();
        var handle = await provider.LaunchAsync(TestCluster.Request(1), Poll.Token());
        await Poll.UntilAsync(() => cluster.Api.Pods(TestCluster.Namespace)[0].Status.Phase == "Running", "the container started");

        var followed = new List<string>();
        await foreach (var line in provider.GetLogsAsync(handle, tail: 2, follow: true, Poll.Token()))
            followed.Add(line);
        var tail = new List<string>();
        await foreach (var line in provider.GetLogsAsync(handle, tail: 3, follow: false, Poll.Token()))
            tail.Add(line);

        // Following began after the first lines were out: the tail of them, then everything up to the end.
        Assert.Equal("line 7", followed[^1]);
        Assert.True(followed.Count is >= 2 and <= 7, string.Join("|", followed));
        Assert.Equal(["line 5", "line 6", "line 7"], tail);
    }

    [Fact]
    public async Task AdoptAsync_ByUid_TheSamePodIsAdoptedAndReachedOnItsPort_AnotherWithItsNameIsNot()
    {
        await using var cluster = await TestCluster.StartAsync();
        var first = cluster.NewProvider();
        var handle = await first.LaunchAsync(TestCluster.Request(1), Poll.Token());
        await first.DisposeAsync();

        var restarted = cluster.NewProvider();
        Assert.True(await restarted.AdoptAsync(handle, Poll.Token()));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal(200, (await Poll.UntilAsync(() => TryGetAsync(http, handle.EndpointUrl + "/health"), s => s.Status == 200, "the adopted replica on its old port")).Status);

        // Someone replaces the pod with another of the same name: a handle of the old one must not adopt it.
        await cluster.Api.DeleteAsOtherAsync(TestCluster.Namespace, "wf-svc-1");
        var other = await cluster.NewProvider().LaunchAsync(TestCluster.Request(1), Poll.Token());
        Assert.NotEqual(handle.PodUid, other.PodUid);
        Assert.False(await cluster.NewProvider().AdoptAsync(handle, Poll.Token()));
        Assert.True(await cluster.NewProvider().AdoptAsync(other with { EndpointUrl = "http://127.0.0.1:" + Testing.FreePort.Next() }, Poll.Token()));
    }

    private static async Task<Reply> TryGetAsync(HttpClient http, string url)
    {
        try
        {
            using var response = await http.GetAsync(url);
            return new Reply((int)response.StatusCode, null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // A timed-out wait names why the last request failed.
            return new Reply(0, e.GetType().Name + ": " + e.Message + (e.InnerException is { } inner ? " (" + inner.Message + ")" : ""));
        }
    }

    private readonly record struct Reply(int Status, string? Error);
}
