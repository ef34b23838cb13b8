using WrinkleFree.Providers.Ssh.Pools;
using YamlDotNet.RepresentationModel;

namespace WrinkleFree.Cli.Export;

/// <summary>
/// The pools a service's ssh tiers use, copied from our <c>ssh_node_pools.yaml</c> into one <c>sky ssh up</c> reads: the
/// same entries as written, less our own keys (<c>proxy_jump</c>, <c>replicas_per_node</c>), which the header lists.
/// </summary>
public static class SkyPilotPoolsExport
{
    /// <summary>The file name SkyPilot reads under ~/.sky/.</summary>
    public const string FileName = SshNodePools.FileName;

    private static readonly Dictionary<string, string> OurKeys = new(StringComparer.Ordinal)
    {
        ["proxy_jump"] = "ours: SkyPilot's SSH node pools reach each host directly (set a ProxyJump in ~/.ssh/config instead)",
        ["replicas_per_node"] = "ours: SkyPilot sizes replicas by the task's resources:",
    };

    /// <summary>
    /// The pools named <paramref name="pools"/> from the file at <paramref name="path"/>; an unreadable file or a missing
    /// pool is a <see cref="SshPoolFileException"/> naming it and the pools there are.
    /// </summary>
    public static string Build(IReadOnlyList<string> pools, string path)
    {
        ArgumentNullException.ThrowIfNull(pools);
        var parsed = SshNodePools.Load(path);
        foreach (var pool in pools)
            _ = parsed.Get(pool);

        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(path)));
        var source = (YamlMappingNode)stream.Documents[0].RootNode;
        var root = new YamlMappingNode();
        var uncarried = new List<UncarriedKey>();
        foreach (var pool in pools)
        {
            var entry = source.Children[new YamlScalarNode(pool)];
            root.Add(SkyPilotYaml.Str(pool), Copy(entry, pool, uncarried));
        }

        List<string> header =
        [
            $"SSH node pools for `sky ssh up`, exported by `wf export skypilot` from {Path.GetFileName(path)}: {string.Join(", ", pools)}.",
            $"Copy to ~/.sky/{FileName} (merge by hand if you have one), then: sky ssh up",
        ];
        SkyPilotServiceExport.AppendUncarried(header, uncarried);
        return SkyPilotYaml.Render(header, root);
    }

    /// <summary>A copy of <paramref name="node"/> without our keys, at any depth (pool and host level).</summary>
    private static YamlNode Copy(YamlNode node, string path, List<UncarriedKey> uncarried)
    {
        switch (node)
        {
            case YamlMappingNode map:
                var copy = new YamlMappingNode();
                foreach (var (key, value) in map.Children)
                {
                    var name = key is YamlScalarNode { Value: { } text } ? text : key.ToString();
                    if (OurKeys.TryGetValue(name, out var why))
                    {
                        uncarried.Add(new UncarriedKey($"{path}.{name}", why));
                        continue;
                    }

                    copy.Add(key, Copy(value, $"{path}.{name}", uncarried));
                }

                return copy;
            case YamlSequenceNode list:
                return new YamlSequenceNode(list.Children.Select((item, i) => Copy(item, $"{path}[{i}]", uncarried)));
            default:
                return node;
        }
    }
}
