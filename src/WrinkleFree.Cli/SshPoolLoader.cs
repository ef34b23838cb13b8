using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Cli;

/// <summary>The pools `wf ssh` works on: from $WF_HOME/ssh_node_pools.yaml, else ~/.sky/ssh_node_pools.yaml.</summary>
internal static class SshPoolLoader
{
    public static Func<string?, IReadOnlyList<(string Pool, IReadOnlyList<SshNode> Nodes, int? ReplicasPerNode)>> For(string home) => name =>
    {
        var path = SshNodePools.DefaultPath(home);
        if (!File.Exists(path))
        {
            throw new SshPoolFileException(path, "", 0, 0,
                $"no node pool file: write {Path.Combine(home, SshNodePools.FileName)} (or ~/.sky/{SshNodePools.FileName}) in SkyPilot's format, or run `wf ssh import-terraform OUTPUT.json --pool NAME`");
        }

        var pools = SshNodePools.Load(path);
        var chosen = name is null ? pools.Pools : [pools.Get(name)];
        return [.. chosen.Select(p => (p.Name, p.Nodes, p.ReplicasPerNode))];
    };
}
