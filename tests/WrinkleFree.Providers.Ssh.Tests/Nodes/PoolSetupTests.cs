using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Tests.Support;
using WrinkleFree.Service.Providers;
using WrinkleFree.Testing;

namespace WrinkleFree.Providers.Ssh.Tests.Nodes;

/// <summary>Three "nodes" (each its own root folder on this machine) and one unreachable host.</summary>
public sealed class PoolSetupTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("wf-ssh-tests");
    private readonly SshNode[] _nodes;
    private readonly PoolSetup _setup;
    private readonly string _wf;
    private readonly string _model;

    public PoolSetupTests()
    {
        _nodes = new[] { "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.9.9.9" }.Select(h => new SshNode { Pool = "base", Host = h, User = "ops" }).ToArray();
        _setup = new PoolSetup(new LocalShellConnector("10.9.9.9"), TimeProvider.System, new PoolSetupOptions
        {
            RootFor = node => Path.Combine(_dir.Path, node.Host),
            DrainTimeout = TimeSpan.FromSeconds(2),
            MaxParallel = 2,
        });
        _wf = Path.Combine(_dir.Sub("local"), "wf");
        File.WriteAllText(_wf, "#!/bin/sh\necho 0.13.0+test\n");
        _model = Path.Combine(_dir.Path, "local", "tiny.gguf");
        var bytes = new byte[50_000];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(_model, bytes);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _setup.DownAsync(_nodes, TestTimeout.Token());
        _dir.Dispose();
    }

    [Fact]
    public async Task UpAsync_InstallsOnEveryReachableNode_AndSecondRunCopiesNothing()
    {
        var progress = new List<(SshNode Node, string File, long Done, long Total)>();

        var first = await _setup.UpAsync(_nodes, _wf, [_model], new SyncProgress(progress), TestTimeout.Token());
        var second = await _setup.UpAsync(_nodes, _wf, [_model], null, TestTimeout.Token());

        Assert.Equal(_nodes, first.Select(r => r.Node));
        foreach (var result in first.Take(3))
        {
            Assert.True(result.Succeeded, result.Error);
            Assert.Equal([InstallOutcome.Uploaded, InstallOutcome.Uploaded], result.Files.Select(f => f.Outcome));
            Assert.Equal("0.13.0+test", result.Facts!.WfVersion);
            var sha = await NodeInstaller.Sha256Async(_model, TestTimeout.Token());
            Assert.Equal(Path.Combine(_dir.Path, result.Node.Host, "models", sha + ".gguf"), result.Files[1].RemotePath);
            Assert.True(File.Exists(result.Files[1].RemotePath));
        }

        Assert.All(second.Take(3), r => Assert.Equal([(InstallOutcome.Skipped, 0L), (InstallOutcome.Skipped, 0L)], r.Files.Select(f => (f.Outcome, f.BytesSent))));
        var unreachable = first[3];
        Assert.False(unreachable.Succeeded);
        Assert.StartsWith("ops@10.9.9.9: ", unreachable.Error, StringComparison.Ordinal);
        Assert.Contains(progress, p => p.Node.Host == "10.0.0.2" && p.File == "tiny.gguf" && p.Done == 50_000 && p.Total == 50_000);
    }

    [Fact]
    public async Task CheckAsync_ReportsCapacityAndRunningReplicas()
    {
        await _setup.UpAsync(_nodes, _wf, [], null, TestTimeout.Token());
        var runtime = new NodeRuntime(NodeLayout.For(1000, "/home/ops", Path.Combine(_dir.Path, "10.0.0.1")), NodeRuntimeMode.Supervisor, TimeProvider.System);
        await using (var session = new LocalShellSession(_nodes[0]))
        {
            await runtime.StartAsync(session, new NodeReplicaSpec { Service = "svc", ReplicaId = 1, Port = 9001, Run = "exec sleep 600" }, TestTimeout.Token());
        }

        var results = await _setup.CheckAsync(_nodes, cpus: 1, memoryGiB: null, replicasPerNode: null, TestTimeout.Token());

        Assert.True(results[0].Reachable, results[0].Error);
        Assert.Equal(Environment.ProcessorCount, results[0].Capacity);
        Assert.Equal(Environment.ProcessorCount - 1, results[0].Free);
        Assert.Equal(ProviderReplicaState.Running, Assert.Single(results[0].Facts!.Replicas).Status.State);
        Assert.Equal(Environment.ProcessorCount, results[1].Free);
        Assert.Equal("0.13.0+test", results[2].Facts!.WfVersion);
        Assert.False(results[3].Reachable);
        Assert.Null(results[3].Facts);
        Assert.Contains("10.9.9.9", results[3].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DownAsync_StopsReplicasAndRemovesWhatUpInstalled()
    {
        await _setup.UpAsync(_nodes, _wf, [_model], null, TestTimeout.Token());
        var root = Path.Combine(_dir.Path, "10.0.0.2");
        var runtime = new NodeRuntime(NodeLayout.For(1000, "/home/ops", root), NodeRuntimeMode.Supervisor, TimeProvider.System);
        NodeReplica replica;
        await using (var session = new LocalShellSession(_nodes[1]))
        {
            replica = await runtime.StartAsync(session, new NodeReplicaSpec { Service = "svc", ReplicaId = 4, Port = 9002, Run = "exec sleep 600" }, TestTimeout.Token());
        }

        var results = await _setup.DownAsync(_nodes, TestTimeout.Token());

        Assert.All(results.Take(3), r => Assert.True(r.Succeeded, r.Error));
        Assert.Equal(("svc", 4), (Assert.Single(results[1].Stopped).Service, results[1].Stopped[0].ReplicaId));
        Assert.False(NodeWait.Alive(replica.Pid!.Value));
        Assert.False(Directory.Exists(root));
        Assert.False(results[3].Succeeded);
    }

    private sealed class SyncProgress(List<(SshNode, string, long, long)> reports) : IProgress<(SshNode Node, string File, long Done, long Total)>
    {
        public void Report((SshNode Node, string File, long Done, long Total) value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
