using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Ssh;

namespace WrinkleFree.Providers.Ssh.Tests.Provider;

/// <summary>
/// A pool of real sshd nodes in network namespaces, written as an ssh_node_pools.yaml in a WF home, with their host keys
/// in its known_hosts. Each node has its own root folder (the namespaces share this machine's filesystem) holding a
/// `bin/wf` that runs the FakeUpstream replica on the HOST and PORT it is given, as the serving wf would run `wf replica`.
/// </summary>
internal sealed class SshPoolFixture : IAsyncDisposable
{
    public const string Pool = "metal";
    private static readonly string FakeDll = Path.Combine(AppContext.BaseDirectory, "WrinkleFree.FakeUpstream.dll");

    private readonly SshTestKeys _keys;
    private readonly TempDirectory _home = new("wf-ssh-provider");
    private readonly List<SshProvider> _providers = [];
    private readonly SshBastion? _bastion;

    private SshPoolFixture(SshTestKeys keys, IReadOnlyList<SshdNode> nodes, SshBastion? bastion = null)
    {
        _keys = keys;
        Nodes = nodes;
        _bastion = bastion;
    }

    public IReadOnlyList<SshdNode> Nodes { get; }

    public string Home => _home.Path;

    /// <param name="realWf">Nodes run the serving wf (`wf replica`, mutual TLS) instead of the FakeUpstream.</param>
    public static async Task<SshPoolFixture> StartAsync(int nodes, int? replicasPerNode = 1, bool realWf = false)
    {
        return await StartAsync(nodes, replicasPerNode, realWf, behindBastion: false);
    }

    /// <summary>The design's bastion layout: <paramref name="nodes"/> private nodes reachable only through a jump host.</summary>
    public static async Task<SshPoolFixture> StartBehindBastionAsync(int nodes) => await StartAsync(nodes, 1, realWf: false, behindBastion: true);

    private static async Task<SshPoolFixture> StartAsync(int nodes, int? replicasPerNode, bool realWf, bool behindBastion)
    {
        if (behindBastion)
        {
            var bastionKeys = await SshTestKeys.CreateAsync();
            try
            {
                var bastion = await SshBastion.StartAsync(bastionKeys, nodes, Pool);
                var behind = new SshPoolFixture(bastionKeys, bastion.PrivateNodes, bastion);
                behind.WritePool(replicasPerNode, realWf);
                return behind;
            }
            catch
            {
                bastionKeys.Dispose();
                throw;
            }
        }

        var keys = await SshTestKeys.CreateAsync();
        var started = new List<SshdNode>();
        try
        {
            for (var i = 0; i < nodes; i++)
                started.Add(await SshdNode.StartAsync(keys, Pool));
            var fixture = new SshPoolFixture(keys, started);
            fixture.WritePool(replicasPerNode, realWf);
            return fixture;
        }
        catch
        {
            foreach (var node in started)
                await node.DisposeAsync();
            keys.Dispose();
            throw;
        }
    }

    /// <summary>The folder a node keeps replicas and files in.</summary>
    public string RootOf(string host) => Path.Combine(Home, "nodes", host);

    /// <summary>
    /// A provider as a daemon of this home makes it (a new one is a restarted daemon). Connections give up after 2 s
    /// unless <paramref name="connectTimeout"/> says otherwise.
    /// </summary>
    public SshProvider NewProvider(ILoggerFactory? loggers = null, TimeSpan? connectTimeout = null)
    {
        var connect = SshConnectOptions.ForHome(Home) with { ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(2), Retries = 1, KeepAliveInterval = TimeSpan.FromSeconds(1) };
        var provider = new SshProvider(
            new ReplicaProviderContext(Home, TimeProvider.System, loggers ?? NullLoggerFactory.Instance),
            new SshNetConnector(connect, TimeProvider.System),
            new SshProviderOptions { NodeRoot = n => RootOf(n.Host), NodeCheckInterval = TimeSpan.FromMilliseconds(500), DrainTimeout = TimeSpan.FromSeconds(5) });
        _providers.Add(provider);
        return provider;
    }

    public static TierSpec Tier => new()
    {
        Name = "hetzner",
        Provider = TierProvider.Ssh,
        Settings = new Dictionary<string, object?> { ["pool"] = Pool },
    };

    public static ReplicaLaunchRequest Request(int id) => new()
    {
        Service = "svc",
        ReplicaId = id,
        Tier = "hetzner",
        Command = ServicePlan.WfCommand,
        Arguments = ["replica"],
        TierSettings = new Dictionary<string, object?> { ["pool"] = Pool },
    };

    /// <summary>A folder holding a `wf` that runs the serving build, for this machine's PATH (the local tier).</summary>
    public string LocalBin()
    {
        var bin = Directory.CreateDirectory(Path.Combine(Home, "local-bin")).FullName;
        WriteShim(Path.Combine(bin, "wf"), realWf: true);
        return bin;
    }

    private static void WriteShim(string wf, bool realWf)
    {
        File.WriteAllText(wf, realWf
            ? $"#!/bin/sh\n# Test stand-in for the installed serving wf single file: the built serving wf.\nexec dotnet {WfBuild.Serving.Dll} \"$@\"\n"
            : $$"""
                #!/bin/sh
                # Test stand-in for the serving wf: `wf --version`, and `wf replica` as the FakeUpstream on HOST:PORT.
                if [ "$1" = --version ]; then echo "wf 0.0.0-test"; exit 0; fi
                exec dotnet {{FakeDll}} --host "$HOST" --port "$PORT"

                """);
        File.SetUnixFileMode(wf, (UnixFileMode)0x1ED);
    }

    private void WritePool(int? replicasPerNode, bool realWf)
    {
        var yaml = $"{Pool}:\n  user: {SshdNode.PasswordUser}\n  identity_file: {_keys.PrivateKeyPath}\n"
            + (replicasPerNode is { } n ? $"  replicas_per_node: {n.ToString(CultureInfo.InvariantCulture)}\n" : "")
            + (_bastion is { } jump ? $"  proxy_jump: {SshdNode.PasswordUser}@{jump.Bastion.Address}\n" : "")
            + "  hosts:\n" + string.Concat(Nodes.Select(n => $"    - ip: {n.Address}\n"));
        File.WriteAllText(Path.Combine(Home, "ssh_node_pools.yaml"), yaml);
        Directory.CreateDirectory(Path.Combine(Home, "ssh"));
        File.WriteAllText(Path.Combine(Home, "ssh", "known_hosts"), _bastion?.KnownHostsLines ?? string.Concat(Nodes.Select(n => n.KnownHostsLine + "\n")));
        foreach (var node in Nodes)
        {
            var root = Directory.CreateDirectory(RootOf(node.Address.ToString())).FullName;
            var bin = Directory.CreateDirectory(Path.Combine(root, "bin")).FullName;
            // The nodes log in as the test user, who must own its node's folder.
            foreach (var folder in new[] { Path.Combine(Home, "nodes"), root, bin })
                File.SetUnixFileMode(folder, (UnixFileMode)0x1FF);
            WriteShim(Path.Combine(bin, "wf"), realWf);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
            await provider.DisposeAsync();
        // Whatever a test left running on the nodes goes with them: every supervisor under this home, with its replica.
        foreach (var pid in Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(d => d!.All(char.IsAsciiDigit)).Select(int.Parse!))
        {
            string cmdline;
            try
            {
                cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            }
            catch (IOException)
            {
                continue;
            }

            if (cmdline.Contains(Home, StringComparison.Ordinal) && pid != Environment.ProcessId)
            {
                try
                {
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill(entireProcessTree: true);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Gone already.
                }
            }
        }

        if (_bastion is not null)
            await _bastion.DisposeAsync();
        else
        {
            foreach (var node in Nodes)
                await node.DisposeAsync();
        }

        _keys.Dispose();
        _home.Dispose();
    }
}
