using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using WrinkleFree.Providers.Ssh.Nodes;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Ssh;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// <c>wf ssh up|check|down</c> against three real sshd nodes (network namespaces), as a user runs them: the first `up`
/// installs the serving wf and the model everywhere, the second sends nothing; `check` reports each node; `down` removes
/// it all; and an unknown host key, a wrong key, a node that does not answer and typos are errors naming the host and key.
/// Each node gets its own install root (the namespaces share this machine's filesystem). With WF_BENCH_SERVING_WF (a
/// published serving wf single file) and optionally WF_BENCH_MODEL, the first test is the `wf ssh up` benchmark of
/// docs/benchmarks.md, with OpenSSH's scp of the same files as its reference.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SshCommandsTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string Pool = "metal";
    private SshTestKeys _keys = null!;
    private readonly List<SshdNode> _nodes = [];
    private readonly TempDirectory _roots = new("wf-ssh-cli");

    public async Task InitializeAsync()
    {
        if (SshdRequirements.Missing is not null)
            return;
        _keys = await SshTestKeys.CreateAsync();
        for (var i = 0; i < 3; i++)
            _nodes.Add(await SshdNode.StartAsync(_keys, Pool));
        File.SetUnixFileMode(_roots.Path, (UnixFileMode)0x1FF);
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
        _keys?.Dispose();
        _roots.Dispose();
    }

    [SshdFact]
    public async Task UpTwiceCheckDown_ThreeRealNodes_SecondUpSendsNothing_CheckReportsEach_DownRemovesIt()
    {
        using var console = new InProcessConsole();
        WritePool(console.Home, _keys.PrivateKeyPath);
        WriteKnownHosts(console.Home);
        var (wf, model) = Payload(console.Home, Environment.GetEnvironmentVariable("WF_BENCH_SERVING_WF"));

        var clock = Stopwatch.StartNew();
        var code = await RunAsync(console, "ssh", "up", "--pool", Pool, "--wf", wf, "--model", model, "--json");
        var firstUp = clock.Elapsed;
        Assert.True(code == ExitCodes.Success, console.Stderr);
        var first = JsonDocument.Parse(console.Stdout).RootElement;
        Assert.Equal(3, first.GetArrayLength());
        var sha = await NodeInstaller.Sha256Async(model, CancellationToken.None);
        foreach (var node in first.EnumerateArray())
        {
            Assert.True(node.GetProperty("ok").GetBoolean(), node.ToString());
            Assert.Equal(["uploaded", "uploaded"], node.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("outcome").GetString()));
            Assert.Equal(sha, node.GetProperty("files")[1].GetProperty("sha256").GetString());
            Assert.Equal(await VersionOfAsync(wf), node.GetProperty("facts").GetProperty("wf_version").GetString());
        }

        // The node's copy is the model, byte for byte, under models/<sha256>.gguf of that node's root.
        var host = _nodes[1].Address.ToString();
        Assert.Equal(await File.ReadAllBytesAsync(model), await File.ReadAllBytesAsync(Path.Combine(RootOf(host), "models", sha + ".gguf")));

        clock.Restart();
        code = await RunAsync(console, "ssh", "up", "--pool", Pool, "--wf", wf, "--model", model, "--json");
        var secondUp = clock.Elapsed;
        Assert.True(code == ExitCodes.Success, console.Stderr);
        foreach (var node in JsonDocument.Parse(console.Stdout).RootElement.EnumerateArray())
        {
            Assert.All(node.GetProperty("files").EnumerateArray(), f =>
                Assert.Equal(("skipped", 0L), (f.GetProperty("outcome").GetString(), f.GetProperty("bytes_sent").GetInt64())));
        }

        output.WriteLine($"wf ssh up, 3 fresh nodes: {firstUp.TotalSeconds:0.00} s for {new FileInfo(wf).Length + new FileInfo(model).Length:N0} bytes per node; again (nothing to send): {secondUp.TotalSeconds:0.00} s");
        if (Environment.GetEnvironmentVariable("WF_BENCH_SERVING_WF") is not null)
            await ReferenceCopyAsync(wf, model, firstUp);

        code = await RunAsync(console, "ssh", "check", "--pool", Pool, "--cpus", "1", "--memory", "1", "--json");
        Assert.True(code == ExitCodes.Success, console.Stderr);
        var check = JsonDocument.Parse(console.Stdout).RootElement;
        Assert.Equal(_nodes.Select(n => $"{SshdNode.PasswordUser}@{n.Address}"), check.EnumerateArray().Select(n => n.GetProperty("node").GetString()));
        Assert.All(check.EnumerateArray(), n =>
        {
            Assert.True(n.GetProperty("reachable").GetBoolean());
            Assert.True(n.GetProperty("free_replicas").GetInt32() >= 1, n.ToString());
            Assert.True(n.GetProperty("facts").GetProperty("cores").GetInt32() >= 1);
            Assert.Empty(n.GetProperty("facts").GetProperty("replicas").EnumerateArray());
        });

        // The table a person reads names every node.
        code = await RunAsync(console, "ssh", "check", "--pool", Pool);
        Assert.True(code == ExitCodes.Success, console.Stderr);
        Assert.All(_nodes, n => Assert.Contains(n.Address.ToString(), console.Stdout, StringComparison.Ordinal));
        Assert.Contains(await VersionOfAsync(wf), console.Stdout, StringComparison.Ordinal);

        // One node gone: check still reports the others, names the lost one, and exits 1.
        await _nodes[2].LinkDownAsync();
        code = await RunAsync(console, "ssh", "check", "--pool", Pool, "--json");
        Assert.Equal(ExitCodes.Failure, code);
        var partial = JsonDocument.Parse(console.Stdout).RootElement;
        Assert.Equal([true, true, false], partial.EnumerateArray().Select(n => n.GetProperty("reachable").GetBoolean()));
        Assert.Contains(_nodes[2].Address.ToString(), console.Stderr, StringComparison.Ordinal);
        await _nodes[2].LinkUpAsync();

        code = await RunAsync(console, "ssh", "down", "--pool", Pool, "--json");
        Assert.True(code == ExitCodes.Success, console.Stderr);
        Assert.All(_nodes, n => Assert.False(File.Exists(Path.Combine(RootOf(n.Address.ToString()), "models", sha + ".gguf"))));
        Assert.All(_nodes, n => Assert.False(File.Exists(Path.Combine(RootOf(n.Address.ToString()), "bin", "wf"))));
    }

    [SshdFact]
    public async Task Up_UnknownHostKeyWrongKeyAndTypos_ErrorsNameHostAndKey_AcceptNewRecordsTheKeys()
    {
        using var console = new InProcessConsole();
        var (wf, model) = Payload(console.Home, null);
        using var other = await SshTestKeys.CreateAsync();
        var target = _nodes[0];

        // No known_hosts entry: refused, naming the host and how to accept it.
        WritePool(console.Home, _keys.PrivateKeyPath, onlyFirst: true);
        var code = await RunAsync(console, "ssh", "up", "--pool", Pool, "--wf", wf, "--model", model);
        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains(target.Address.ToString(), console.Stderr, StringComparison.Ordinal);
        Assert.Contains("--accept-new", console.Stderr, StringComparison.Ordinal);

        code = await RunAsync(console, "ssh", "up", "--pool", Pool, "--wf", wf, "--model", model, "--accept-new");
        Assert.True(code == ExitCodes.Success, console.Stderr);
        Assert.Contains(target.HostPublicKey.Split(' ')[1], await File.ReadAllTextAsync(Path.Combine(console.Home, "ssh", "known_hosts")), StringComparison.Ordinal);

        // A key the node does not accept: the error names the node and the key file.
        WritePool(console.Home, other.PrivateKeyPath, onlyFirst: true);
        code = await RunAsync(console, "ssh", "check", "--pool", Pool);
        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains(target.Address.ToString(), console.Stderr, StringComparison.Ordinal);
        Assert.Contains(other.PrivateKeyPath, console.Stderr, StringComparison.Ordinal);

        // A pool name that is not in the file, and a key that SkyPilot's format does not have.
        code = await RunAsync(console, "ssh", "check", "--pool", "metl");
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("'metl'", console.Stderr, StringComparison.Ordinal);
        Assert.Contains(Pool, console.Stderr, StringComparison.Ordinal);

        await File.WriteAllTextAsync(Path.Combine(console.Home, "ssh_node_pools.yaml"), $"{Pool}:\n  user: {SshdNode.PasswordUser}\n  identy_file: {_keys.PrivateKeyPath}\n  hosts:\n    - {target.Address}\n");
        code = await RunAsync(console, "ssh", "check", "--pool", Pool);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("identy_file", console.Stderr, StringComparison.Ordinal);
        Assert.Contains("line 3", console.Stderr, StringComparison.Ordinal);
    }

    private string RootOf(string host) => Path.Combine(_roots.Path, host);

    private async Task<int> RunAsync(InProcessConsole console, params string[] args)
    {
        console.Clear();
        var root = new RootCommand("wf");
        var home = console.Home;
        new SshCommands(
            console.Context,
            SshPoolLoader.For(home),
            acceptNew => new SshNetConnector(SshConnectOptions.ForHome(home, acceptNew) with { ConnectTimeout = TimeSpan.FromSeconds(3), Retries = 1 }, TimeProvider.System),
            new PoolSetupOptions { RootFor = n => RootOf(n.Host), DrainTimeout = TimeSpan.FromSeconds(2) }).Register(root);
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = console.Context.Out, Error = console.Context.Error });
    }

    private void WritePool(string home, string key, bool onlyFirst = false)
    {
        Directory.CreateDirectory(home);
        var hosts = onlyFirst ? _nodes.Take(1) : _nodes;
        File.WriteAllText(Path.Combine(home, "ssh_node_pools.yaml"),
            $"{Pool}:\n  user: {SshdNode.PasswordUser}\n  identity_file: {key}\n  hosts:\n" + string.Concat(hosts.Select(n => $"    - {n.Address}\n")));
    }

    private void WriteKnownHosts(string home)
    {
        Directory.CreateDirectory(Path.Combine(home, "ssh"));
        File.WriteAllText(Path.Combine(home, "ssh", "known_hosts"), string.Concat(_nodes.Select(n => n.KnownHostsLine + "\n")));
    }

    /// <summary>The serving wf to install (a stand-in printing a test version, unless a real single file is given) and the tiny model.</summary>
    private static (string Wf, string Model) Payload(string home, string? servingWf)
    {
        var model = servingWf is null ? null : Environment.GetEnvironmentVariable("WF_BENCH_MODEL");
        model ??= Path.Combine(RepositoryPaths.Root, "models", "wrinklefree-tiny.gguf");
        if (servingWf is not null)
            return (Path.GetFullPath(servingWf), model);
        Directory.CreateDirectory(home);
        var wf = Path.Combine(home, "wf-serving");
        File.WriteAllText(wf, "#!/bin/sh\n# Test stand-in for the serving wf single file.\n[ \"$1\" = --version ] && echo '0.0.0-test'\n");
        File.SetUnixFileMode(wf, (UnixFileMode)0x1ED);
        return (wf, model);
    }

    private static async Task<string> VersionOfAsync(string wf)
    {
        using var process = Process.Start(new ProcessStartInfo(wf, "--version") { RedirectStandardOutput = true })!;
        var version = (await process.StandardOutput.ReadToEndAsync()).Trim();
        await process.WaitForExitAsync();
        return version;
    }

    /// <summary>The same bytes copied by OpenSSH's scp to the same three nodes at once: the reference for the benchmark.</summary>
    private async Task ReferenceCopyAsync(string wf, string model, TimeSpan ours)
    {
        var known = Path.Combine(_roots.Path, "scp_known_hosts");
        await File.WriteAllTextAsync(known, string.Concat(_nodes.Select(n => n.KnownHostsLine + "\n")));
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(_nodes.Select(async n =>
        {
            var dest = Path.Combine(_roots.Path, "scp-" + n.Address);
            Directory.CreateDirectory(dest);
            File.SetUnixFileMode(dest, (UnixFileMode)0x1FF);
            var info = new ProcessStartInfo("scp") { RedirectStandardError = true };
            foreach (var a in (string[])["-q", "-i", _keys.PrivateKeyPath, "-o", "UserKnownHostsFile=" + known, "-o", "BatchMode=yes", wf, model, $"{SshdNode.PasswordUser}@{n.Address}:{dest}/"])
                info.ArgumentList.Add(a);
            using var scp = Process.Start(info)!;
            await scp.WaitForExitAsync();
            Assert.True(scp.ExitCode == 0, await scp.StandardError.ReadToEndAsync());
        }));
        output.WriteLine($"reference: scp of the same files to the 3 nodes in parallel: {clock.Elapsed.TotalSeconds:0.00} s; wf ssh up / scp = {ours / clock.Elapsed:0.00}");
    }
}
