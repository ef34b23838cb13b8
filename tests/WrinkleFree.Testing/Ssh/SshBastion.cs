using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Testing.Ssh;

/// <summary>
/// The design's bastion layout: a bastion namespace reachable from this machine (an <see cref="SshdNode"/>), and private
/// node namespaces linked only to the bastion, each with its own sshd on its private address. The bastion does not
/// forward (ip_forward 0), and this machine routes the private subnets to the bastion so that a direct attempt stays on
/// the test's own links and dies there: the private nodes are reachable only by SSH through the bastion.
/// </summary>
public sealed class SshBastion : IAsyncDisposable
{
    private readonly List<SshdNode> _private = [];

    private SshBastion(SshdNode bastion) => Bastion = bastion;

    /// <summary>The jump host.</summary>
    public SshdNode Bastion { get; }

    /// <summary>The private nodes; their <see cref="SshdNode.Node"/> has the bastion as ProxyJump.</summary>
    public IReadOnlyList<SshdNode> PrivateNodes => _private;

    /// <summary>known_hosts lines for the bastion and every private node (under their private addresses).</summary>
    public string KnownHostsLines => string.Join('\n', [Bastion.KnownHostsLine, .. _private.Select(n => n.KnownHostsLine)]) + "\n";

    /// <summary>Starts the bastion and <paramref name="privateNodes"/> nodes behind it.</summary>
    public static async Task<SshBastion> StartAsync(SshTestKeys keys, int privateNodes = 1, string pool = "private")
    {
        var bastion = new SshBastion(await SshdNode.StartAsync(keys, pool));
        try
        {
            await bastion.Bastion.Namespace.ExecAsync("sysctl", "-q", "-w", "net.ipv4.ip_forward=0");
            var jump = bastion.Bastion.Node with { ProxyJump = null };
            for (var i = 0; i < privateNodes; i++)
            {
                var ns = await NetworkNamespace.CreateBehindAsync(bastion.Bastion.Namespace);
                try
                {
                    // Without this route a direct attempt would follow this machine's default route off the box.
                    await NetworkNamespace.RunAsync("ip", "route", "add", ns.Address(0) + "/24", "via", bastion.Bastion.Address.ToString());
                    bastion._private.Add(await SshdNode.StartInAsync(ns, ownsNamespace: true, keys, jump, pool));
                }
                catch
                {
                    await ns.DisposeAsync();
                    throw;
                }
            }

            return bastion;
        }
        catch
        {
            await bastion.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _private)
        {
            await node.DisposeAsync();
        }

        // Deleting the bastion's namespace removes its veth, and with it the routes through it.
        await Bastion.DisposeAsync();
    }
}
