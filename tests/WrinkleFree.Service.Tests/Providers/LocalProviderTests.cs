using System.Diagnostics;
using WrinkleFree.Platform.Http;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Tests.State;
using WrinkleFree.Testing;
using static WrinkleFree.Service.Tests.Providers.ProviderTestSupport;

namespace WrinkleFree.Service.Tests.Providers;

/// <summary>The local provider running the real fake upstream (and small shell scripts) as replica processes.</summary>
public sealed class LocalProviderTests : IDisposable
{
    private readonly TempHome _home = new();
    private readonly IReplicaProvider _provider;
    private readonly List<ReplicaHandle> _launched = [];

    public LocalProviderTests() => _provider = Create(_home.Path);

    public void Dispose()
    {
        // Whatever a failed test left running goes too.
        foreach (var handle in _launched)
        {
            _provider.StopAsync(handle, TimeSpan.Zero, CancellationToken.None).Wait(Deadline);
        }

        _home.Dispose();
    }

    [Fact]
    public async Task LaunchAsync_FakeUpstream_EndpointAnswersHealthAndHandleDescribesIt()
    {
        var handle = await LaunchAsync(Request(FakeRun()));

        var serverPid = await WaitHealthyAsync(handle.EndpointUrl).WaitAsync(Deadline);

        Assert.Equal(ProviderNames.Local, handle.Provider);
        Assert.StartsWith("http://127.0.0.1:", handle.EndpointUrl, StringComparison.Ordinal);
        // Below the kernel's ephemeral ports: no outgoing connection can take it before the replica binds it.
        var range = Assert.NotNull(LoopbackPorts.Range);
        Assert.InRange(new Uri(handle.EndpointUrl).Port, range.First, range.Last);
        Assert.Equal(handle.Pid, serverPid); // exec: the run script became the server, keeping the pid
        Assert.NotNull(handle.ProcessStartTime);
        Assert.Equal(Path.Combine(_home.Path, "logs", "svc", "1.log"), handle.LogPath);
        Assert.Equal(ProviderReplicaState.Running, (await _provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline)).State);
        Assert.Equal(handle, ReplicaHandle.FromJson(handle.ToJson()));
    }

    [Fact]
    public async Task LaunchAsync_SameReplicaTwice_ReturnsTheRunningOne()
    {
        var first = await LaunchAsync(Request("sleep 600"));

        var second = await LaunchAsync(Request("sleep 600"));

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task LaunchAsync_Envs_ReachTheScriptWithProviderPortWinning()
    {
        var handle = await LaunchAsync(Request(
            "echo \"model=$MODEL port=$PORT host=$HOST replica=$WF_REPLICA_ID\"",
            envs: new Dictionary<string, string> { ["MODEL"] = "tiny.gguf", ["PORT"] = "1" }));
        await WaitUntilAsync(async () => (await _provider.GetStatusAsync(handle, CancellationToken.None)).State == ProviderReplicaState.Exited, "the script to exit");

        var lines = await CollectAsync(_provider.GetLogsAsync(handle, null, false, CancellationToken.None)).WaitAsync(Deadline);

        var port = new Uri(handle.EndpointUrl).Port;
        Assert.Equal($"model=tiny.gguf port={port} host=127.0.0.1 replica=1", lines[^1]);
        Assert.Equal(ProviderReplicaStatus.Exited(0), await _provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline));
    }

    [Fact]
    public async Task LaunchAsync_DirectCommand_RunsWithoutAShell()
    {
        var handle = await LaunchAsync(new ReplicaLaunchRequest { Service = "svc", ReplicaId = 3, Tier = "base", Command = "/bin/echo", Arguments = ["a b", "$PORT"] });
        await WaitUntilAsync(async () => (await _provider.GetStatusAsync(handle, CancellationToken.None)).State == ProviderReplicaState.Exited, "echo to exit");

        var lines = await CollectAsync(_provider.GetLogsAsync(handle, 1, false, CancellationToken.None)).WaitAsync(Deadline);

        Assert.Equal(["a b $PORT"], lines);
    }

    [Fact]
    public async Task LaunchAsync_Setup_RunsOnceBeforeTheCommandInTheWorkdirWithTheEnvs()
    {
        var workdir = Directory.CreateDirectory(Path.Combine(_home.Path, "work")).FullName;
        var handle = await LaunchAsync(Request("echo \"command sees $(cat setup-done.txt)\"", envs: new Dictionary<string, string> { ["GREETING"] = "hello" }) with
        {
            Setup = "echo \"$GREETING from $(pwd)\" > setup-done.txt\necho setup output",
            WorkingDirectory = workdir,
        });
        await WaitUntilAsync(async () => (await _provider.GetStatusAsync(handle, CancellationToken.None)).State == ProviderReplicaState.Exited, "the replica to exit");

        var lines = await CollectAsync(_provider.GetLogsAsync(handle, null, false, CancellationToken.None)).WaitAsync(Deadline);

        Assert.Equal($"hello from {workdir}", (await File.ReadAllTextAsync(Path.Combine(workdir, "setup-done.txt"))).Trim());
        Assert.Equal(["--- wf: running setup ---", "setup output", "--- wf: setup done; starting the replica ---", $"command sees hello from {workdir}"], lines[^4..]);
        Assert.Equal(ProviderReplicaStatus.Exited(0), await _provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline));
    }

    [Fact]
    public async Task LaunchAsync_FailingSetup_FailsTheReplicaWithItsExitCodeAndSaysSo()
    {
        var marker = Path.Combine(_home.Path, "command-ran");
        var handle = await LaunchAsync(new ReplicaLaunchRequest
        {
            Service = "svc", ReplicaId = 1, Tier = "base", Command = "/usr/bin/touch", Arguments = [marker], Setup = "echo fetching; exit 7",
        });
        await WaitUntilAsync(async () => (await _provider.GetStatusAsync(handle, CancellationToken.None)).State == ProviderReplicaState.Exited, "the replica to exit");

        var lines = await CollectAsync(_provider.GetLogsAsync(handle, null, false, CancellationToken.None)).WaitAsync(Deadline);

        Assert.Equal(ProviderReplicaStatus.Exited(7), await _provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline));
        Assert.Equal(["fetching", "--- wf: setup failed with exit code 7; the replica's command did not run ---"], lines[^2..]);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task LaunchAsync_PortHintFree_UsesIt()
    {
        var port = FreePort.Next();

        var handle = await LaunchAsync(Request("sleep 600") with { PortHint = port });

        Assert.Equal($"http://127.0.0.1:{port}", handle.EndpointUrl);
    }

    [Fact]
    public async Task LaunchAsync_InvalidRequests_ThrowNamingTheField()
    {
        var both = await Assert.ThrowsAsync<ArgumentException>(() => _provider.LaunchAsync(Request("x") with { Command = "/bin/true" }, CancellationToken.None));
        var path = await Assert.ThrowsAsync<ArgumentException>(() => _provider.LaunchAsync(Request("x") with { Service = "../etc" }, CancellationToken.None));
        var id = await Assert.ThrowsAsync<ArgumentException>(() => _provider.LaunchAsync(Request("x", replicaId: 0), CancellationToken.None));

        Assert.Contains("exactly one of run", both.Message, StringComparison.Ordinal);
        Assert.Contains("'../etc'", path.Message, StringComparison.Ordinal);
        Assert.Contains("replica id", id.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LaunchAsync_CancelledToken_StartsNothing()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _provider.LaunchAsync(Request("sleep 600"), cts.Token)).WaitAsync(Deadline);

        Assert.False(File.Exists(Path.Combine(_home.Path, "logs", "svc", "1.log")));
    }

    [Fact]
    public async Task StopAsync_ShellWithChildren_StopsTheWholeGroupAndTwiceIsFine()
    {
        // No exec: the shell stays the parent of the server and of a background sleep, as a launcher script would.
        var handle = await LaunchAsync(Request(FakeRun(prefix: "sleep 600 & ") + "; echo server exited"));
        var server = await WaitHealthyAsync(handle.EndpointUrl).WaitAsync(Deadline);
        Assert.NotEqual(handle.Pid, server);

        await _provider.StopAsync(handle, TimeSpan.FromSeconds(20), CancellationToken.None).WaitAsync(Deadline);
        await _provider.StopAsync(handle, TimeSpan.FromSeconds(20), CancellationToken.None).WaitAsync(Deadline);

        Assert.False(IsAlive(handle.Pid!.Value));
        Assert.False(IsAlive(server));
        Assert.DoesNotContain(Process.GetProcesses(), p => IsInGroup(p.Id, handle.Pid!.Value));
        Assert.Equal(ProviderReplicaState.Exited, (await _provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline)).State);
    }

    [Fact]
    public async Task StopAsync_ProcessIgnoringSigterm_IsKilledAfterTheDrainTimeout()
    {
        // An ignored signal stays ignored across exec, so sleep ignores SIGTERM too.
        var handle = await LaunchAsync(Request("trap '' TERM; echo armed; sleep 600"));
        await WaitUntilAsync(async () => (await CollectAsync(_provider.GetLogsAsync(handle, 1, false, CancellationToken.None))).Contains("armed"), "the trap");

        await _provider.StopAsync(handle, TimeSpan.FromMilliseconds(300), CancellationToken.None).WaitAsync(Deadline);

        Assert.False(IsAlive(handle.Pid!.Value));
        Assert.Equal(ProviderReplicaStatus.Exited(137), await _provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline));
    }

    [Fact]
    public async Task StopAsync_CancelledWhileDraining_ThrowsAndLeavesTheReplica()
    {
        var handle = await LaunchAsync(Request("trap '' TERM; echo armed; sleep 600"));
        await WaitUntilAsync(async () => (await CollectAsync(_provider.GetLogsAsync(handle, 1, false, CancellationToken.None))).Contains("armed"), "the trap");
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _provider.StopAsync(handle, TimeSpan.FromHours(1), cts.Token)).WaitAsync(Deadline);

        Assert.Equal(ProviderReplicaState.Running, (await _provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline)).State);
    }

    [Fact]
    public async Task GetStatusAsync_LeaderSigkilled_ReportsExited()
    {
        var handle = await LaunchAsync(Request(FakeRun()));
        await WaitHealthyAsync(handle.EndpointUrl).WaitAsync(Deadline);

        using (var leader = Process.GetProcessById(handle.Pid!.Value))
        {
            leader.Kill();
        }

        await WaitUntilAsync(async () => (await _provider.GetStatusAsync(handle, CancellationToken.None)).State == ProviderReplicaState.Exited, "Exited");
        Assert.Equal(137, (await _provider.GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline)).ExitCode);

        // A provider that did not launch it (a restarted controller) sees the same, without an exit code.
        var other = await Create(_home.Path).GetStatusAsync(handle, CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal(ProviderReplicaStatus.Exited(null, $"process {handle.Pid} is gone"), other);
    }

    [Fact]
    public async Task AdoptAsync_LiveProcess_AcceptsAndThenControlsIt()
    {
        var handle = await LaunchAsync(Request(FakeRun()));
        await WaitHealthyAsync(handle.EndpointUrl).WaitAsync(Deadline);
        var restarted = Create(_home.Path);

        Assert.True(await restarted.AdoptAsync(ReplicaHandle.FromJson(handle.ToJson()), CancellationToken.None).WaitAsync(Deadline));
        Assert.Equal(handle, await restarted.LaunchAsync(Request(FakeRun()), CancellationToken.None).WaitAsync(Deadline));
        await restarted.StopAsync(handle, TimeSpan.FromSeconds(20), CancellationToken.None).WaitAsync(Deadline);

        Assert.False(IsAlive(handle.Pid!.Value));
        Assert.False(await restarted.AdoptAsync(handle, CancellationToken.None).WaitAsync(Deadline));
    }

    [Fact]
    public async Task AdoptAsync_DeadProcessOrDifferentStartTime_Rejects()
    {
        var handle = await LaunchAsync(Request("sleep 600"));
        var restarted = Create(_home.Path);

        Assert.False(await restarted.AdoptAsync(handle with { ProcessStartTime = handle.ProcessStartTime + 1 }, CancellationToken.None).WaitAsync(Deadline));
        Assert.False(await restarted.AdoptAsync(handle with { BootId = "another-boot" }, CancellationToken.None).WaitAsync(Deadline));
        Assert.Equal(ProviderReplicaState.Exited, (await restarted.GetStatusAsync(handle with { ProcessStartTime = 1 }, CancellationToken.None).WaitAsync(Deadline)).State);

        // Stopping through a handle whose pid belongs to someone else must not touch that process.
        await restarted.StopAsync(handle with { ProcessStartTime = 1 }, TimeSpan.Zero, CancellationToken.None).WaitAsync(Deadline);
        Assert.True(IsAlive(handle.Pid!.Value));

        await _provider.StopAsync(handle, TimeSpan.FromSeconds(10), CancellationToken.None).WaitAsync(Deadline);
        Assert.False(await restarted.AdoptAsync(handle, CancellationToken.None).WaitAsync(Deadline));
    }

    [Fact]
    public async Task Methods_HandleOfAnotherProvider_Throw()
    {
        var foreign = new ReplicaHandle { Provider = ProviderNames.Kubernetes, Service = "svc", ReplicaId = 1, EndpointUrl = "http://x", PodName = "p" };

        await Assert.ThrowsAsync<ArgumentException>(() => _provider.AdoptAsync(foreign, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => _provider.StopAsync(foreign, TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task GetLogsAsync_Tail_ReturnsTheLastLines()
    {
        var handle = await LaunchAsync(Request("for i in $(seq 1 5000); do echo line $i; done"));
        await WaitUntilAsync(async () => (await _provider.GetStatusAsync(handle, CancellationToken.None)).State == ProviderReplicaState.Exited, "the script to exit");

        var last3 = await CollectAsync(_provider.GetLogsAsync(handle, 3, false, CancellationToken.None)).WaitAsync(Deadline);
        var all = await CollectAsync(_provider.GetLogsAsync(handle, null, false, CancellationToken.None)).WaitAsync(Deadline);

        Assert.Equal(["line 4998", "line 4999", "line 5000"], last3);
        Assert.Equal(5001, all.Count); // the launch banner, then the script's lines
        Assert.StartsWith("--- wf: replica 1 of svc", all[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetLogsAsync_Follow_YieldsNewLinesUntilTheReplicaExits()
    {
        var gate = Path.Combine(_home.Path, "gate");
        var handle = await LaunchAsync(Request($"echo first; while [ ! -e '{gate}' ]; do sleep 0.05; done; echo second; printf partial"));
        var lines = new List<string>();

        await foreach (var line in _provider.GetLogsAsync(handle, null, true, CancellationToken.None))
        {
            lines.Add(line);
            if (line == "first")
            {
                // Only now let the script write more: the follow must pick it up.
                await File.WriteAllTextAsync(gate, "");
            }
        }

        Assert.Equal(["first", "second", "partial"], lines.Skip(1)); // after the launch banner
    }

    [Fact]
    public async Task GetLogsAsync_FollowCancelled_StopsWithCancellation()
    {
        var handle = await LaunchAsync(Request("echo hello; sleep 600"));
        using var cts = new CancellationTokenSource();
        var seen = new List<string>();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var line in _provider.GetLogsAsync(handle, 1, true, cts.Token))
            {
                seen.Add(line);
                await cts.CancelAsync();
            }
        }).WaitAsync(Deadline);

        Assert.Single(seen);
    }

    [Fact]
    public async Task GetLogsAsync_NoLogYet_YieldsNothing()
    {
        var handle = new ReplicaHandle { Provider = ProviderNames.Local, Service = "svc", ReplicaId = 9, EndpointUrl = "http://127.0.0.1:1", Pid = int.MaxValue };

        Assert.Empty(await CollectAsync(_provider.GetLogsAsync(handle, 10, true, CancellationToken.None)).WaitAsync(Deadline));
    }

    private static bool IsInGroup(int pid, int pgid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[2] == pgid.ToString(System.Globalization.CultureInfo.InvariantCulture) && fields[0] is not ("Z" or "X");
        }
        catch (IOException)
        {
            return false;
        }
    }

    private async Task<ReplicaHandle> LaunchAsync(ReplicaLaunchRequest request)
    {
        var handle = await _provider.LaunchAsync(request, CancellationToken.None).WaitAsync(Deadline);
        _launched.Add(handle);
        return handle;
    }
}
