using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Ssh;

namespace WrinkleFree.Providers.Ssh.Tests.Sessions;

/// <summary>
/// What a session does on a real node: command timeouts, resumable SFTP uploads checked with the node's sha256sum,
/// streamed output that stops (and kills the remote command) on cancel, forwarded ports, a dead link noticed by the
/// liveness probe, and all of it through a bastion to a node this machine cannot reach directly.
/// </summary>
[Collection(SshNodesCollection.Name)]
public sealed class SshNetSessionTests(SshNodesFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [SshdFact]
    public async Task RunAsync_PastTimeout_TimeoutExceptionNamesNodeAndCommand()
    {
        await using var session = await ConnectAsync(fixture.Nodes[0].Node);

        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => session.RunAsync("sleep 30", TimeSpan.FromMilliseconds(300), CancellationToken.None).WaitAsync(Deadline));

        Assert.Contains(session.Node.Name, error.Message, StringComparison.Ordinal);
        Assert.Contains("sleep 30", error.Message, StringComparison.Ordinal);
        Assert.Equal("ok\n", (await session.RunAsync("echo ok", Deadline, CancellationToken.None)).Stdout);
    }

    [SshdFact]
    public async Task UploadAsync_TwoPartsWithOffset_NodeHasSameSha256()
    {
        await using var session = await ConnectAsync(fixture.Nodes[0].Node);
        await UploadInTwoPartsAsync(session);
    }

    [SshdFact]
    public async Task Install_CorruptedOnTheNode_DetectedBySha256AndSentAgain_CorruptedEveryTime_ErrorNamesNodeAndHashes()
    {
        var data = new byte[700_000];
        Random.Shared.NextBytes(data);
        using var local = new TempDirectory("wf-ssh-corrupt");
        var file = Path.Combine(local.Path, "model.gguf");
        await File.WriteAllBytesAsync(file, data);
        var sha = Convert.ToHexStringLower(SHA256.HashData(data));
        var remote = $"/tmp/wf-ssh-corrupt-{Guid.NewGuid():N}/models/{sha}.gguf";
        try
        {
            await using var once = new Support.CorruptingSshSession(await ConnectAsync(fixture.Nodes[0].Node), corruptUploads: 1);
            var result = await NodeInstaller.InstallAsync(once, [new InstallItem(file, remote)], null, CancellationToken.None).WaitAsync(Deadline);

            Assert.Equal(2, once.Uploads);
            Assert.Equal((InstallOutcome.Uploaded, 2L * data.Length), (result[0].Outcome, result[0].BytesSent));
            Assert.Equal($"{sha}  {remote}\n", (await once.RunAsync($"sha256sum {remote}", Deadline, CancellationToken.None)).Stdout);

            var again = remote.Replace(".gguf", "-again.gguf", StringComparison.Ordinal);
            await using var always = new Support.CorruptingSshSession(await ConnectAsync(fixture.Nodes[0].Node), corruptUploads: 99);
            var error = await Assert.ThrowsAsync<SshNodeException>(
                () => NodeInstaller.InstallAsync(always, [new InstallItem(file, again)], null, CancellationToken.None).WaitAsync(Deadline));
            Assert.Equal(NodeInstaller.MaxAttempts, always.Uploads);
            Assert.StartsWith(fixture.Nodes[0].Node.Name + ": ", error.Message, StringComparison.Ordinal);
            Assert.Contains(again, error.Message, StringComparison.Ordinal);
            Assert.Contains(sha, error.Message, StringComparison.Ordinal);
            Assert.Null(await always.GetFileSizeAsync(again, CancellationToken.None));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(Path.GetDirectoryName(remote))!, recursive: true);
        }
    }

    [SshdFact]
    public async Task StreamLinesAsync_YieldsLinesAsPrinted_StopsAndKillsCommandOnCancel()
    {
        await using var session = await ConnectAsync(fixture.Nodes[0].Node);
        var marker = "wfstream" + Guid.NewGuid().ToString("N")[..12];
        using var cancel = new CancellationTokenSource();
        var lines = new List<string>();

        // The loop never ends by itself: the stream ends only because the token is cancelled.
        await foreach (var line in session.StreamLinesAsync($"i=0; while true; do echo {marker} $i; i=$((i+1)); sleep 0.1; done", cancel.Token).WithCancellation(CancellationToken.None))
        {
            lines.Add(line);
            if (lines.Count == 3)
            {
                await cancel.CancelAsync();
            }
        }

        Assert.Equal([$"{marker} 0", $"{marker} 1", $"{marker} 2"], lines.Take(3));
        // The remote loop is gone (the bracket keeps pgrep from matching its own command line).
        var pattern = $"{marker[..^1]}[{marker[^1]}]";
        await PollAsync(async () => (await session.RunAsync($"pgrep -f '{pattern}'", Deadline, CancellationToken.None)).ExitCode == 1,
            "the streamed command was killed");
    }

    [SshdFact]
    public async Task ForwardLocalPortAsync_ReachesListenerOnNodesLoopback()
    {
        var node = fixture.Nodes[0];
        await using var session = await ConnectAsync(node.Node);
        var port = await StartHttpServerAsync(node.Namespace, "127.0.0.1", 18080);

        var local = await session.ForwardLocalPortAsync("127.0.0.1", port, CancellationToken.None);

        await AssertServesAsync(local);
    }

    [SshdFact]
    public async Task IsConnected_LinkCut_TurnsFalse()
    {
        var node = fixture.Nodes[1];
        await using var session = await ConnectAsync(node.Node);
        Assert.True(session.IsConnected);
        await node.LinkDownAsync();
        try
        {
            await PollAsync(() => Task.FromResult(!session.IsConnected), "the liveness probe notices the cut link");
        }
        finally
        {
            await node.LinkUpAsync();
        }
    }

    [SshdFact]
    public async Task Bastion_CommandUploadAndForwardOnPrivateNode_WhichThisMachineCannotReach()
    {
        var target = fixture.Bastion.PrivateNodes[0];
        Assert.NotNull(target.Node.ProxyJump);

        // Directly, the private node does not answer: the bastion forwards nothing.
        using (var direct = new TcpClient())
        {
            using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await Assert.ThrowsAnyAsync<Exception>(() => direct.ConnectAsync(target.Address, 22, attempt.Token).AsTask());
        }

        await using var session = await ConnectAsync(target.Node);
        var address = await session.RunAsync("ip -4 -o addr show eth0", Deadline, CancellationToken.None);
        Assert.Contains(target.Address + "/24", address.Stdout, StringComparison.Ordinal);

        await UploadInTwoPartsAsync(session);

        var port = await StartHttpServerAsync(target.Namespace, target.Address.ToString(), 18081);
        await AssertServesAsync(await session.ForwardLocalPortAsync(target.Address.ToString(), port, CancellationToken.None));
    }

    [SshdFact]
    public async Task DisposeAsync_PrivateNodeSession_ClosesTheJumpConnectionToo()
    {
        var target = fixture.Bastion.PrivateNodes[0];
        var bastion = fixture.Bastion.Bastion;
        var session = await ConnectAsync(target.Node);
        Assert.Equal(0, (await session.RunAsync("true", Deadline, CancellationToken.None)).ExitCode);
        Assert.True(Count(bastion.Log, "Accepted publickey") > Count(bastion.Log, "Disconnected from user"));

        await session.DisposeAsync();

        // Every login the bastion accepted (this test's and earlier ones') has been closed by its client.
        await PollAsync(() => Task.FromResult(Count(bastion.Log, "Accepted publickey") == Count(bastion.Log, "Disconnected from user")),
            "the bastion sees the jump connection closed");
        Assert.False(session.IsConnected);
    }

    private static int Count(string log, string text) => log.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));

    [SshdFact]
    public async Task Bastion_UnknownPrivateHostKey_ErrorNamesPrivateNodeNotTunnel()
    {
        var target = fixture.Bastion.PrivateNodes[0];
        using var dir = new TempDirectory("wf-ssh-tests");
        // The bastion is known, the private node is not: its key is checked under its own name, not 127.0.0.1.
        var connector = new SshNetConnector(fixture.Options(dir.Path, fixture.Bastion.Bastion.KnownHostsLine + "\n"), TimeProvider.System);

        var error = await Assert.ThrowsAsync<SshNodeException>(() => connector.ConnectAsync(target.Node, CancellationToken.None).WaitAsync(Deadline));

        Assert.Contains($"host key of {target.Address} is not known", error.Message, StringComparison.Ordinal);
    }

    [SshdFact]
    public async Task Bastion_UnknownBastionKey_ErrorNamesPrivateNodeAndBastion()
    {
        var target = fixture.Bastion.PrivateNodes[0];
        using var dir = new TempDirectory("wf-ssh-tests");
        // The private node is known, the bastion is not: the jump host gets its own host-key check.
        var connector = new SshNetConnector(fixture.Options(dir.Path, target.KnownHostsLine + "\n"), TimeProvider.System);

        var error = await Assert.ThrowsAsync<SshNodeException>(() => connector.ConnectAsync(target.Node, CancellationToken.None).WaitAsync(Deadline));

        Assert.Equal(target.Node, error.Node);
        Assert.Contains("through its jump host", error.Message, StringComparison.Ordinal);
        Assert.Contains($"host key of {fixture.Bastion.Bastion.Address} is not known", error.Message, StringComparison.Ordinal);
    }

    private async Task<ISshSession> ConnectAsync(WrinkleFree.Providers.Ssh.Pools.SshNode node)
    {
        var dir = Path.Combine(fixture.Keys.Folder, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var connector = new SshNetConnector(fixture.Options(dir, fixture.AllKnownHosts), TimeProvider.System);
        return await connector.ConnectAsync(node, CancellationToken.None).WaitAsync(Deadline);
    }

    private static async Task UploadInTwoPartsAsync(ISshSession session)
    {
        var data = new byte[3 * 1024 * 1024 + 123];
        Random.Shared.NextBytes(data);
        var folder = $"/tmp/wf-ssh-upload-{Guid.NewGuid():N}";
        var remote = $"{folder}/models/model.gguf";
        try
        {
            Assert.Null(await session.GetFileSizeAsync(remote, CancellationToken.None));
            var split = 1024 * 1024 + 7;
            await session.UploadAsync(new MemoryStream(data, 0, split), remote, 0, null, CancellationToken.None).WaitAsync(Deadline);
            Assert.Equal(split, await session.GetFileSizeAsync(remote, CancellationToken.None));

            var reported = new List<long>();
            var rest = new MemoryStream(data) { Position = split };
            await session.UploadAsync(rest, remote, split, new SyncProgress(reported), CancellationToken.None).WaitAsync(Deadline);

            Assert.Equal(data.Length, await session.GetFileSizeAsync(remote, CancellationToken.None));
            Assert.Equal(data.Length, reported[^1]);
            Assert.True(reported[0] > split);
            var sum = await session.RunAsync($"sha256sum {remote}", Deadline, CancellationToken.None);
            Assert.StartsWith(Convert.ToHexStringLower(SHA256.HashData(data)) + " ", sum.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await session.RunAsync($"rm -rf {folder}", Deadline, CancellationToken.None);
        }
    }

    private static async Task<int> StartHttpServerAsync(NetworkNamespace ns, string bind, int port)
    {
        var root = Path.Combine(Path.GetTempPath(), "wf-ssh-http-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        await File.WriteAllTextAsync(Path.Combine(root, "index.html"), "served from the namespace");
        await ns.StartAsync("Serving HTTP", Deadline, "python3", "-u", "-m", "http.server", port.ToString(CultureInfo.InvariantCulture),
            "--bind", bind, "--directory", root);
        return port;
    }

    private static async Task AssertServesAsync(int localPort)
    {
        using var http = new HttpClient { Timeout = Deadline };
        var body = await http.GetStringAsync(new Uri($"http://127.0.0.1:{localPort}/index.html"));
        Assert.Equal("served from the namespace", body);
    }

    private static async Task PollAsync(Func<Task<bool>> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!await condition())
        {
            if (!await timer.WaitForNextTickAsync(CancellationToken.None) || timeout.IsCancellationRequested)
            {
                Assert.Fail($"not within {Deadline}: {what}");
            }
        }
    }

    /// <summary>Records progress synchronously (Progress&lt;T&gt; would post to the thread pool and race the asserts).</summary>
    private sealed class SyncProgress(List<long> values) : IProgress<long>
    {
        public void Report(long value)
        {
            lock (values)
            {
                values.Add(value);
            }
        }
    }
}
