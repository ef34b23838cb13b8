using WrinkleFree.Providers.Ssh.Sessions;
using WrinkleFree.Testing.Ssh;

namespace WrinkleFree.Providers.Ssh.Tests.Sessions;

/// <summary>
/// Three nodes, each a real sshd in its own network namespace, and a bastion with one private node behind it, shared by
/// the session tests (started once, in parallel; torn down even when a test fails).
/// </summary>
public sealed class SshNodesFixture : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];

    public SshTestKeys Keys { get; private set; } = null!;

    public IReadOnlyList<SshdNode> Nodes { get; private set; } = [];

    public SshBastion Bastion { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (SshdRequirements.Missing is not null)
        {
            return;
        }

        Keys = await SshTestKeys.CreateAsync();
        var nodes = Enumerable.Range(0, 3).Select(_ => SshdNode.StartAsync(Keys)).ToList();
        var bastion = SshBastion.StartAsync(Keys);
        try
        {
            await Task.WhenAll([.. nodes, bastion]);
        }
        finally
        {
            // Whatever started is torn down at dispose, even when another start failed.
            _owned.AddRange(nodes.Where(t => t.IsCompletedSuccessfully).Select(t => (IAsyncDisposable)t.Result));
            if (bastion.IsCompletedSuccessfully)
            {
                _owned.Add(bastion.Result);
            }
        }

        Nodes = [.. nodes.Select(t => t.Result)];
        Bastion = bastion.Result;
    }

    /// <summary>Options for one test: a known_hosts file of its own holding <paramref name="knownHosts"/>, short timeouts.</summary>
    public SshConnectOptions Options(string folder, string knownHosts, bool acceptNew = false)
    {
        var known = Path.Combine(folder, "known_hosts");
        File.WriteAllText(known, knownHosts);
        return new SshConnectOptions
        {
            KnownHostsFiles = [known],
            AcceptedHostsFile = Path.Combine(folder, "wf-home", "ssh", "known_hosts"),
            AcceptNew = acceptNew,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            Retries = 2,
            RetryDelay = TimeSpan.FromMilliseconds(100),
            KeepAliveInterval = TimeSpan.FromSeconds(1),
        };
    }

    /// <summary>known_hosts lines for every node and the bastion's.</summary>
    public string AllKnownHosts => string.Join('\n', Nodes.Select(n => n.KnownHostsLine)) + "\n" + Bastion.KnownHostsLines;

    public async Task DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        Keys?.Dispose();
    }
}
