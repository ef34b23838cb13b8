using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Pools;
using WrinkleFree.Providers.Ssh.Tests.Support;
using WrinkleFree.Service.Providers;
using WrinkleFree.Testing;

namespace WrinkleFree.Providers.Ssh.Tests.Nodes;

/// <summary>The supervised-process path over real child processes (this machine has no running systemd).</summary>
public sealed class NodeRuntimeTests : IAsyncLifetime
{
    private static readonly SshNode Node = new() { Pool = "p", Host = "10.0.0.9", User = "ops" };
    private readonly TempDirectory _root = new("wf-ssh-tests");
    private readonly LocalShellSession _session = new(Node);
    private readonly NodeRuntime _runtime;

    public NodeRuntimeTests() =>
        _runtime = new NodeRuntime(NodeLayout.For(1000, "/home/ops", Path.Combine(_root.Path, "node")), NodeRuntimeMode.Supervisor, TimeProvider.System);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _runtime.RemoveAllAsync(_session, TimeSpan.FromSeconds(1), TestTimeout.Token());
        await _session.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    public async Task StartAsync_Twice_ReturnsTheRunningReplica()
    {
        var spec = Spec("svc", 1, "echo \"port=$PORT host=$HOST svc=$WF_SERVICE id=$WF_REPLICA_ID extra=$EXTRA\"; exec sleep 600") with
        {
            Envs = new Dictionary<string, string> { ["EXTRA"] = "it's $HOME \"quoted\"", ["PORT"] = "1" },
        };

        var first = await _runtime.StartAsync(_session, spec, TestTimeout.Token());
        var second = await _runtime.StartAsync(_session, spec, TestTimeout.Token());

        Assert.NotNull(first.Pid);
        Assert.NotNull(first.StartTime);
        Assert.Equal(first, second);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), first.BootId);
        Assert.Equal((8123, NodeRuntimeMode.Supervisor), (first.Port, first.Mode));
        Assert.Equal(ProviderReplicaState.Running, (await _runtime.StatusAsync(_session, first, TestTimeout.Token())).State);
        Assert.True(await _runtime.AdoptAsync(_session, first, TestTimeout.Token()));
        Assert.Single(await _runtime.ListAsync(_session, TestTimeout.Token()));
        await NodeWait.UntilAsync(_session, $"grep -q extra= {ShellQuote.Quote(first.LogPath)}");
        var log = File.ReadAllText(first.LogPath);
        Assert.Contains("port=8123 host=0.0.0.0 svc=svc id=1 extra=it's $HOME \"quoted\"", log, StringComparison.Ordinal);
        Assert.Single(log.Split('\n'), l => l.StartsWith("--- wf: replica 1 of svc (version 3) starting at", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_Command_RunsItDirectly()
    {
        var replica = await _runtime.StartAsync(_session, new NodeReplicaSpec
        {
            Service = "direct", ReplicaId = 2, Port = 8124, Command = "sleep", Arguments = ["600"],
        }, TestTimeout.Token());

        Assert.Equal("sleep", File.ReadAllText($"/proc/{replica.Pid}/comm").Trim());
    }

    [Fact]
    public async Task Crash_IsRestartedBySupervisor_AndOnlyTheNewProcessIsAdopted()
    {
        var first = await _runtime.StartAsync(_session,
            Spec("crashy", 1, "if [ -f crashed ]; then echo second run; exec sleep 600; fi; touch crashed; echo first run; while [ ! -f go ]; do sleep 0.05; done; exit 3"),
            TestTimeout.Token());
        Assert.NotNull(first.Pid);
        File.WriteAllText(Path.Combine(_runtime.Layout.ReplicaDirectory("crashy", 1), "go"), "");

        await NodeWait.UntilAsync(_session, $"grep -q 'second run' {ShellQuote.Quote(first.LogPath)}");
        var now = (await _runtime.InspectAsync(_session, "crashy", 1, TestTimeout.Token()))!;

        Assert.Equal(ProviderReplicaState.Running, now.Status.State);
        Assert.NotEqual(first.Pid, now.Replica.Pid);
        Assert.False(await _runtime.AdoptAsync(_session, first, TestTimeout.Token()));
        Assert.True(await _runtime.AdoptAsync(_session, now.Replica, TestTimeout.Token()));
        Assert.False(await _runtime.AdoptAsync(_session, now.Replica with { StartTime = now.Replica.StartTime + 1 }, TestTimeout.Token()));
        var status = await _runtime.StatusAsync(_session, first, TestTimeout.Token());
        Assert.Equal(ProviderReplicaState.Running, status.State);
        Assert.Contains("restarted", status.Detail, StringComparison.Ordinal);
        Assert.Contains("--- wf: replica exited with code 3; restarting in 1s ---", File.ReadAllText(first.LogPath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CleanExit_IsNotRestarted_AndReportsExitCodeZero()
    {
        var replica = await _runtime.StartAsync(_session, Spec("once", 1, "echo done"), TestTimeout.Token());

        await NodeWait.UntilAsync(_session, $"[ -f {ShellQuote.Quote(_runtime.Layout.ReplicaDirectory("once", 1) + "/exit")} ]");
        var status = await _runtime.StatusAsync(_session, replica, TestTimeout.Token());

        Assert.Equal((ProviderReplicaState.Exited, 0), (status.State, status.ExitCode));
        Assert.False(await _runtime.AdoptAsync(_session, replica, TestTimeout.Token()));
        Assert.Contains("exited cleanly; not restarting", File.ReadAllText(replica.LogPath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopAsync_DrainingReplica_GetsSigtermAndEnds()
    {
        var replica = await _runtime.StartAsync(_session,
            Spec("drain", 1, "trap 'echo got SIGTERM; exit 0' TERM; echo ready; while :; do sleep 0.1; done"), TestTimeout.Token());
        await NodeWait.UntilAsync(_session, $"grep -q ready {ShellQuote.Quote(replica.LogPath)}");

        var killed = await _runtime.StopAsync(_session, "drain", 1, TimeSpan.FromSeconds(20), TestTimeout.Token());

        Assert.False(killed);
        Assert.False(NodeWait.Alive(replica.Pid!.Value));
        var log = File.ReadAllText(replica.LogPath);
        Assert.Contains("got SIGTERM", log, StringComparison.Ordinal);
        Assert.Contains("--- wf: replica stopped (exit code 0) ---", log, StringComparison.Ordinal);
        Assert.Empty(await _runtime.ListAsync(_session, TestTimeout.Token()));
        Assert.Equal(ProviderReplicaState.Exited, (await _runtime.StatusAsync(_session, replica, TestTimeout.Token())).State);
    }

    [Fact]
    public async Task StopAsync_ReplicaIgnoringSigterm_IsKilledAfterTheDrainTimeout()
    {
        var replica = await _runtime.StartAsync(_session,
            Spec("stubborn", 1, "trap 'echo got SIGTERM, ignoring it' TERM; echo ready; while :; do sleep 0.1; done"), TestTimeout.Token());
        await NodeWait.UntilAsync(_session, $"grep -q ready {ShellQuote.Quote(replica.LogPath)}");

        var killed = await _runtime.StopAsync(_session, "stubborn", 1, TimeSpan.FromSeconds(1), TestTimeout.Token());

        Assert.True(killed);
        Assert.False(NodeWait.Alive(replica.Pid!.Value));
        var log = File.ReadAllText(replica.LogPath);
        Assert.Contains("got SIGTERM, ignoring it", log, StringComparison.Ordinal);
        Assert.Contains("did not drain in time; killed", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopAsync_NothingThere_Succeeds()
    {
        Assert.False(await _runtime.StopAsync(_session, "never", 4, TimeSpan.FromSeconds(1), TestTimeout.Token()));
    }

    [Fact]
    public async Task LogsAsync_TailAndFollow()
    {
        var replica = await _runtime.StartAsync(_session,
            Spec("talker", 1, "i=0; while :; do echo \"tick $i\"; i=$((i+1)); sleep 0.05; done"), TestTimeout.Token());
        await NodeWait.UntilAsync(_session, $"grep -q 'tick 5' {ShellQuote.Quote(replica.LogPath)}");

        var tail = new List<string>();
        await foreach (var line in _runtime.LogsAsync(_session, "talker", 1, 2, follow: false, TestTimeout.Token()))
        {
            tail.Add(line);
        }

        using var follow = CancellationTokenSource.CreateLinkedTokenSource(TestTimeout.Token());
        var followed = new List<string>();
        await foreach (var line in _runtime.LogsAsync(_session, "talker", 1, 1, follow: true, follow.Token))
        {
            followed.Add(line);
            if (followed.Count == 4)
            {
                break;
            }
        }

        Assert.Equal(2, tail.Count);
        Assert.All(tail, l => Assert.StartsWith("tick ", l, StringComparison.Ordinal));
        var ticks = followed.Select(l => int.Parse(l["tick ".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(ticks[0], 4), ticks);
    }

    [Fact]
    public async Task RemoveAllAsync_StopsEveryReplica()
    {
        var a = await _runtime.StartAsync(_session, Spec("a", 1, "exec sleep 600"), TestTimeout.Token());
        var b = await _runtime.StartAsync(_session, Spec("b", 7, "exec sleep 600"), TestTimeout.Token());

        var listed = await _runtime.ListAsync(_session, TestTimeout.Token());
        var removed = await _runtime.RemoveAllAsync(_session, TimeSpan.FromSeconds(5), TestTimeout.Token());

        Assert.Equal(["a-1", "b-7"], listed.Select(r => NodeLayout.ReplicaName(r.Replica.Service, r.Replica.ReplicaId)).Order());
        Assert.Equal(2, removed.Count);
        Assert.False(NodeWait.Alive(a.Pid!.Value));
        Assert.False(NodeWait.Alive(b.Pid!.Value));
        Assert.Empty(await _runtime.ListAsync(_session, TestTimeout.Token()));
    }

    [Fact]
    public async Task SupervisorKilledFromOutside_IsExitedWithoutCode_AndStartRunsItAgain()
    {
        var first = await _runtime.StartAsync(_session, Spec("orphan", 1, "exec sleep 600"), TestTimeout.Token());
        var dir = ShellQuote.Quote(_runtime.Layout.ReplicaDirectory("orphan", 1));
        await _session.RunAsync($"kill -KILL $(cat {dir}/supervisor.pid) {first.Pid}", TimeSpan.FromSeconds(30), TestTimeout.Token());
        await NodeWait.UntilAsync(_session, $"! kill -0 {first.Pid} 2>/dev/null || grep -q '^[0-9]* ([^)]*) Z' /proc/{first.Pid}/stat");

        var status = await _runtime.StatusAsync(_session, first, TestTimeout.Token());
        var again = await _runtime.StartAsync(_session, Spec("orphan", 1, "exec sleep 600"), TestTimeout.Token());

        Assert.Equal((ProviderReplicaState.Exited, (int?)null), (status.State, status.ExitCode));
        Assert.NotEqual(first.Pid, again.Pid);
        Assert.True(NodeWait.Alive(again.Pid!.Value));
        Assert.Equal(ProviderReplicaState.Running, (await _runtime.StatusAsync(_session, again, TestTimeout.Token())).State);
    }

    [Fact]
    public async Task FailingSetup_IsSaidInTheLog_AndTheCommandDoesNotRun()
    {
        var replica = await _runtime.StartAsync(_session, Spec("setup", 1, "echo command ran; exec sleep 600") with { Setup = "echo preparing; exit 7" }, TestTimeout.Token());

        await NodeWait.UntilAsync(_session, $"grep -q 'exited with code 7' {ShellQuote.Quote(replica.LogPath)}");

        var log = File.ReadAllText(replica.LogPath);
        Assert.Contains("preparing", log, StringComparison.Ordinal);
        Assert.Contains("--- wf: setup failed with exit code 7; the replica's command did not run ---", log, StringComparison.Ordinal);
        Assert.DoesNotContain("command ran", log, StringComparison.Ordinal);
    }

    private static NodeReplicaSpec Spec(string service, int id, string run) => new()
    {
        Service = service,
        ReplicaId = id,
        Version = 3,
        Run = run,
        Port = 8123,
    };
}
